/*
 * tlsc: an HTTPS load client for bench/http.sh's TLS cases.
 *
 *   tlsc -m full|resume|keep [-t THREADS] [-d SECONDS] [-n NAME]
 *        [-p PATH] PORT
 *
 * THREADS threads (1), each with one connection at a time to
 * 127.0.0.1:PORT, send "GET PATH" (/100) for SECONDS (5) and read each
 * whole response (Content-Length framing):
 *   full    a new connection a request, no session offered: a full
 *           handshake each time ("Connection: close")
 *   resume  the same, offering the session of the thread's last
 *           connection: a resumed handshake each time (but the first)
 *   keep    one connection kept alive, requests one after another
 * TLS 1.3 only, NAME (bench.test) as SNI, the certificate not verified
 * (the client's CPU is not what is measured).  At the end one line:
 *   requests N errors E resumed R bytes B seconds S
 * R counts the handshakes the server resumed, B the bytes of the bodies.
 *
 * Benchmark tool, not part of lb: one file, plain blocking loops.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <err.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum { FULL, RESUME, KEEP };

static int		 mode = FULL;
static double		 secs = 5;
static const char	*name = "bench.test";
static const char	*path = "/100";
static struct sockaddr_in sin;
static SSL_CTX		*ctx;
static double		 deadline;

struct tally {
	uint64_t	 t_req, t_err, t_resumed, t_bytes;
};

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* A TLS connection, handshake done, or NULL. */
static SSL *
dial(SSL_SESSION *sess, int *fdp)
{
	SSL	*ssl;
	int	 fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (NULL);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return (NULL);
	}
	if ((ssl = SSL_new(ctx)) == NULL) {
		close(fd);
		return (NULL);
	}
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, name);
	if (sess != NULL)
		SSL_set_session(ssl, sess);
	if (SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		close(fd);
		return (NULL);
	}
	*fdp = fd;
	return (ssl);
}

/* One request and its whole response: the body's length, or -1. */
static long
ask(SSL *ssl, const char *req, size_t reqlen, char *buf, size_t bufsz)
{
	size_t	 have = 0;
	long	 want = -1, got;
	char	*end, *cl;
	int	 n;

	if (SSL_write(ssl, req, (int)reqlen) != (int)reqlen)
		return (-1);
	for (;;) {
		if (have == bufsz - 1)
			return (-1);
		if ((n = SSL_read(ssl, buf + have, (int)(bufsz - 1 - have))) <= 0)
			return (-1);
		have += (size_t)n;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	if (strncmp(buf, "HTTP/1.1 200", 12) != 0)
		return (-1);
	*end = '\0';
	if ((cl = strcasestr(buf, "\r\nContent-Length:")) == NULL)
		return (-1);
	want = strtol(cl + 17, NULL, 10);
	got = (long)(buf + have - (end + 4));
	while (got < want) {
		if ((n = SSL_read(ssl, buf, (int)bufsz)) <= 0)
			return (-1);
		got += n;
	}
	return (got == want ? want : -1);
}

static void *
loop(void *arg)
{
	struct tally	*t = arg;
	SSL_SESSION	*sess = NULL;
	SSL		*ssl = NULL;
	char		 req[512], *buf;
	size_t		 bufsz = 256 * 1024;
	long		 n;
	int		 len, fd = -1;

	if ((buf = malloc(bufsz)) == NULL)
		err(1, "malloc");
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n",
	    path, name, mode == KEEP ? "" : "Connection: close\r\n");
	while (now() < deadline) {
		if (ssl == NULL) {
			if ((ssl = dial(mode == RESUME ? sess : NULL, &fd)) ==
			    NULL) {
				t->t_err++;
				ERR_clear_error();
				continue;
			}
			if (SSL_session_reused(ssl))
				t->t_resumed++;
		}
		n = ask(ssl, req, (size_t)len, buf, bufsz);
		if (n >= 0) {
			t->t_req++;
			t->t_bytes += (uint64_t)n;
		} else
			t->t_err++;
		if (mode != KEEP || n < 0) {
			/* The ticket of TLS 1.3 has come by now. */
			if (mode == RESUME && n >= 0) {
				SSL_SESSION_free(sess);
				sess = SSL_get1_session(ssl);
			}
			SSL_shutdown(ssl);
			SSL_free(ssl);
			close(fd);
			ssl = NULL;
			ERR_clear_error();
		}
	}
	if (ssl != NULL) {
		SSL_free(ssl);
		close(fd);
	}
	SSL_SESSION_free(sess);
	free(buf);
	return (NULL);
}

static void
usage(void)
{
	fprintf(stderr, "usage: tlsc -m full|resume|keep [-t threads] "
	    "[-d seconds] [-n name] [-p path] port\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct tally	*t, sum = { 0 };
	pthread_t	*tid;
	double		 start;
	int		 ch, i, nt = 1;

	while ((ch = getopt(argc, argv, "d:m:n:p:t:")) != -1) {
		switch (ch) {
		case 'd':
			secs = atof(optarg);
			break;
		case 'm':
			if (strcmp(optarg, "full") == 0)
				mode = FULL;
			else if (strcmp(optarg, "resume") == 0)
				mode = RESUME;
			else if (strcmp(optarg, "keep") == 0)
				mode = KEEP;
			else
				usage();
			break;
		case 'n':
			name = optarg;
			break;
		case 'p':
			path = optarg;
			break;
		case 't':
			nt = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || nt < 1 || secs <= 0)
		usage();
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[optind]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		errx(1, "SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	if ((t = calloc((size_t)nt, sizeof(*t))) == NULL ||
	    (tid = calloc((size_t)nt, sizeof(*tid))) == NULL)
		err(1, "calloc");
	start = now();
	deadline = start + secs;
	for (i = 0; i < nt; i++)
		if (pthread_create(&tid[i], NULL, loop, &t[i]) != 0)
			errx(1, "pthread_create");
	for (i = 0; i < nt; i++) {
		pthread_join(tid[i], NULL);
		sum.t_req += t[i].t_req;
		sum.t_err += t[i].t_err;
		sum.t_resumed += t[i].t_resumed;
		sum.t_bytes += t[i].t_bytes;
	}
	printf("requests %llu errors %llu resumed %llu bytes %llu seconds %.3f\n",
	    (unsigned long long)sum.t_req, (unsigned long long)sum.t_err,
	    (unsigned long long)sum.t_resumed, (unsigned long long)sum.t_bytes,
	    now() - start);
	return (0);
}
