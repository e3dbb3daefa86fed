/*
 * server/node/images.c: the catalog of built-in images. Placeholder until
 * issue 3 fills it: the catalog is empty.
 */
#include <stdio.h>
#include <stdlib.h>

#include "server/node/images.h"

const struct image *image_lookup(const char *ref)
{
	return NULL;
}

const char *image_names(void)
{
	return "";
}

char **image_argv(const struct image *img, const char *const *command,
		  const char *const *args, const char **why)
{
	*why = "no built-in images yet";
	return NULL;
}

void image_argv_free(char **argv)
{
	free(argv);
}

int image_exec_main(int argc, char **argv)
{
	fprintf(stderr, "labkube _image: no built-in images yet\n");
	return 127;
}

int images_cmd(int argc, char **argv)
{
	return 0;
}
