/* probe: tcp, tls and http probes on non-blocking sockets, on the loop. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lb-check.h"
#include "log.h"
#include "sock.h"
#include "tlsctx.h"

#define PROBE_BUFSZ	16384		/* of an http request, then its response */
#define PROBE_HEADMIN	14		/* "HTTP/1.1 200\n\n": the shortest head */
#define PROBE_REQ	"%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: lb-check\r\n" \
			"Accept: */*\r\nConnection: close\r\n\r\n"
#define PROBE_CONNECTED	0x100		/* to probe_io(): beside EVLOOP_* */
#define PROBE_START	0x200		/* to probe_io(): from probe_start() */

static void	probe_io(struct evloop *, int, int, void *);
static void	probe_timeout(struct evloop *, void *);

/* A short word for a socket error, as operators say it. */
const char *
probe_errword(int error)
{
	switch (error) {
	case ECONNREFUSED:
		return ("refused");
	case ECONNRESET:
	case EPIPE:
		return ("reset");
	case ETIMEDOUT:
		return ("timeout");
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return ("unreachable");
	case ENOENT:
		return ("no such socket");
	case EACCES:
	case EPERM:
		return ("permission denied");
	case EADDRNOTAVAIL:
		return ("no local address");
	}
	return (strerror(error));
}

/*
 * How many descriptors kept sockets may take: those below half the
 * limit; a socket above is closed after its probe.
 */
static int
probe_fdkeep(void)
{
	static int	 keep;
	long		 lim;

	/* main() raised the limit already: this only reads it. */
	if (keep == 0) {
		lim = sock_nofile_raise();
		keep = lim <= 0 ? 512 : lim / 2 > INT32_MAX ? INT32_MAX :
		    (int)(lim / 2);
	}
	return (keep);
}

void
probe_forget(struct backend *b)
{
	if (b->b_fd == -1)
		return;
	if (b->b_onloop)
		evloop_del(ev, b->b_fd);
	b->b_onloop = 0;
	close(b->b_fd);			/* SO_LINGER 0: a reset */
	b->b_fd = -1;
}

/*
 * End what the probe holds; the peer sees a reset, not a TIME_WAIT.  A
 * disconnect (a connect to AF_UNSPEC) resets a tcp connection as a
 * close with SO_LINGER 0 does, and keeps the socket for the backend's
 * next probe: no socket(2), setsockopt(2) and close(2) per probe.
 */
static void
probe_close(struct backend *b)
{
	struct sockaddr	 un;

	evtimer_cancel(ev, &b->b_tmo);
	if (b->b_ssl != NULL) {
		tlsctx_free(b->b_ssl);
		b->b_ssl = NULL;
	}
	if (b->b_fd != -1) {
		/*
		 * A kept socket stays on the loop: the events of a probe
		 * that is over find the backend idle, and what the loop
		 * reports is polled when it reports it, never stale.
		 */
		memset(&un, 0, sizeof(un));
		un.sa_family = AF_UNSPEC;
		if (b->b_fdfam == AF_UNIX || b->b_fd >= probe_fdkeep() ||
		    connect(b->b_fd, &un, sizeof(un)) == -1)
			probe_forget(b);
	}
	b->b_conn = 0;
	free(b->b_buf);
	b->b_buf = NULL;
	b->b_len = b->b_off = b->b_reqlen = b->b_head = 0;
	b->b_code = 0;
	b->b_phase = PH_IDLE;
}

void
probe_abort(struct backend *b)
{
	probe_close(b);
}

static void
probe_end(struct backend *b, int result, const char *wdetail,
    const char *rdetail)
{
	probe_close(b);
	lbc_result(b, result, wdetail, rdetail, 0, 0);
}

void
probe_start(struct backend *b)
{
	int		 fd, fam = b->b_sa.a_ss.ss_family;

	if (conf.cc_kind == CK_EXEC) {
		exec_start(b);
		return;
	}
	if (b->b_fd != -1 && (!b->b_sa_ok || b->b_fdfam != fam))
		probe_forget(b);
	if (!b->b_sa_ok) {
		b->b_phase = PH_CONNECT;
		probe_end(b, CHECK_L4CON, "address", "bad address");
		return;
	}
	if (b->b_fd != -1)
		goto connect;
	fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			lbc_retry(b);
			return;
		}
		b->b_phase = PH_CONNECT;
		probe_end(b, CHECK_L4CON, probe_errword(errno),
		    probe_errword(errno));
		return;
	}
	/* A close resets: the peer keeps no TIME_WAIT either. */
	sock_reset(fd);
	b->b_fd = fd;
	b->b_fdfam = fam;
 connect:
	fd = b->b_fd;
	b->b_phase = PH_CONNECT;
	if (connect(fd, (struct sockaddr *)&b->b_sa.a_ss, b->b_sa.a_len) ==
	    -1 && errno != EINPROGRESS && errno != EAGAIN) {
		probe_end(b, CHECK_L4CON, probe_errword(errno),
		    probe_errword(errno));
		return;
	}
	if (conf.cc_kind == CK_HTTP && !conf.cc_tls) {
		/*
		 * The request goes at once: send(2) says as well as a
		 * second connect whether the connection is made, refused
		 * or on its way.
		 */
		b->b_phase = PH_SEND;
		probe_io(ev, fd, PROBE_START, b);
	} else if (connect(fd, (struct sockaddr *)&b->b_sa.a_ss,
	    b->b_sa.a_len) == 0 || errno == EISCONN) {
		/*
		 * On loopback the handshake is often over before connect()
		 * returns: a second call says so, and saves the loop a round.
		 */
		probe_io(ev, fd, EVLOOP_WRITE | PROBE_CONNECTED | PROBE_START,
		    b);
	} else if (errno != EALREADY && errno != EINPROGRESS) {
		probe_end(b, CHECK_L4CON, probe_errword(errno),
		    probe_errword(errno));
		return;
	}
	if (b->b_phase == PH_IDLE)
		return;			/* over already */
	evtimer_set(ev, &b->b_tmo, conf.cc_timeout, probe_timeout, b);
	/* Edge-triggered: what is ready already is reported by the add. */
	if (!b->b_onloop && evloop_add(ev, fd, EVLOOP_READ | EVLOOP_WRITE,
	    probe_io, b) == -1) {
		log_warn("epoll");
		probe_close(b);
		lbc_retry(b);
		return;
	}
	b->b_onloop = 1;
}

static void
probe_timeout(struct evloop *loop, void *arg)
{
	struct backend	*b = arg;
	int		 r;

	(void)loop;
	switch (b->b_phase) {
	case PH_CONNECT:
		r = CHECK_L4TOUT;
		break;
	case PH_SEND:
		r = b->b_conn ? CHECK_L7TOUT : CHECK_L4TOUT;
		break;
	case PH_TLS:
		r = CHECK_L6TOUT;
		break;
	default:
		r = CHECK_L7TOUT;
		break;
	}
	probe_end(b, r, NULL, NULL);
}

/* The http request, into b_buf. */
static int
http_request(struct backend *b)
{
	const char	*host = conf.cc_host;
	int		 n;

	if ((b->b_buf = malloc(PROBE_BUFSZ)) == NULL)
		return (-1);
	if (host == NULL)
		host = b->b_sa.a_ss.ss_family == AF_UNIX ? "localhost" :
		    b->b_addr;
	/* probe_conf_check() made sure that it fits. */
	n = snprintf(b->b_buf, PROBE_BUFSZ, PROBE_REQ, conf.cc_method,
	    conf.cc_path, host);
	if (n < 0 || n >= PROBE_BUFSZ)
		return (-1);
	b->b_reqlen = (size_t)n;
	b->b_off = 0;
	return (0);
}

int
probe_conf_check(char *err, size_t errlen)
{
	const char	*what = "path", *v = conf.cc_path;
	size_t		 room, len;

	if (conf.cc_kind != CK_HTTP)
		return (0);
	/*
	 * The request goes out of one buffer of PROBE_BUFSZ; the Host is the
	 * backend's address unless host= says, and the longest address a
	 * table holds must fit too.
	 */
	room = PROBE_BUFSZ - 1 - (size_t)snprintf(NULL, 0, PROBE_REQ, "", "",
	    "");
	len = strlen(conf.cc_path) + strlen(conf.cc_method);
	if (conf.cc_host != NULL)
		len += strlen(conf.cc_host);
	else
		room -= TABLE_ADDR_MAX - 1;
	if (strlen(conf.cc_method) > strlen(v))
		what = "method", v = conf.cc_method;
	if (conf.cc_host != NULL && strlen(conf.cc_host) > strlen(v))
		what = "host", v = conf.cc_host;
	if (len > room) {
		snprintf(err, errlen, "bad %s '%.32s%s' (%zu bytes): %s take "
		    "at most %zu bytes together, for the request to fit in %d%s",
		    what, v, strlen(v) > 32 ? "..." : "", strlen(v),
		    conf.cc_host ? "path, method and host" : "path and method",
		    room, PROBE_BUFSZ, conf.cc_host ? "" :
		    " with the longest address as its Host");
		return (-1);
	}
	/* The body must be found in what one read of a response holds. */
	if (conf.cc_body != NULL && (len = strlen(conf.cc_body)) >
	    PROBE_BUFSZ - PROBE_HEADMIN) {
		snprintf(err, errlen, "bad body '%.32s...' (%zu bytes): at most "
		    "%d bytes, since a probe reads %d bytes of a response, head "
		    "included", conf.cc_body, len, PROBE_BUFSZ - PROBE_HEADMIN,
		    PROBE_BUFSZ);
		return (-1);
	}
	return (0);
}

/* The value of Content-Length in the head, or -1. */
static long long
http_clen(const char *head, size_t len)
{
	static const char name[] = "\ncontent-length:";
	const char	*p, *end = head + len;
	long long	 v;

	for (p = head; p + sizeof(name) - 1 < end; p++) {
		if (strncasecmp(p, name, sizeof(name) - 1) != 0)
			continue;
		p += sizeof(name) - 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return (-1);
		for (v = 0; p < end && *p >= '0' && *p <= '9'; p++)
			if ((v = v * 10 + (*p - '0')) > PROBE_BUFSZ * 16)
				return (PROBE_BUFSZ * 16);
		return (v);
	}
	return (-1);
}

/*
 * Judge what arrived so far.  Returns 1 when the probe ended, 0 when
 * more is wanted; eof says the peer closed.
 */
static int
http_judge(struct backend *b, int eof)
{
	char		 code[8];
	long long	 clen;
	int		 n;

	if (b->b_code == 0) {
		n = check_http_status(b->b_buf, b->b_len, &b->b_code);
		if (n == -1) {
			b->b_code = 0;
			probe_end(b, CHECK_L7RSP, "garbage", "garbage");
			return (1);
		}
		if (n == -2) {
			b->b_code = 0;
			if (!eof && b->b_len < PROBE_BUFSZ)
				return (0);
			probe_end(b, CHECK_L7RSP, b->b_len ? "truncated" :
			    "closed", b->b_len ? "truncated" : "closed");
			return (1);
		}
	}
	snprintf(code, sizeof(code), "%d", b->b_code);
	if (!check_status_match(&conf.cc_status, b->b_code)) {
		probe_end(b, CHECK_L7STS, code, code);
		return (1);
	}
	if (conf.cc_body == NULL) {
		probe_end(b, CHECK_L7OK, code, code);
		return (1);
	}
	if (b->b_head == 0) {
		if ((n = check_http_head(b->b_buf, b->b_len)) == -2) {
			if (!eof && b->b_len < PROBE_BUFSZ)
				return (0);
			probe_end(b, CHECK_L7RSP, "truncated", "truncated");
			return (1);
		}
		b->b_head = (size_t)n;
	}
	if (memmem(b->b_buf + b->b_head, b->b_len - b->b_head, conf.cc_body,
	    strlen(conf.cc_body)) != NULL) {
		probe_end(b, CHECK_L7OK, code, code);
		return (1);
	}
	clen = http_clen(b->b_buf, b->b_head);
	if (eof || b->b_len == PROBE_BUFSZ ||
	    (clen >= 0 && b->b_len - b->b_head >= (size_t)clen)) {
		probe_end(b, CHECK_L7RSP, "body", "body does not match");
		return (1);
	}
	return (0);
}

static ssize_t
probe_read(struct backend *b, void *buf, size_t len)
{
	int	 want;

	if (b->b_ssl != NULL)
		return (tlsctx_read(b->b_ssl, buf, len, &want));
	return (read(b->b_fd, buf, len));
}

static ssize_t
probe_write(struct backend *b, const void *buf, size_t len)
{
	int	 want;

	if (b->b_ssl != NULL)
		return (tlsctx_write(b->b_ssl, buf, len, &want));
	return (send(b->b_fd, buf, len, MSG_NOSIGNAL));
}

static void
probe_io(struct evloop *loop, int fd, int what, void *arg)
{
	struct backend	*b = arg;
	char		 err[96];
	socklen_t	 sl;
	ssize_t		 n;
	int		 e, want;

	(void)loop;
	for (;;) {
		switch (b->b_phase) {
		case PH_CONNECT:
			e = 0;
			sl = sizeof(e);
			/* PROBE_CONNECTED: connect(2) itself said so. */
			if (!(what & PROBE_CONNECTED) &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == -1)
				e = errno;
			if (e == 0 && !(what & (EVLOOP_WRITE | EVLOOP_HUP)))
				return;
			if (e != 0) {
				probe_end(b, CHECK_L4CON, probe_errword(e),
				    probe_errword(e));
				return;
			}
			b->b_conn = 1;
			if (conf.cc_kind == CK_TCP) {
				probe_end(b, CHECK_L4OK, NULL, NULL);
				return;
			}
			if (conf.cc_tls) {
				/* As lb-http: SNI and the check of the name. */
				if ((b->b_ssl = tlsctx_conn(conf.cc_ctx, fd,
				    conf.cc_sni ? conf.cc_sni : b->b_host, err,
				    sizeof(err))) == NULL) {
					log_warnx("%s", err);
					probe_close(b);
					lbc_retry(b);
					return;
				}
				b->b_phase = PH_TLS;
				break;
			}
			b->b_phase = PH_SEND;
			break;
		case PH_TLS:
			switch (tlsctx_handshake(b->b_ssl, &want, err,
			    sizeof(err))) {
			case -2:
				return;
			case -1:
				probe_end(b, CHECK_L6RSP, err, err);
				return;
			}
			if (conf.cc_kind == CK_TLS) {
				probe_end(b, CHECK_L6OK, NULL, NULL);
				return;
			}
			b->b_phase = PH_SEND;
			break;
		case PH_SEND:
			if (b->b_buf == NULL && http_request(b) == -1) {
				probe_close(b);
				lbc_retry(b);
				return;
			}
			while (b->b_off < b->b_reqlen) {
				n = probe_write(b, b->b_buf + b->b_off,
				    b->b_reqlen - b->b_off);
				/* Not connected yet, or no room. */
				if (n == -1 && errno == EAGAIN)
					return;
				if (n == -1 && errno == EINTR)
					continue;
				e = n == -1 ? errno : EPIPE;
				if (n <= 0 && !b->b_conn) {
					/* The connect failed. */
					probe_end(b, CHECK_L4CON,
					    probe_errword(e), probe_errword(e));
					return;
				}
				if (n <= 0) {
					probe_end(b, CHECK_L7RSP, "reset",
					    "reset");
					return;
				}
				b->b_conn = 1;
				b->b_off += (size_t)n;
			}
			b->b_len = 0;
			b->b_phase = PH_RECV;
			break;
		case PH_RECV:
			/*
			 * The answer takes a trip through the peer: no read
			 * before the loop says there is something to read.
			 */
			if (b->b_ssl == NULL &&
			    !(what & (EVLOOP_READ | EVLOOP_HUP)))
				return;
			for (;;) {
				if (b->b_len == PROBE_BUFSZ) {
					http_judge(b, 1);
					return;
				}
				n = probe_read(b, b->b_buf + b->b_len,
				    PROBE_BUFSZ - b->b_len);
				if (n == -1 && errno == EAGAIN)
					return;
				if (n == -1 && errno == EINTR)
					continue;
				if (n == -1) {
					/* What came before a reset may do. */
					if (b->b_len > 0 && http_judge(b, 1))
						return;
					probe_end(b, CHECK_L7RSP, "reset",
					    "reset");
					return;
				}
				if (n == 0) {
					http_judge(b, 1);
					return;
				}
				b->b_len += (size_t)n;
				if (http_judge(b, 0))
					return;
			}
		default:
			return;
		}
	}
}
