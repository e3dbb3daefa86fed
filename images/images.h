/*
 * images/images.h: the built-in images, the catalog the node agent pulls
 * from, and the rules for the programs that live in this folder.
 *
 * WHAT AN IMAGE IS HERE
 * No registry is reachable on a lab machine, so labkube pulls nothing: an
 * image reference names an entry of one table (the catalog, images.c). An
 * entry is one of two kinds:
 *   - a built-in: a program compiled into this binary (img_*.c) that runs
 *     as the container's process. The node agent execs
 *     `/proc/self/exe _image REF ARGV0 ARGS...` in the container, and
 *     image_exec_main() calls the entry's main() with the resolved argv;
 *   - host tools (busybox, alpine, debian, curl, dnsutils, ...): main is
 *     NULL and the resolved command is a host program, found on the
 *     container's PATH (the container's root is an overlay of the host's).
 *
 * Matching: the reference loses its digest ("@sha256:..."), then its tag
 * (a ':' after the last '/'), and its last path component is compared,
 * ignoring case, with the last path component of each entry's repos
 * ("luksa/kubia", "docker.io/wanstack/kubia:latest" and "kubia" all name
 * kubia; "nginx-ingress" does not name nginx). The repos strings are the
 * upstream repositories, shown by `labkube images`.
 *
 * Command resolution is Kubernetes': container.command replaces the image's
 * entrypoint, container.args replaces its default arguments (an empty
 * array counts as unset, as upstream). A built-in image runs main() only
 * when the resolved argv[0] is one of its programs (by base name: "node",
 * "/agnhost", "nginx", ...); any other command ("sh -c ...", "sleep 3600")
 * runs on the host, as it would run inside the real image. "$(VAR)"
 * expansion in command and args is the node agent's job, before calling in.
 *
 * HOW AN IMAGE IS REGISTERED
 * One line in catalog[] (images.c), a struct image below: the catalog
 * name, the upstream repositories it answers for, a line for `labkube
 * images`, main (NULL for host tools), the upstream ENTRYPOINT and CMD as
 * the real image declares them, the argv[0] base names main() answers,
 * and IMAGE_* flags. A new built-in is a file img_NAME.c (or a function
 * in the file of its family) with `int img_NAME_main(int argc, char
 * **argv)`, declared in img.h, plus that line; its tests go to
 * tests/unit/test_images.c (pure parts) and tests/e2e/t390-images.sh (the
 * program as a pod runs it). Nothing else in the tree changes.
 *
 * WHAT AN IMAGE PROGRAM MAY USE
 * libc, common/ (util, loop, json, err, ...), img.h (the shared kit: the
 * process skeleton, HTTP server and client, Go-style output and flags)
 * and its own files. Never the server's internals: no header under
 * server/, proxy/ or dns/ is included here, and no function of theirs is
 * called. A built-in runs in a freshly exec'd process, so none of the
 * server's state exists there; and the node agent reaches this folder
 * only through the functions below, so the dependency runs one way:
 * server/node -> images -> common.
 *
 * WHAT THE NODE AGENT GIVES A BUILT-IN (server/node/shim.c)
 *   - argv: as resolved above; argv[0] is the program ("/agnhost",
 *     "node"), img_ref()/img_version() give the reference and its tag;
 *   - env: the container's environment as the kubelet computes it (env,
 *     envFrom, service links, PATH, HOSTNAME = the pod name, HOME);
 *   - fds: 0 is /dev/null, 1 and 2 are pipes to the shim, which writes
 *     them to the container log (`kubectl logs`); rely on no other one;
 *   - namespaces: the pod's network, UTS and IPC namespaces (shared with
 *     its other containers), its own PID namespace (it is PID 1: it reaps
 *     children, and a signal it does not handle is ignored, so it must
 *     catch SIGTERM to stop gracefully; SIGKILL follows after the grace
 *     period) and its own mount namespace (overlay of the host's root,
 *     fresh /tmp, /run and /dev, the pod's /etc/hosts, /etc/resolv.conf,
 *     service-account token and volumes);
 *   - the working directory (workingDir, else "/"), the runtime's default
 *     capabilities (all when privileged), runAsUser/runAsGroup;
 *   - signals: image_exec_main() unblocks every signal and restores every
 *     default disposition before main() runs; stdout is line-buffered.
 *
 * Everything here is pure (no I/O) except the PATH lookups of host images
 * (busybox applets, curl's entrypoint) and the two applets. Any thread.
 */
#ifndef LK_IMAGES_H
#define LK_IMAGES_H

#include <stdbool.h>
#include <stdio.h>

/* struct image.flags: how host images rewrite their resolved command. */
enum {
	/* busybox, alpine: "busybox APPLET ..." runs APPLET from the host when
	 * the host has no busybox; an APPLET missing from the host runs as
	 * "busybox APPLET ..." when the host has busybox. */
	IMAGE_BUSYBOX = 1 << 0,
	/* curlimages/curl: its /entrypoint.sh runs curl when the first
	 * argument is an option or not a command on PATH. */
	IMAGE_CURL = 1 << 1,
};

struct image {
	const char *name;                /* catalog key, e.g. "node-hello" */
	const char *const *repos;        /* repository names matched, NULL-terminated */
	const char *desc;                /* one line for `labkube images` */
	int (*main)(int argc, char **argv);  /* built-in; NULL for host images */
	const char *const *entrypoint;   /* image ENTRYPOINT (NULL-terminated, may be NULL) */
	const char *const *cmd;          /* image CMD (NULL-terminated, may be NULL) */
	/* Added after the first cut (compatible): */
	const char *const *programs;     /* built-in: argv[0] base names main() answers */
	unsigned flags;                  /* IMAGE_* */
};

/* The entry for an image reference, or NULL when it is not in the catalog. */
const struct image *image_lookup(const char *ref);
/* Names of every entry, comma-separated, for ErrImagePull messages. Static. */
const char *image_names(void);
/* The tag of a reference ("1.0"), "latest" when it has none. Static buffer:
 * copy before the next call. */
const char *image_tag(const char *ref);
/*
 * The argv to exec for a container: built-in images become
 * { "/proc/self/exe", "_image", NAME, argv0, args... }, host images the
 * resolved command itself (argv[0] searched on PATH by the caller's execvp).
 * /proc/self/exe must still be labkube when the caller execs (exec it from
 * the forked node agent, not from a helper that exec'd something else).
 * Returns a NULL-terminated array the caller frees with image_argv_free,
 * or NULL with *why set (static text) when there is nothing to run.
 */
char **image_argv(const struct image *img, const char *const *command,
		  const char *const *args, const char **why);
/*
 * The same for a reference: looks it up, and puts the whole reference in
 * the NAME slot so a built-in sees its tag (hello-app:2.0 answers
 * "Version: 2.0.0", luksa/kubia:v2 is the book's v2). Prefer this one.
 * NULL with *why = "image not in catalog" for an unknown reference.
 */
char **image_ref_argv(const char *ref, const char *const *command,
		      const char *const *args, const char **why);
void image_argv_free(char **argv);

/*
 * Applets: `labkube _image NAME|REF [PROGRAM] ARGS...` and `labkube images`.
 * _image resets the signal mask and dispositions it inherited, then runs
 * the built-in. When the first argument is not one of the image's
 * programs, the arguments replace the image's CMD, as in `docker run IMAGE
 * ARGS` (`labkube _image agnhost netexec --http-port 8080`); none runs the
 * image's default command (`labkube _image node-hello`).
 */
int image_exec_main(int argc, char **argv);
int images_cmd(int argc, char **argv);


#endif
