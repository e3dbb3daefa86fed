/*
 * images/img_kubia.c: the apps of "Kubernetes in Action" (Marko
 * Lukša, github.com/luksa/kubernetes-in-action), Node http servers on 8080:
 *
 *   luksa/kubia (any owner), tags latest/v1   "You've hit POD\n"
 *   luksa/kubia:v2, :v4                       "This is v2 running in pod POD\n"
 *   luksa/kubia:v3                            500 from the 5th request on
 *   luksa/kubia-unhealthy                     500 after the 5th request
 *   luksa/kubia-pet                           POST stores /var/data/kubia.txt
 *
 * Each logs as its app.js does ("Received request from ::ffff:10.244.0.1").
 * Which app runs is chosen by repository and tag, one table.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "images/img.h"

#define KUBIA_DATA "/var/data/kubia.txt"

static unsigned requests;

static void node_text(struct http_resp *rs, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void node_text(struct http_resp *rs, int status, const char *fmt, ...)
{
	va_list ap;

	rs->status = status;
	rs->chunked = true; /* response.writeHead() then end(): chunked */
	va_start(ap, fmt);
	sb_vaddf(&rs->body, fmt, ap);
	va_end(ap);
}

static void kubia_v1(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	node_text(rs, 200, "You've hit %s\n", img_hostname());
}

static void kubia_vn(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	rs->chunked = true;
	http_printf(rs, "This is %s running in pod %s\n", img_version(),
		    img_hostname());
}

static void kubia_v3(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	if (++requests >= 5)
		node_text(rs, 500, "Some internal error has occurred! This is pod "
			  "%s\n", img_hostname());
	else
		node_text(rs, 200, "This is v3 running in pod %s\n", img_hostname());
}

static void kubia_unhealthy(const struct http_req *rq, struct http_resp *rs,
			    void *arg)
{
	if (++requests > 5)
		node_text(rs, 500, "%s", "I'm not well. Please restart me!");
	else
		node_text(rs, 200, "You've hit %s\n", img_hostname());
}

static void kubia_pet_post(const struct http_req *rq, struct http_resp *rs)
{
	FILE *f = fopen(KUBIA_DATA, "w");

	if (!f) {
		/* fs.createWriteStream's unhandled 'error' ends the process */
		fprintf(stderr, "events.js:160\n      throw er; // Unhandled 'error' "
			"event\n      ^\n\nError: %s, open '%s'\n",
			errno == ENOENT ? "ENOENT: no such file or directory"
					: strerror(errno), KUBIA_DATA);
		exit(1);
	}
	fwrite(rq->body, 1, rq->body_len, f);
	fclose(f);
	printf("New data has been received and stored.\n");
	node_text(rs, 200, "Data stored on pod %s\n", img_hostname());
}

static void kubia_pet(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	struct strbuf data = STRBUF_INIT;
	FILE *f;
	char buf[4096];
	size_t n;

	if (!strcmp(rq->method, "POST")) {
		kubia_pet_post(rq, rs);
		return;
	}
	if ((f = fopen(KUBIA_DATA, "r"))) {
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			sb_add(&data, buf, n);
		fclose(f);
	}
	rs->chunked = true;
	http_printf(rs, "You've hit %s\nData stored on this pod: %s\n",
		    img_hostname(), data.len ? data.buf : "No data posted yet");
	sb_release(&data);
}

static const struct kubia_app {
	const char *repo, *tag;  /* NULL: any */
	http_fn fn;
	bool quiet;              /* kubia-pet logs nothing per request */
} apps[] = {
	{ "kubia", "v2", kubia_vn, false },
	{ "kubia", "v3", kubia_v3, false },
	{ "kubia", "v4", kubia_vn, false },
	{ "kubia-unhealthy", NULL, kubia_unhealthy, false },
	{ "kubia-pet", NULL, kubia_pet, true },
	{ NULL, NULL, kubia_v1, false },
};

static const struct kubia_app *app;

static void kubia(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	if (!app->quiet)
		printf("Received request from %s\n", rq->peer_raw);
	app->fn(rq, rs, arg);
}

static const struct http_route kubia_routes[] = {
	{ "/", kubia, 0 },
	{ NULL, NULL, 0 },
};

static const struct http_conf kubia_conf = {
	.flavour = HTTP_NODE,
	.routes = kubia_routes,
};

int img_kubia_main(int argc, char **argv)
{
	for (app = apps; app->repo; app++)
		if (!strcasecmp(app->repo, img_repo()) &&
		    (!app->tag || !strcmp(app->tag, img_version())))
			break;
	if (!app->quiet)
		printf("Kubia server starting...\n");
	return img_http_main(NULL, 8080, &kubia_conf, NULL, NULL);
}
