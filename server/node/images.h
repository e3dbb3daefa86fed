/*
 * server/node/images.h: the catalog of built-in images.
 *
 * No registry is reachable on a lab machine, so an image reference is
 * matched by its repository name, regardless of registry and tag
 * ("gcr.io/google-samples/node-hello:1.0" → node-hello), against one table.
 * An entry is either implemented inside this binary (its main() runs in the
 * container after the node agent re-executes `labkube _image NAME ARGS...`
 * inside the pod's namespaces) or runs host programs (busybox, alpine, ...:
 * the container's command is looked up on the host).
 *
 * Command resolution is Kubernetes': container.command replaces the image's
 * entrypoint, container.args replaces its default arguments.
 */
#ifndef LK_IMAGES_H
#define LK_IMAGES_H

#include <stdbool.h>
#include <stdio.h>

struct image {
	const char *name;                /* catalog key, e.g. "node-hello" */
	const char *const *repos;        /* repository names matched, NULL-terminated */
	const char *desc;                /* one line for `labkube images` */
	int (*main)(int argc, char **argv);  /* built-in; NULL for host images */
	const char *const *entrypoint;   /* image ENTRYPOINT (NULL-terminated, may be NULL) */
	const char *const *cmd;          /* image CMD (NULL-terminated, may be NULL) */
};

/* The entry for an image reference, or NULL when it is not in the catalog. */
const struct image *image_lookup(const char *ref);
/* Names of every entry, comma-separated, for ErrImagePull messages. Static. */
const char *image_names(void);
/*
 * The argv to exec for a container: built-in images become
 * { "/proc/self/exe", "_image", NAME, args... }, host images the resolved
 * command itself (argv[0] searched on PATH by the caller's execvp).
 * Returns a NULL-terminated array the caller frees with image_argv_free,
 * or NULL with *why set (static text) when there is nothing to run.
 */
char **image_argv(const struct image *img, const char *const *command,
		  const char *const *args, const char **why);
void image_argv_free(char **argv);

/* Applets: `labkube _image NAME ARGS...` and `labkube images`. */
int image_exec_main(int argc, char **argv);
int images_cmd(int argc, char **argv);

#endif
