/* sock: listeners, non-blocking connects and the descriptor limit. */
#ifndef LB_SOCK_H
#define LB_SOCK_H

#include <stddef.h>

#include "addr.h"

#define SOCK_BACKLOG	4096

/*
 * A non-blocking listener on a (tcp, tcp6 or unix).  Inet listeners set
 * SO_REUSEADDR and SO_REUSEPORT, so that each worker, and a second
 * instance started before the first stops, binds its own, TCP_NODELAY,
 * which the sockets it accepts inherit, and
 * IP_FREEBIND, so that an address the host does not hold yet (a VRRP
 * virtual address) binds and serves once it arrives.  A unix socket
 * path that nobody answers on is removed first; one in use is refused.
 * Returns the fd, or -1 with the reason in err.
 */
int	sock_listen(const struct addr *a, int backlog, char *err,
	    size_t errlen);

/*
 * The address a listener is bound to (port 0 resolved).  Returns 0 or
 * -1 (errno set).
 */
int	sock_bound(int fd, struct addr *a);

/*
 * Start a non-blocking connect to a.  Returns the fd, -1 on failure
 * (errno set: ECONNREFUSED and the like mean the backend said no).
 * *pending is set when the connect goes on: wait for writable, then
 * sock_connected().
 */
int	sock_connect(const struct addr *a, int *pending);

/* After writable: 0 when the connect succeeded, else -1 with errno. */
int	sock_connected(int fd);

/* Make the next close(fd) send a reset instead of a FIN. */
void	sock_reset(int fd);

/*
 * Raise the soft limit on open files to the hard one.  Returns the limit
 * now in force.
 */
long	sock_nofile_raise(void);

#endif
