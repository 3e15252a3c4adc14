/*
 * tsrv: a small backend server for the tests.
 *
 * usage: tsrv [-1] [-b body] [-m mode] [-n name] [-s status] -l addr
 *
 *   -l addr    127.0.0.1:0, [::1]:0 or unix:/path (port 0: any free port)
 *   -1         print the bound address (host:port or unix:/path) on stdout
 *              once listening, then nothing more
 *   -n name    the server's name (default: tsrv)
 *   -m mode    what each connection gets:
 *      name    (default) "NAME\n", then the write side is shut; reads are
 *              drained until the client closes
 *      hold    "NAME\n", then nothing until the client closes
 *      echo    every byte back; the client's EOF is passed on as a shutdown
 *      http    HTTP/1.1: every request is answered with -s status (200) and
 *              -b body (default "NAME\n"), header X-Backend: NAME; keep-alive
 *              unless the client asks to close
 *      garbage some bytes that are no protocol, then close
 *      silent  accept, never write, close when the client does
 *      reset   accept, then close with a reset (SO_LINGER 0)
 *      sink    read to EOF, then "BYTES SHA256HEX\n" and close
 *   A thread per connection.  TERM or INT: exit 0.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "addr.h"

enum mode { M_NAME, M_HOLD, M_ECHO, M_HTTP, M_GARBAGE, M_SILENT, M_RESET,
    M_SINK };
static const char *const modes[] = { "name", "hold", "echo", "http",
    "garbage", "silent", "reset", "sink" };

static enum mode mode = M_NAME;
static const char *name = "tsrv", *body, *status = "200";

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: tsrv [-1] [-b body] [-m mode] [-n name] "
	    "[-s status] -l addr\n");
	exit(2);
}

static int
writeall(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

static void
drain(int fd)
{
	char	 buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void
serve_http(int fd)
{
	char	 buf[65536], resp[1024], *end, *p;
	size_t	 have = 0, hl, need;
	ssize_t	 n;
	long	 clen;
	int	 close_after;
	char	 bodybuf[256];
	const char *b = body;

	if (b == NULL) {
		snprintf(bodybuf, sizeof(bodybuf), "%s\n", name);
		b = bodybuf;
	}
	for (;;) {
		buf[have] = '\0';
		while ((end = strstr(buf, "\r\n\r\n")) == NULL) {
			if (have == sizeof(buf) - 1)
				return;
			n = read(fd, buf + have, sizeof(buf) - 1 - have);
			if (n <= 0)
				return;
			have += (size_t)n;
			buf[have] = '\0';
		}
		hl = (size_t)(end - buf) + 4;
		clen = 0;
		hl = strcspn(buf, "\r");
		close_after = hl >= 8 && strncmp(buf + hl - 8, "HTTP/1.0",
		    8) == 0;
		hl = (size_t)(end - buf) + 4;
		for (p = buf; p < end; p = strstr(p, "\r\n") + 2) {
			if (strncasecmp(p, "content-length:", 15) == 0)
				clen = strtol(p + 15, NULL, 10);
			if (strncasecmp(p, "connection:", 11) == 0)
				close_after = strstr(p, "close") != NULL &&
				    strstr(p, "close") < strstr(p, "\r\n");
		}
		need = hl + (size_t)(clen > 0 ? clen : 0);
		while (have < need) {
			if (need > sizeof(buf) - 1) {
				drain(fd);
				return;
			}
			if ((n = read(fd, buf + have, need - have)) <= 0)
				return;
			have += (size_t)n;
		}
		snprintf(resp, sizeof(resp), "HTTP/1.1 %s %s\r\n"
		    "Content-Length: %zu\r\nX-Backend: %s\r\n%s\r\n", status,
		    "Answer", strlen(b), name,
		    close_after ? "Connection: close\r\n" : "");
		/* One write, as a real server's: no Nagle between them. */
		strlcat(resp, b, sizeof(resp));
		if (writeall(fd, resp, strlen(resp)) == -1 || close_after)
			return;
		memmove(buf, buf + need, have - need);
		have -= need;
	}
}

static void
serve_sink(int fd)
{
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, i;
	char		 buf[65536], line[256];
	unsigned long long total = 0;
	ssize_t		 n;
	int		 off;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		total += (unsigned long long)n;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	off = snprintf(line, sizeof(line), "%llu ", total);
	for (i = 0; i < mdlen; i++)
		off += snprintf(line + off, sizeof(line) - (size_t)off, "%02x",
		    md[i]);
	snprintf(line + off, sizeof(line) - (size_t)off, "\n");
	writeall(fd, line, strlen(line));
}

static void *
serve(void *arg)
{
	int		 fd = (int)(long)arg;
	char		 buf[65536], line[256];
	ssize_t		 n;
	struct linger	 lg = { 1, 0 };

	switch (mode) {
	case M_NAME:
		snprintf(line, sizeof(line), "%s\n", name);
		writeall(fd, line, strlen(line));
		shutdown(fd, SHUT_WR);
		drain(fd);
		break;
	case M_HOLD:
		snprintf(line, sizeof(line), "%s\n", name);
		writeall(fd, line, strlen(line));
		drain(fd);
		break;
	case M_ECHO:
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (writeall(fd, buf, (size_t)n) == -1)
				break;
		shutdown(fd, SHUT_WR);
		drain(fd);
		break;
	case M_HTTP:
		serve_http(fd);
		break;
	case M_GARBAGE:
		writeall(fd, "\x16\x03\xff garbage \x00\xff\r\n\r\n", 20);
		break;
	case M_SILENT:
		drain(fd);
		break;
	case M_RESET:
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		break;
	case M_SINK:
		serve_sink(fd);
		break;
	}
	close(fd);
	return (NULL);
}

static void
on_term(int sig)
{
	(void)sig;
	_exit(0);
}

int
main(int argc, char *argv[])
{
	struct addr	 a;
	struct sockaddr_storage ss;
	socklen_t	 sl;
	pthread_t	 th;
	pthread_attr_t	 attr;
	char		 e[256], out[ADDR_STRLEN];
	const char	*listen_on = NULL;
	int		 ch, fd, c, one = 1, print = 0;
	size_t		 i;

	while ((ch = getopt(argc, argv, "1b:l:m:n:s:")) != -1) {
		switch (ch) {
		case '1':
			print = 1;
			break;
		case 'b':
			body = optarg;
			break;
		case 'l':
			listen_on = optarg;
			break;
		case 'm':
			for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
				if (strcmp(optarg, modes[i]) == 0)
					break;
			if (i == sizeof(modes) / sizeof(modes[0]))
				errx(2, "bad mode '%s'", optarg);
			mode = (enum mode)i;
			break;
		case 'n':
			name = optarg;
			break;
		case 's':
			status = optarg;
			break;
		default:
			usage();
		}
	}
	if (listen_on == NULL || optind != argc)
		usage();
	if (addr_resolve(listen_on, ADDR_PASSIVE | ADDR_NUMERIC, &a, e,
	    sizeof(e)) == -1)
		errx(2, "bad address '%s': %s", listen_on, e);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	if ((fd = socket(a.a_ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	    -1)
		err(1, "socket");
	if (a.a_ss.ss_family == AF_UNIX)
		unlink(((struct sockaddr_un *)&a.a_ss)->sun_path);
	else
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a.a_ss, a.a_len) == -1)
		err(1, "bind %s", listen_on);
	if (listen(fd, 1024) == -1)
		err(1, "listen");
	if (print) {
		sl = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
			err(1, "getsockname");
		if (a.a_ss.ss_family != AF_UNIX) {
			memcpy(&a.a_ss, &ss, sl);
			a.a_len = sl;
		}
		printf("%s\n", addr_fmt(&a, out, sizeof(out)));
		fflush(stdout);
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		if ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				usleep(1000);
				continue;
			}
			err(1, "accept");
		}
		if (pthread_create(&th, &attr, serve, (void *)(long)c) != 0)
			close(c);
	}
}
