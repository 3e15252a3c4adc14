/*
 * idle: hold many idle TCP connections, for bench/tcp.sh and bench/http.sh.
 *
 *   idle -s PORT          echo server on 127.0.0.1:PORT: answers every
 *                         byte, holds every connection until it closes
 *   idle -c PORT N        open N connections to 127.0.0.1:PORT, send one
 *                         byte on each and wait for its echo (so each one
 *                         goes through a proxy end to end), print "ready N"
 *                         and hold them until stdin closes; a round whose
 *                         echoes do not all come within 10 s ends the
 *                         opening: "ready DONE" with those echoed so far
 *   idle -h PORT N PATH   the same with HTTP/1.1 keep-alive: on each
 *                         connection one "GET PATH" and its whole response
 *                         (Content-Length framing), then held idle; the
 *                         same 10 s rule
 *
 * Benchmark tool, not part of lb: one file, no dependency, plain loops.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH	256

static struct sockaddr_in
sin_of(const char *port)
{
	struct sockaddr_in	 sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(port));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return (sin);
}

static void
nofile(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
server(const char *port)
{
	struct sockaddr_in	 sin = sin_of(port);
	struct epoll_event	 e, ev[BATCH];
	char			 buf[4096];
	int			 lfd, ep, fd, n, i, on = 1;
	ssize_t			 r;

	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		err(1, "socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 4096) == -1)
		err(1, "listen %s", port);
	if ((ep = epoll_create1(0)) == -1)
		err(1, "epoll");
	e.events = EPOLLIN;
	e.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e);
	for (;;) {
		if ((n = epoll_wait(ep, ev, BATCH, -1)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.fd == lfd) {
				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) != -1) {
					e.events = EPOLLIN;
					e.data.fd = fd;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
				}
				continue;
			}
			fd = ev[i].data.fd;
			while ((r = read(fd, buf, sizeof(buf))) > 0)
				if (write(fd, buf, (size_t)r) != r)
					break;
			if (r == 0 || (r == -1 && errno != EAGAIN))
				close(fd);
		}
	}
}

static int
client(const char *port, const char *count)
{
	struct sockaddr_in	 sin = sin_of(port);
	struct epoll_event	 e, ev[BATCH];
	struct timespec		 t0, t1;
	char			 c = 'x';
	int			 fd, ep, n, i, k, want, done = 0, pending;
	int			 bad = 0;

	want = atoi(count);
	if ((ep = epoll_create1(0)) == -1)
		err(1, "epoll");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Open them in rounds of BATCH so the backlogs keep up. */
	for (k = 0; k < want && !bad; ) {
		for (pending = 0; pending < BATCH && k < want; pending++, k++) {
			if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
				err(1, "socket %d", k);
			if (connect(fd, (struct sockaddr *)&sin,
			    sizeof(sin)) == -1)
				err(1, "connect %d", k);
			if (write(fd, &c, 1) != 1)
				err(1, "write %d", k);
			fcntl(fd, F_SETFL, O_NONBLOCK);
			e.events = EPOLLIN;
			e.data.fd = fd;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
		}
		while (pending > 0) {
			if ((n = epoll_wait(ep, ev, BATCH, 10000)) <= 0) {
				/* The proxy holds no more: keep what came. */
				fprintf(stderr, "idle: %d without an echo "
				    "after 10 s (%d ready)\n", pending, done);
				bad = 1;
				break;
			}
			for (i = 0; i < n; i++) {
				fd = ev[i].data.fd;
				if (read(fd, &c, 1) != 1)
					errx(1, "connection %d closed", done);
				/* Held from now on: not watched any more. */
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				pending--;
				done++;
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("ready %d %.2f\n", done, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	fflush(stdout);
	/* Hold until stdin closes (or the caller kills us). */
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	return (0);
}

/* Bytes of a whole response at the start of b (n bytes), or 0: not yet. */
static size_t
http_whole(const char *b, size_t n)
{
	const char	*e, *cl;
	size_t		 head;

	if ((e = memmem(b, n, "\r\n\r\n", 4)) == NULL)
		return (0);
	head = (size_t)(e - b) + 4;
	if ((cl = strcasestr(b, "\r\nContent-Length:")) == NULL || cl > e)
		return (head);
	return (head + strtoul(cl + 17, NULL, 10) <= n ?
	    head + strtoul(cl + 17, NULL, 10) : 0);
}

static int
hclient(const char *port, const char *count, const char *path)
{
	struct sockaddr_in	 sin = sin_of(port);
	struct epoll_event	 e, ev[BATCH];
	struct timespec		 t0, t1;
	static char		 got[BATCH][2048];
	static size_t		 len[BATCH];
	char			 req[512], c;
	int			 fd, ep, n, i, k, slot, want, done = 0, pending;
	int			 rlen, bad = 0;
	ssize_t			 r;

	want = atoi(count);
	rlen = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: bench\r\n"
	    "\r\n", path);
	if ((ep = epoll_create1(0)) == -1)
		err(1, "epoll");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < want && !bad; ) {
		for (pending = 0; pending < BATCH && k < want; pending++, k++) {
			if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
				err(1, "socket %d", k);
			if (connect(fd, (struct sockaddr *)&sin,
			    sizeof(sin)) == -1)
				err(1, "connect %d", k);
			if (write(fd, req, (size_t)rlen) != rlen)
				err(1, "write %d", k);
			fcntl(fd, F_SETFL, O_NONBLOCK);
			len[pending] = 0;
			e.events = EPOLLIN;
			e.data.u64 = (uint64_t)fd << 32 | (uint32_t)pending;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
		}
		while (pending > 0) {
			if ((n = epoll_wait(ep, ev, BATCH, 10000)) <= 0) {
				/* The proxy holds no more: keep what came. */
				fprintf(stderr, "idle: %d unanswered after "
				    "10 s (%d ready)\n", pending, done);
				bad = 1;
				break;
			}
			for (i = 0; i < n; i++) {
				fd = (int)(ev[i].data.u64 >> 32);
				slot = (int)(ev[i].data.u64 & 0xffffffff);
				r = read(fd, got[slot] + len[slot],
				    sizeof(got[slot]) - 1 - len[slot]);
				if (r <= 0) {
					if (r == -1 && errno == EAGAIN)
						continue;
					errx(1, "connection %d closed", done);
				}
				len[slot] += (size_t)r;
				got[slot][len[slot]] = '\0';
				if (strncmp(got[slot], "HTTP/1.1 200", 12) != 0 &&
				    len[slot] >= 12)
					errx(1, "not a 200: %.40s", got[slot]);
				if (http_whole(got[slot], len[slot]) == 0)
					continue;
				/* Held from now on: not watched any more. */
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				pending--;
				done++;
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("ready %d %.2f\n", done, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	fflush(stdout);
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	return (0);
}

int
main(int argc, char *argv[])
{
	nofile();
	if (argc == 3 && strcmp(argv[1], "-s") == 0)
		return (server(argv[2]));
	if (argc == 4 && strcmp(argv[1], "-c") == 0)
		return (client(argv[2], argv[3]));
	if (argc == 5 && strcmp(argv[1], "-h") == 0)
		return (hclient(argv[2], argv[3], argv[4]));
	fprintf(stderr, "usage: idle -s port | idle -c port count | "
	    "idle -h port count path\n");
	return (2);
}
