/*
 * tcli: a small TCP and unix-socket client for the tests.
 *
 * usage: tcli [-n count] [-s source] [-u file] [-T timeout] addr
 *
 *   addr       host:port, [v6]:port or unix:/path
 *   (default)  connect, copy stdin to the socket and the socket to stdout;
 *              stdin's EOF is passed on as shutdown(SHUT_WR), and tcli
 *              exits when the socket says EOF.  Exit 0; 1 when the connect
 *              fails; 3 when the connection is reset.
 *   -n count   instead, count connections one after another: each sends
 *              nothing, shuts its write side, reads to EOF and prints the
 *              first line it got (or "FAIL reason").  Ends with a line
 *              "ok N failed M" on stderr; exit 1 when M > 0.
 *   -s source  bind to this local IP address first (127.0.0.2, say)
 *   -u file    with -n: stop early, once file exists
 *   -T timeout each connection's limit in seconds (default 10)
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"

static int	 tmo = 10;
static struct addr src;
static int	 has_src;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: tcli [-n count] [-s source] [-u file] [-T timeout] "
	    "addr\n");
	exit(2);
}

static int
dial(const struct addr *a)
{
	int	 fd;

	if ((fd = socket(a->a_ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	    -1)
		return (-1);
	if (has_src && bind(fd, (const struct sockaddr *)&src.a_ss,
	    src.a_len) == -1) {
		close(fd);
		return (-1);
	}
	if (connect(fd, (const struct sockaddr *)&a->a_ss, a->a_len) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* One counted connection: its first line into line, 0; or -1. */
static int
one(const struct addr *a, char *line, size_t len)
{
	struct timeval	 tv = { tmo, 0 };
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = dial(a)) == -1) {
		snprintf(line, len, "FAIL connect: %s", strerror(errno));
		return (-1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	shutdown(fd, SHUT_WR);
	for (;;) {
		n = read(fd, line + got, len - 1 - got);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(line, len, "FAIL read: %s", strerror(errno));
			close(fd);
			return (-1);
		}
		got += (size_t)n;
		if (got == len - 1)
			break;
	}
	close(fd);
	line[got] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (got == 0) {
		snprintf(line, len, "FAIL empty");
		return (-1);
	}
	return (0);
}

static int
copy(const struct addr *a)
{
	struct pollfd	 p[2];
	char		 buf[65536];
	ssize_t		 n, w, off;
	int		 fd, in_open = 1;

	if ((fd = dial(a)) == -1)
		err(1, "connect");
	for (;;) {
		p[0].fd = in_open ? STDIN_FILENO : -1;
		p[0].events = POLLIN;
		p[1].fd = fd;
		p[1].events = POLLIN;
		if ((n = poll(p, 2, tmo * 1000)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		if (n == 0)
			errx(1, "timed out");
		if (p[0].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				in_open = 0;
				shutdown(fd, SHUT_WR);
			}
			for (off = 0; off < n; off += w)
				if ((w = write(fd, buf + off, (size_t)(n -
				    off))) == -1) {
					if (errno == ECONNRESET ||
					    errno == EPIPE)
						errx(3, "reset");
					err(1, "write");
				}
		}
		if (p[1].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n == 0)
				break;
			if (n == -1) {
				if (errno == ECONNRESET)
					errx(3, "reset");
				err(1, "read");
			}
			for (off = 0; off < n; off += w)
				if ((w = write(STDOUT_FILENO, buf + off,
				    (size_t)(n - off))) == -1)
					err(1, "stdout");
		}
	}
	close(fd);
	return (0);
}

int
main(int argc, char *argv[])
{
	struct addr	 a;
	struct stat	 st;
	const char	*until = NULL, *e;
	char		 why[256], line[256];
	long long	 count = 0, i, ok = 0, bad = 0;
	int		 ch;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "n:s:T:u:")) != -1) {
		switch (ch) {
		case 'n':
			count = strtonum(optarg, 1, 10000000, &e);
			if (e != NULL)
				usage();
			break;
		case 's':
			snprintf(line, sizeof(line), "%s:0", optarg);
			if (addr_resolve(line, ADDR_PASSIVE | ADDR_NUMERIC,
			    &src, why, sizeof(why)) == -1)
				errx(2, "%s: %s", optarg, why);
			has_src = 1;
			break;
		case 'T':
			tmo = (int)strtonum(optarg, 1, 3600, &e);
			if (e != NULL)
				usage();
			break;
		case 'u':
			until = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (addr_resolve(argv[optind], 0, &a, why, sizeof(why)) == -1)
		errx(2, "%s: %s", argv[optind], why);
	if (count == 0)
		return (copy(&a));
	for (i = 0; i < count; i++) {
		if (until != NULL && stat(until, &st) == 0)
			break;
		if (one(&a, line, sizeof(line)) == 0)
			ok++;
		else
			bad++;
		printf("%s\n", line);
		fflush(stdout);
	}
	fflush(stdout);
	fprintf(stderr, "ok %lld failed %lld\n", ok, bad);
	return (bad > 0);
}
