/* io: one transport for a plain or a TLS socket: read, write, readiness. */
#ifndef LB_IO_H
#define LB_IO_H

#include <sys/types.h>
#include <sys/uio.h>
#include <stddef.h>

/*
 * A connection's transport, under the protocol: a non-blocking socket,
 * and (once TLS is set up on it) its OpenSSL connection.  Reads and
 * writes return as read(2) and write(2) do: bytes, 0 at a clean end of
 * a read, -1 with errno (EAGAIN: wait for what io_want says).  With TLS
 * a read may need the socket writable and a write readable (a
 * renegotiation, a key update), and bytes may wait inside OpenSSL after
 * a read: io_pending() tells, and the owner must not wait for an edge
 * that will not come (the event loop's deferred queue is for that).
 */
struct io {
	int		 io_fd;
	void		*io_ssl;		/* SSL *, or NULL: plain */
	int		 io_want;		/* IO_WANT_* after EAGAIN */
	int		 io_shut;		/* our side was shut */
};

#define IO_WANT_READ	0x01
#define IO_WANT_WRITE	0x02

void	 io_init(struct io *io, int fd);
ssize_t	 io_read(struct io *io, void *buf, size_t len);
ssize_t	 io_write(struct io *io, const void *buf, size_t len);
ssize_t	 io_writev(struct io *io, const struct iovec *iov, int n);
/* Bytes readable now without the socket (TLS records already in). */
size_t	 io_pending(const struct io *io);
/* 1 when splice(2) may be used on it: a plain socket. */
int	 io_plain(const struct io *io);
/* Shut the write side (TLS: send close_notify first). */
void	 io_shutdown(struct io *io);
/*
 * Close: a reset when reset (SO_LINGER 0), else a FIN (TLS: after a
 * close_notify).  Frees the TLS connection, whose session stays good to
 * resume however it ended.  The owner has taken the fd off its loop.
 */
void	 io_close(struct io *io, int reset);

/*
 * How TLS is done, set once by a program that uses it (tlsctx.c does),
 * so that a plain program does not link OpenSSL's connection code.
 */
struct io_tls {
	ssize_t	(*it_read)(struct io *, void *, size_t);
	ssize_t	(*it_write)(struct io *, const void *, size_t);
	size_t	(*it_pending)(const struct io *);
	void	(*it_shutdown)(struct io *);
	void	(*it_free)(struct io *);
};
void	 io_tls_ops(const struct io_tls *ops);

#endif
