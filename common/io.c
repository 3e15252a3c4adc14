/* io: one transport for a plain or a TLS socket: read, write, readiness. */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "sock.h"

#define IO_RECORD	16384		/* a TLS record's payload, at most */

static const struct io_tls *tls;

void
io_tls_ops(const struct io_tls *ops)
{
	tls = ops;
}

void
io_init(struct io *io, int fd)
{
	memset(io, 0, sizeof(*io));
	io->io_fd = fd;
}

ssize_t
io_read(struct io *io, void *buf, size_t len)
{
	ssize_t	 n;

	if (io->io_ssl != NULL)
		return (tls->it_read(io, buf, len));
	while ((n = recv(io->io_fd, buf, len, 0)) == -1 && errno == EINTR)
		;
	if (n == -1 && errno == EAGAIN)
		io->io_want = IO_WANT_READ;
	return (n);
}

ssize_t
io_write(struct io *io, const void *buf, size_t len)
{
	ssize_t	 n;

	if (io->io_ssl != NULL)
		return (tls->it_write(io, buf, len));
	while ((n = send(io->io_fd, buf, len, MSG_NOSIGNAL)) == -1 &&
	    errno == EINTR)
		;
	if (n == -1 && errno == EAGAIN)
		io->io_want = IO_WANT_WRITE;
	return (n);
}

ssize_t
io_writev(struct io *io, const struct iovec *iov, int n)
{
	char		 rec[IO_RECORD];
	struct msghdr	 mh;
	ssize_t		 w, total;
	int		 i;

	if (n == 1 || (io->io_ssl != NULL && iov[0].iov_len >= IO_RECORD))
		return (io_write(io, iov[0].iov_base, iov[0].iov_len));
	if (io->io_ssl != NULL) {
		/*
		 * OpenSSL has no writev, and a write is a record: small
		 * pieces (a head's lines, the start of a body) are gathered
		 * into one record's worth, not sent a record each.  The
		 * same pieces gather the same bytes, as a retry must write.
		 */
		for (i = 0, total = 0; i < n && (size_t)total < IO_RECORD;
		    i++) {
			w = (ssize_t)(IO_RECORD - (size_t)total);
			if ((size_t)w > iov[i].iov_len)
				w = (ssize_t)iov[i].iov_len;
			memcpy(rec + total, iov[i].iov_base, (size_t)w);
			total += w;
		}
		return (tls->it_write(io, rec, (size_t)total));
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = (struct iovec *)(uintptr_t)iov;
	mh.msg_iovlen = (size_t)n;
	while ((w = sendmsg(io->io_fd, &mh, MSG_NOSIGNAL)) == -1 &&
	    errno == EINTR)
		;
	if (w == -1 && errno == EAGAIN)
		io->io_want = IO_WANT_WRITE;
	return (w);
}

size_t
io_pending(const struct io *io)
{
	if (io->io_ssl != NULL)
		return (tls->it_pending(io));
	return (0);
}

int
io_plain(const struct io *io)
{
	return (io->io_ssl == NULL);
}

void
io_shutdown(struct io *io)
{
	if (io->io_shut)
		return;
	io->io_shut = 1;
	if (io->io_ssl != NULL)
		tls->it_shutdown(io);
	shutdown(io->io_fd, SHUT_WR);
}

void
io_close(struct io *io, int reset)
{
	if (io->io_fd == -1)
		return;
	if (io->io_ssl != NULL) {
		/* A clean end says so: close_notify (RFC 8446, 6.1). */
		if (!reset)
			io_shutdown(io);
		tls->it_free(io);
		io->io_ssl = NULL;
	}
	if (reset)
		sock_reset(io->io_fd);
	close(io->io_fd);
	io->io_fd = -1;
}
