/* http: -l: the Prometheus metrics over HTTP/1.1 at /metrics. */
#include <sys/socket.h>
#include <sys/uio.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "esc.h"
#include "evloop.h"
#include "http1.h"
#include "lb-stat.h"
#include "log.h"
#include "sock.h"

#define HTTP_MAXCONN	128		/* more are accepted and closed */
#define HTTP_BUFSZ	8192		/* a request head must fit */
#define HTTP_NHDR	64
#define HTTP_TIMEOUT	10000		/* ms for a request, or a write's progress */
#define HTTP_LINGER	2000		/* ms to drain a client after our close */
#define HTTP_PAUSE	100		/* ms: out of descriptors, accept again after */
#define HTTP_PAUSE_LOG	60000		/* ms: at most one line about it so often */

struct conn {
	int		 c_fd;
	char		 c_in[HTTP_BUFSZ];
	size_t		 c_inlen;
	char		 c_head[512];
	size_t		 c_headlen;
	char		*c_body;
	size_t		 c_bodylen;
	size_t		 c_off;			/* of head and body, written */
	int		 c_writing;
	int		 c_close;		/* after this response */
	int		 c_draining;		/* closed our side, reading to EOF */
	struct evtimer	 c_timer;
};

struct server {
	const char	*s_name;		/* NULL: every table */
	struct src	 s_src;
	int		 s_have;		/* s_src is attached */
	struct promset	 s_ps;
	int		 s_nconn;
	struct evloop	*s_ev;
	int		 s_lfd;			/* the listener */
	int		 s_paused;		/* out of descriptors: s_pause armed */
	uint64_t	 s_pause_log;		/* when we last said so, 0: never */
	struct evtimer	 s_pause;
};

static struct server	 S;

static void	http_accept(struct evloop *, int, int, void *);

static const char *
reason(int status)
{
	switch (status) {
	case 200: return ("OK");
	case 400: return ("Bad Request");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 414: return ("URI Too Long");
	case 431: return ("Request Header Fields Too Large");
	case 503: return ("Service Unavailable");
	case 505: return ("HTTP Version Not Supported");
	default: return ("Error");
	}
}

static void
accept_again(struct evloop *ev, void *arg)
{
	(void)arg;
	S.s_paused = 0;
	http_accept(ev, S.s_lfd, EVLOOP_READ, NULL);
}

static void
conn_close(struct conn *c)
{
	evtimer_cancel(S.s_ev, &c->c_timer);
	evloop_del(S.s_ev, c->c_fd);
	close(c->c_fd);
	free(c->c_body);
	free(c);
	S.s_nconn--;
	/* A descriptor came free: the clients waiting go first. */
	if (S.s_paused)
		evtimer_set(S.s_ev, &S.s_pause, 0, accept_again, NULL);
}

static void
conn_timeout(struct evloop *ev, void *arg)
{
	(void)ev;
	conn_close(arg);
}

/* Queue a response; body is taken (freed with the connection). */
static void
respond(struct conn *c, int status, const char *ctype, char *body,
    size_t blen, int head_only, const char *extra)
{
	struct tm	 tm;
	time_t		 now = time(NULL);
	char		 date[64];
	int		 n;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	n = snprintf(c->c_head, sizeof(c->c_head), "HTTP/1.1 %d %s\r\n"
	    "Date: %s\r\nServer: lb-stat\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%sConnection: %s\r\n\r\n", status,
	    reason(status), date, ctype, blen, extra ? extra : "",
	    c->c_close ? "close" : "keep-alive");
	c->c_headlen = n > 0 && (size_t)n < sizeof(c->c_head) ? (size_t)n : 0;
	free(c->c_body);
	c->c_body = body;
	c->c_bodylen = head_only ? 0 : blen;
	c->c_off = 0;
	c->c_writing = 1;
	evtimer_set(S.s_ev, &c->c_timer, HTTP_TIMEOUT, conn_timeout, c);
}

static void
respond_error(struct conn *c, int status, const char *why)
{
	char	*body = NULL;
	int	 n;

	c->c_close = 1;
	if ((n = asprintf(&body, "lb-stat: %s\n", why)) == -1) {
		body = NULL;
		n = 0;
	}
	respond(c, status, "text/plain; charset=utf-8", body, (size_t)n, 0,
	    status == 405 ? "Allow: GET, HEAD\r\n" : NULL);
}

/* The table's metrics now, or NULL with the reason in err. */
static char *
metrics(size_t *len, char *err, size_t errlen)
{
	FILE		*fp;
	char		*buf = NULL;

	promset_clear(&S.s_ps);
	if (S.s_name == NULL) {
		/* Every table: those that cannot be read are said once. */
		if (prom_all(&S.s_ps, 1) == -1) {
			snprintf(err, errlen, "/dev/shm: %s", strerror(errno));
			return (NULL);
		}
		goto print;
	}
	if (S.s_have) {
		switch (src_refresh(&S.s_src, 1, err, errlen)) {
		case SRC_GONE:
			log_warnx("table %s: %s", esc_arg(S.s_name),
			    esc_arg(err));
			S.s_have = 0;
			break;
		case SRC_NEW:
			log_warnx("table %s was made anew, with %u slots",
			    esc_arg(S.s_name), table_capacity(S.s_src.sr_t));
			break;
		case SRC_SAME:
			break;
		}
	}
	if (!S.s_have) {
		if (src_open(&S.s_src, S.s_name, err, errlen) == -1)
			return (NULL);
		log_warnx("table %s is back", esc_arg(S.s_name));
		S.s_have = 1;
	}
	if (promset_add(&S.s_ps, S.s_src.sr_t, &S.s_src.sr_snap) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (NULL);
	}
 print:
	if ((fp = open_memstream(&buf, len)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (NULL);
	}
	print_prom(fp, &S.s_ps);
	if (fclose(fp) == EOF) {
		free(buf);
		snprintf(err, errlen, "%s", strerror(errno));
		return (NULL);
	}
	return (buf);
}

static void
serve(struct conn *c, const struct http1_req *req)
{
	char		*body, e[256];
	size_t		 len, plen;
	int		 head;

	plen = req->rq_targetlen;
	if (memchr(req->rq_target, '?', plen) != NULL)
		plen = (size_t)((const char *)memchr(req->rq_target, '?',
		    plen) - req->rq_target);
	if (plen != 8 || memcmp(req->rq_target, "/metrics", 8) != 0) {
		respond_error(c, 404, "no such page: the metrics are at "
		    "/metrics");
		return;
	}
	head = req->rq_methodlen == 4 && memcmp(req->rq_method, "HEAD", 4) ==
	    0;
	if (!head && !(req->rq_methodlen == 3 &&
	    memcmp(req->rq_method, "GET", 3) == 0)) {
		respond_error(c, 405, "only GET and HEAD");
		return;
	}
	if ((body = metrics(&len, e, sizeof(e))) == NULL) {
		char	 why[512];

		if (S.s_name != NULL)
			snprintf(why, sizeof(why), "table %s: %s", S.s_name,
			    e);
		else
			snprintf(why, sizeof(why), "%s", e);
		respond_error(c, 503, why);
		return;
	}
	respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", body,
	    len, head, NULL);
}

static void conn_read(struct conn *);

/*
 * Read and drop what the client still sends after our last response,
 * until it closes or HTTP_LINGER passes: closing with unread bytes
 * would reset the connection and could destroy the response in flight.
 */
static void
conn_drain(struct conn *c)
{
	char	 buf[4096];
	ssize_t	 n;

	for (;;) {
		n = read(c->c_fd, buf, sizeof(buf));
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		conn_close(c);
		return;
	}
}

static void
conn_write(struct conn *c)
{
	struct iovec	 iov[2];
	struct msghdr	 m;
	ssize_t		 n;
	size_t		 total = c->c_headlen + c->c_bodylen;

	while (c->c_off < total) {
		memset(&m, 0, sizeof(m));
		if (c->c_off < c->c_headlen) {
			iov[0].iov_base = c->c_head + c->c_off;
			iov[0].iov_len = c->c_headlen - c->c_off;
			iov[1].iov_base = c->c_body;
			iov[1].iov_len = c->c_bodylen;
			m.msg_iovlen = 2;
		} else {
			iov[0].iov_base = c->c_body + (c->c_off -
			    c->c_headlen);
			iov[0].iov_len = total - c->c_off;
			m.msg_iovlen = 1;
		}
		m.msg_iov = iov;
		if ((n = sendmsg(c->c_fd, &m, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			conn_close(c);
			return;
		}
		c->c_off += (size_t)n;
		evtimer_set(S.s_ev, &c->c_timer, HTTP_TIMEOUT, conn_timeout, c);
	}
	free(c->c_body);
	c->c_body = NULL;
	c->c_writing = 0;
	if (c->c_close) {
		c->c_draining = 1;
		shutdown(c->c_fd, SHUT_WR);
		evtimer_set(S.s_ev, &c->c_timer, HTTP_LINGER, conn_timeout, c);
		conn_drain(c);
		return;
	}
	evtimer_set(S.s_ev, &c->c_timer, HTTP_TIMEOUT, conn_timeout, c);
	conn_read(c);		/* a pipelined request may wait */
}

static void
conn_read(struct conn *c)
{
	struct http1_header hdr[HTTP_NHDR];
	struct http1_req req;
	ssize_t		 n;
	int		 rc, eof = 0;

	while (c->c_inlen < sizeof(c->c_in)) {
		n = read(c->c_fd, c->c_in + c->c_inlen, sizeof(c->c_in) -
		    c->c_inlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			eof = 1;
			break;
		}
		c->c_inlen += (size_t)n;
	}
	if (c->c_inlen == 0 && eof) {
		conn_close(c);
		return;
	}
	req.rq_hdr = hdr;
	req.rq_nhdr = HTTP_NHDR;
	rc = http1_parse_request(c->c_in, c->c_inlen, &req);
	if (rc == -2) {
		if (eof) {
			conn_close(c);
			return;
		}
		if (c->c_inlen < sizeof(c->c_in))
			return;
		/* Full, and still no end: the line or the fields are too long. */
		if (memmem(c->c_in, c->c_inlen, "\r\n", 2) == NULL)
			respond_error(c, 414, "request line too long");
		else
			respond_error(c, 431, "request header fields too "
			    "large");
	} else if (rc == -1) {
		respond_error(c, http1_error_status(req.rq_error),
		    http1_error_str(req.rq_error));
	} else {
		/* A body would need reading: answer, then close instead. */
		c->c_close = eof || (req.rq_flags & (HTTP1_CLOSE |
		    HTTP1_CHUNKED)) || req.rq_clen > 0;
		serve(c, &req);
		memmove(c->c_in, c->c_in + rc, c->c_inlen - (size_t)rc);
		c->c_inlen -= (size_t)rc;
	}
	conn_write(c);
}

static void
conn_io(struct evloop *ev, int fd, int what, void *arg)
{
	struct conn	*c = arg;

	(void)ev;
	(void)fd;
	(void)what;
	if (c->c_draining)
		conn_drain(c);
	else if (c->c_writing)
		conn_write(c);
	else
		conn_read(c);
}

static void
http_accept(struct evloop *ev, int lfd, int what, void *arg)
{
	struct conn	*c;
	int		 fd;

	(void)what;
	(void)arg;
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/*
				 * Edge-triggered: the clients left in the
				 * backlog bring no new event.  Look again
				 * soon, or when a connection closes.
				 */
				if (S.s_pause_log == 0 || evloop_now(ev) -
				    S.s_pause_log >= HTTP_PAUSE_LOG) {
					log_warnx("accept: %s: waiting for a "
					    "descriptor", strerror(errno));
					S.s_pause_log = evloop_now(ev);
				}
				S.s_paused = 1;
				evtimer_set(ev, &S.s_pause, HTTP_PAUSE,
				    accept_again, NULL);
				return;
			}
			if (errno != EAGAIN)
				log_warn("accept");
			return;
		}
		if (S.s_paused) {
			evtimer_cancel(ev, &S.s_pause);
			S.s_paused = 0;
		}
		if (S.s_nconn >= HTTP_MAXCONN ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->c_fd = fd;
		if (evloop_add(ev, fd, EVLOOP_READ | EVLOOP_WRITE, conn_io,
		    c) == -1) {
			log_warn("evloop_add");
			close(fd);
			free(c);
			continue;
		}
		S.s_nconn++;
		evtimer_set(ev, &c->c_timer, HTTP_TIMEOUT, conn_timeout, c);
	}
}

int
http_serve(const char *name, const char *spec, int print_addr)
{
	static const int sigs[] = { SIGINT, SIGTERM };
	struct addr	 a;
	char		 e[256], buf[ADDR_STRLEN];
	int		 fd;

	memset(&S, 0, sizeof(S));
	S.s_name = name;
	if (addr_resolve(spec, ADDR_PASSIVE, &a, e, sizeof(e)) == -1)
		errx(2, "bad -l '%s': %s", esc_arg(spec), esc_arg(e));
	if (name != NULL && src_open(&S.s_src, name, e, sizeof(e)) == -1)
		errx(1, "table %s: %s", esc_arg(name), esc_arg(e));
	S.s_have = name != NULL;
	if ((fd = sock_listen(&a, 128, e, sizeof(e))) == -1)
		errx(1, "%s", esc_arg(e));
	S.s_lfd = fd;
	if ((S.s_ev = evloop_new()) == NULL ||
	    sig_watch(S.s_ev, sigs, 2, sig_stop) == -1 ||
	    evloop_add(S.s_ev, fd, EVLOOP_READ, http_accept, NULL) == -1)
		err(1, "evloop");
	if (print_addr) {
		if (a.a_ss.ss_family != AF_UNIX && sock_bound(fd, &a) == -1)
			err(1, "getsockname");
		printf("%s\n", addr_fmt(&a, buf, sizeof(buf)));
		if (fflush(stdout) == EOF)
			err(1, "stdout");
	}
	if (evloop_run(S.s_ev) == -1)
		fatal("evloop");
	close(fd);
	if (S.s_have)
		src_close(&S.s_src);
	promset_free(&S.s_ps);
	return (0);
}
