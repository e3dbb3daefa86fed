/*
 * images/img.h: the kit every built-in image shares (images/img_*.c and
 * images.c only; the node agent uses images.h). See images.h for what an
 * image program may use and what it is given.
 *
 * A built-in runs alone in its own process (re-executed labkube),
 * single-threaded, on one common/loop; it may block where its upstream
 * blocks (a command's output, a dial), or run a slow HTTP handler in a
 * forked child (HTTP_FORK). Nothing here is used by the server process.
 *
 * Files: img_srv.c (loop, signals, sockets), img_http.c + img_http_util.c
 * (HTTP/1.1 server), img_files.c (static files), img_client.c (HTTP
 * client), img_util.c (Go-style output, flags); then one file per image
 * family (img_samples.c, img_kubia.c, img_nginx.c, img_httpd.c,
 * img_pause.c, img_agnhost.c, img_agnhost_srv.c, img_netexec.c).
 */
#ifndef LK_IMG_H
#define LK_IMG_H

#include "images/images.h"
#include <stdint.h>
#include <sys/socket.h>

#include "common/util.h"

struct loop;

/* -- the image being run (set by image_exec_main) ---------------------- */
const char *img_ref(void);      /* as given: "luksa/kubia:v2" */
const char *img_repo(void);     /* last path component: "kubia" */
const char *img_version(void);  /* the tag ("v2"), "latest" when none */
const char *img_hostname(void); /* gethostname(), cached: the pod name */
/* The version a tag names, for Server headers: "1.25.3" from "1.25.3-alpine",
 * "1.14.0" from "1.14-4", dflt when the tag is no version ("latest"). */
void img_tag_version(char *buf, size_t len, const char *dflt);
/* The first non-loopback IPv4 address (the pod IP), "127.0.0.1" if none. */
void img_pod_ip(char *buf, size_t len);

/* -- output in the upstream programs' formats -------------------------- */
/* Go's log package: "2006/01/02 15:04:05 msg\n" on stderr (UTC). */
void img_golog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* klog: "I0102 15:04:05.000000       1 file.go:42] msg\n" on stderr. */
void img_klog(char sev, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Go's %q of a string, %v of a float64, Duration.String(). */
void img_go_quote(struct strbuf *sb, const char *s);
void img_go_float(double v, char *buf, size_t len);
void img_go_duration(int64_t ns, char *buf, size_t len);
/* Go's time.Now().String(): "2006-01-02 15:04:05.123 +0000 UTC m=+1.5". */
void img_go_now(char *buf, size_t len);
/* Go's encoding/json string (escapes <, >, & as \u003c ...). */
void img_json_str(struct strbuf *sb, const char *s);
/* strerror() worded like Go's syscall errors ("no such file or directory"). */
const char *img_errstr(int err);
/* Run a host program in place of this one: execvp, or print the error as
 * a container runtime would and exit 127 (126 when not executable). */
void img_exec_host(char **argv) __attribute__((noreturn));

/* -- flags: cobra/pflag (--name, -n, interleaved positionals) or Go's
 *    flag package (-name or --name, stops at the first positional) ------ */
enum img_flag_type { IMG_STR, IMG_INT, IMG_BOOL, IMG_DUR };
struct img_flag {
	const char *name;       /* NULL ends the table */
	char shorthand;         /* pflag only; 0 for none */
	enum img_flag_type type;
	void *ptr;              /* const char **, int *, bool *, int64_t * (ns) */
};
enum { IMG_FLAGS_GO = 1 };
/* Parses argv[0..argc); the positionals end up in argv[0..n), n returned.
 * -1 after printing the upstream-worded error on stderr. klog's flags
 * (--v, --logtostderr, ...) are accepted and ignored in pflag mode. */
int img_flags(const struct img_flag *fl, int argc, char **argv, unsigned mode);
/* Go's time.ParseDuration; -1 on error. */
int img_parse_duration(const char *s, int64_t *ns);

/* -- the process: a loop, its signals, its sockets --------------------- */
struct img_srv;
/* What a signal does: return the exit code, or -1 to keep running. The
 * default handler exits 0 on SIGTERM, SIGINT and SIGQUIT. SIGCHLD always
 * reaps children. */
typedef int (*img_signal_fn)(struct img_srv *s, int sig, void *arg);
/* Blocks TERM, INT, QUIT, CHLD (and `extra`, 0 for none) into a signalfd. */
struct img_srv *img_srv_new(int extra_signal);
struct loop *img_srv_loop(struct img_srv *s);
void img_srv_on_signal(struct img_srv *s, img_signal_fn fn, void *arg);
int img_srv_run(struct img_srv *s);            /* the exit code */
void img_srv_exit(struct img_srv *s, int code); /* leave img_srv_run */
/* Frees what it owns (img_srv_own, listeners, HTTP servers and their
 * connections), newest first, then the loop. */
void img_srv_free(struct img_srv *s);
/* Have s free p with fn when it is freed (for memory a handler borrows). */
void img_srv_own(struct img_srv *s, void *p, void (*fn)(void *));

/* A bound socket (listening for SOCK_STREAM), dual-stack [::] when host is
 * NULL or "" (IPv4 0.0.0.0 when the kernel has no IPv6); -1 with errno. */
int img_listen(int type, const char *host, int port);
/* "10.0.0.1" and the port of an address; v4-mapped IPv6 unmapped unless
 * raw ("::ffff:10.0.0.1", what Node shows). ip >= 64 bytes. */
void img_addr(const struct sockaddr *sa, char *ip, int *port, bool raw);
/* Go's RemoteAddr: "10.0.0.1:1234", "[::1]:1234". buf >= 72 bytes. */
void img_hostport(const struct sockaddr *sa, char *buf);

typedef void (*img_udp_fn)(int fd, const char *msg, size_t len,
			   const struct sockaddr *peer, socklen_t plen, void *arg);
int img_srv_udp(struct img_srv *s, const char *host, int port, img_udp_fn fn,
		void *arg);
/* Raw TCP: fn gets each accepted (blocking) socket and closes it. */
typedef void (*img_accept_fn)(int fd, const struct sockaddr *peer, void *arg);
int img_srv_tcp(struct img_srv *s, const char *host, int port, img_accept_fn fn,
		void *arg);

/* -- HTTP/1.1 servers (img_http.c) -------------------------------------- */
struct http_hdr {
	const char *name, *value;
};
struct http_req {
	const char *method;     /* "GET" */
	const char *target;     /* as sent: "/echo?msg=a%20b" */
	const char *path;       /* decoded: "/echo" */
	const char *query;      /* raw, after '?'; "" when none */
	const char *proto;      /* "HTTP/1.1" */
	const char *host;       /* Host header, "" when none */
	const struct http_hdr *hdrs;
	int nhdrs;
	const char *body;       /* decoded (chunked or not), NUL-terminated */
	size_t body_len;
	const char *peer_ip;    /* "10.0.0.1" */
	const char *peer_raw;   /* "::ffff:10.0.0.1" on a dual-stack socket */
	const char *peer;       /* "10.0.0.1:1234" (Go's RemoteAddr) */
	int peer_port;
	int local_port;
	uint64_t start_us;      /* when the request was complete */
};
struct http_resp {
	int status;             /* 200 unless set */
	const char *ctype;      /* Content-Type; NULL: Go sniffs or none */
	struct strbuf hdrs;     /* extra "Name: value\r\n" lines */
	struct strbuf body;
	bool chunked;           /* Transfer-Encoding: chunked (Node's writeHead) */
	bool close;             /* Connection: close after this response */
	bool head_only;         /* set by the server for HEAD */
	const char *reason;     /* status line text; NULL: the standard one */
};
enum http_flavour { HTTP_GO, HTTP_NODE, HTTP_NGINX, HTTP_APACHE };
typedef void (*http_fn)(const struct http_req *rq, struct http_resp *rs,
			void *arg);
enum { HTTP_FORK = 1 };  /* run in a child process; the connection closes */
/* Go's ServeMux: an exact path, or a subtree when it ends in '/' ("/"
 * matches everything); the longest match wins. NULL path ends the table. */
struct http_route {
	const char *path;
	http_fn fn;
	unsigned flags;
};
struct http_conf {
	enum http_flavour flavour;
	const char *server;     /* Server header, NULL for none */
	const struct http_route *routes;
	/* Called after each response (access logs); NULL for none. */
	void (*log)(const struct http_req *rq, const struct http_resp *rs, void *arg);
	void *arg;              /* passed to handlers and log */
	int idle_sec;           /* keep-alive idle timeout; 0: 120 s */
};
/* Serve HTTP on host:port; conf is borrowed and must outlive s. */
int img_srv_http(struct img_srv *s, const char *host, int port,
		 const struct http_conf *conf);
/* img_srv_new + img_srv_http + img_srv_run: the exit code. When the port
 * cannot be bound, says so as the flavour's server does (Go's log.Fatal,
 * Node's EADDRINUSE, nginx's [emerg], Apache's AH00072) and returns 1. */
int img_http_main(const char *host, int port, const struct http_conf *conf,
		  img_signal_fn on_signal, void *arg);
/* The route of a table a path selects (Go's ServeMux), NULL for none. */
const struct http_route *http_route_find(const struct http_route *r,
					 const char *path);
const char *http_header(const struct http_req *rq, const char *name);
/* Go's FormValue: the first value of key in the query, then in an
 * urlencoded body; NULL when absent. Caller frees. */
char *http_form(const struct http_req *rq, const char *key);
char *http_unescape(const char *s, size_t len, bool plus_is_space);
void http_header_add(struct http_resp *rs, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void http_printf(struct http_resp *rs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *http_reason(int status);
/* Go's http.Redirect and http.Error. */
void http_go_redirect(const struct http_req *rq, struct http_resp *rs,
		      const char *url, int code);
void http_go_error(struct http_resp *rs, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "Mon, 02 Jan 2006 15:04:05 GMT"; buf >= 32. */
void http_date(time_t t, char *buf);
/* Access log lines on stdout: nginx's "main" and Apache's "common". */
void http_log_nginx(const struct http_req *rq, const struct http_resp *rs, void *arg);
void http_log_apache(const struct http_req *rq, const struct http_resp *rs, void *arg);

/* Static files under root (img_files.c): the file, an index file of a
 * directory, or (HTTP_GO) a directory listing. 0 when answered: 200 with
 * the body, or a status >= 300 with an empty body (301 to "dir/", 403)
 * that the caller dresses in its server's error page; -1 when the path
 * names nothing. */
int http_serve_file(const struct http_req *rq, struct http_resp *rs,
		    const char *root, const char *index, enum http_flavour f);
/* "text/html" for "a.html", "application/octet-stream" when unknown. */
const char *http_mime(const char *path);
/* A blocking HTTP GET of http://HOSTPORT/PATH (Go's client, as netexec's
 * /dial uses it, img_client.c): 0 and the body whatever the status, or -1
 * and an error worded like Go's ("Get \"URL\": dial tcp ...: connect:
 * connection refused"). */
int http_get(const struct sockaddr *sa, socklen_t salen, const char *hostport,
	     const char *path, int timeout_ms, struct strbuf *body,
	     struct strbuf *err);

/* -- the built-ins (one file per family) ------------------------------- */
int img_node_hello_main(int argc, char **argv);
int img_hello_app_main(int argc, char **argv);
int img_kubia_main(int argc, char **argv);
int img_k8sbook_main(int argc, char **argv);
int img_http_echo_main(int argc, char **argv);
int img_nginx_main(int argc, char **argv);
int img_httpd_main(int argc, char **argv);
int img_pause_main(int argc, char **argv);
int img_agnhost_main(int argc, char **argv);
/* agnhost subcommands in their own files: argv[0] is the program
 * ("/agnhost"), argv[1] the subcommand, its flags follow. */
int img_agn_netexec(int argc, char **argv);
int img_agn_liveness(int argc, char **argv);
int img_agn_porter(int argc, char **argv);
int img_agn_serve_hostname(int argc, char **argv);
int img_agn_test_webserver(int argc, char **argv);
/* Parse an agnhost subcommand's flags (argv[2..]); the positionals in
 * pos[0..n), n returned; -1 after cobra's error (exit 1). */
int img_agn_flags(const struct img_flag *fl, int argc, char **argv, char ***pos);

#endif
