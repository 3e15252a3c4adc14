/* sock: listeners, non-blocking connects and the descriptor limit. */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sock.h"

/* Is anyone listening on the unix socket path?  1 yes, 0 no. */
static int
unix_alive(const struct addr *a)
{
	int	 fd, rc;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (1);
	rc = connect(fd, (const struct sockaddr *)&a->a_ss, a->a_len);
	close(fd);
	return (rc == 0 || errno != ECONNREFUSED);
}

int
sock_listen(const struct addr *a, int backlog, char *err, size_t errlen)
{
	const struct sockaddr_un *sun;
	struct stat	 st;
	char		 as[ADDR_STRLEN];
	int		 fd, on = 1, fam = a->a_ss.ss_family;

	addr_fmt(a, as, sizeof(as));
	if ((fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		snprintf(err, errlen, "%s: socket: %s", as, strerror(errno));
		return (-1);
	}
	if (fam == AF_UNIX) {
		sun = (const struct sockaddr_un *)&a->a_ss;
		if (lstat(sun->sun_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    !unix_alive(a))
			unlink(sun->sun_path);
	} else {
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1 || setsockopt(fd, SOL_SOCKET,
		    SO_REUSEPORT, &on, sizeof(on)) == -1) {
			snprintf(err, errlen, "%s: setsockopt: %s", as,
			    strerror(errno));
			goto fail;
		}
		/*
		 * Bind even to an address this host does not hold yet: a
		 * virtual address that keepalived brings up on whichever
		 * host is master.  The listener takes connections once the
		 * address arrives, with no restart and no system-wide
		 * ip_nonlocal_bind sysctl.
		 */
		/*
		 * No Nagle on the client's side, as on the backend's: a
		 * backend that writes a head and its body apart must not
		 * make the second wait 40 ms for the client's delayed ACK.
		 * Accepted sockets inherit it from here, at no cost each.
		 */
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on)) == -1 ||
		    setsockopt(fd, fam == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
		    fam == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND, &on,
		    sizeof(on)) == -1) {
			snprintf(err, errlen, "%s: setsockopt: %s", as,
			    strerror(errno));
			goto fail;
		}
	}
	if (bind(fd, (const struct sockaddr *)&a->a_ss, a->a_len) == -1) {
		snprintf(err, errlen, "%s: %s", as, errno == EADDRINUSE ?
		    "address in use" : strerror(errno));
		goto fail;
	}
	if (listen(fd, backlog) == -1) {
		snprintf(err, errlen, "%s: listen: %s", as, strerror(errno));
		goto fail;
	}
	return (fd);
 fail:
	close(fd);
	return (-1);
}

int
sock_bound(int fd, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	a->a_len = sizeof(a->a_ss);
	return (getsockname(fd, (struct sockaddr *)&a->a_ss, &a->a_len));
}

int
sock_connect(const struct addr *a, int *pending)
{
	int	 fd, on = 1, fam = a->a_ss.ss_family;

	*pending = 0;
	if ((fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return (-1);
	if (fam != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(fd, (const struct sockaddr *)&a->a_ss, a->a_len) == 0)
		return (fd);
	if (errno == EINPROGRESS) {
		*pending = 1;
		return (fd);
	}
	/* A unix listener with a full backlog says EAGAIN: call it refused. */
	if (errno == EAGAIN)
		errno = ECONNREFUSED;
	close(fd);
	return (-1);
}

int
sock_connected(int fd)
{
	socklen_t	 len = sizeof(int);
	int		 e = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		return (-1);
	if (e != 0) {
		errno = e;
		return (-1);
	}
	return (0);
}

void
sock_reset(int fd)
{
	struct linger	 l = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

long
sock_nofile_raise(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return (-1);
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return (rl.rlim_cur == RLIM_INFINITY ? 1L << 30 : (long)rl.rlim_cur);
}
