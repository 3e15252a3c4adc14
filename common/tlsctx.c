/* tlsctx: OpenSSL client connections on non-blocking sockets. */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "io.h"
#include "tlsctx.h"

/* The first error of OpenSSL's queue, as words; the queue is emptied. */
static const char *
why(char *buf, size_t len)
{
	unsigned long	 e = ERR_peek_error();
	const char	*r;

	if (e == 0)
		snprintf(buf, len, "unknown error");
	else if (ERR_SYSTEM_ERROR(e))
		snprintf(buf, len, "%s", strerror(ERR_GET_REASON(e)));
	else if ((r = ERR_reason_error_string(e)) != NULL)
		snprintf(buf, len, "%s", r);
	else
		snprintf(buf, len, "error %lu", e);
	ERR_clear_error();
	return (buf);
}

SSL_CTX *
tlsctx_client(const char *cafile, int noverify, char *err, size_t errlen)
{
	SSL_CTX		*ctx;
	FILE		*fp;
	char		 w[200];

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s", why(w, sizeof(w)));
		return (NULL);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* An EOF without close_notify is an end (see io.h), not an error. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_ENABLE_PARTIAL_WRITE);
	/* One connection per check: no session cache to grow. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (noverify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return (ctx);
	}
	/* OpenSSL says "system lib" for a file it cannot open: say why. */
	if (cafile != NULL && (fp = fopen(cafile, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", cafile, strerror(errno));
		SSL_CTX_free(ctx);
		return (NULL);
	}
	if (cafile != NULL)
		fclose(fp);
	if ((cafile != NULL ? SSL_CTX_load_verify_locations(ctx, cafile,
	    NULL) : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		snprintf(err, errlen, "%s: %s", cafile ? cafile :
		    "the system's trust store", why(w, sizeof(w)));
		SSL_CTX_free(ctx);
		return (NULL);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return (ctx);
}

SSL *
tlsctx_conn(SSL_CTX *ctx, int fd, const char *host, char *err,
    size_t errlen)
{
	unsigned char	 ip[16];
	SSL		*ssl;
	char		 w[200];
	int		 numeric, verify;

	ERR_clear_error();
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
		snprintf(err, errlen, "SSL_new: %s", why(w, sizeof(w)));
		SSL_free(ssl);
		return (NULL);
	}
	if (host != NULL && *host != '\0') {
		numeric = inet_pton(AF_INET, host, ip) == 1 ||
		    inet_pton(AF_INET6, host, ip) == 1;
		verify = (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER) != 0;
		/* No SNI for an address (RFC 6066, 3): it is checked as one. */
		if ((!numeric && SSL_set_tlsext_host_name(ssl, host) != 1) ||
		    (verify && !numeric && SSL_set1_host(ssl, host) != 1) ||
		    (verify && numeric && X509_VERIFY_PARAM_set1_ip_asc(
		    SSL_get0_param(ssl), host) != 1)) {
			snprintf(err, errlen, "%s: %s", host, why(w, sizeof(w)));
			SSL_free(ssl);
			return (NULL);
		}
	}
	SSL_set_connect_state(ssl);
	return (ssl);
}

void
tlsctx_free(SSL *ssl)
{
	if (ssl == NULL)
		return;
	/* No close_notify: the peer sees a reset, as with any check. */
	SSL_set_quiet_shutdown(ssl, 1);
	SSL_free(ssl);
}

/* A short reason for the failure of an SSL call that returned rv. */
static void
tlsctx_error(SSL *ssl, int rv, char *err, size_t errlen)
{
	unsigned long	 e;
	long		 vr;
	int		 se = SSL_get_error(ssl, rv), saved = errno;

	if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(err, errlen, "%s", X509_verify_cert_error_string(vr));
		ERR_clear_error();
		return;
	}
	if ((e = ERR_get_error()) != 0) {
		const char *r = ERR_reason_error_string(e);

		snprintf(err, errlen, "%s", r ? r : "error");
		ERR_clear_error();
		return;
	}
	if (se == SSL_ERROR_SYSCALL && saved != 0)
		snprintf(err, errlen, "%s", saved == ECONNRESET ? "reset" :
		    strerror(saved));
	else if (se == SSL_ERROR_SYSCALL || se == SSL_ERROR_ZERO_RETURN)
		snprintf(err, errlen, "closed");
	else
		snprintf(err, errlen, "error %d", se);
}

int
tlsctx_handshake(SSL *ssl, int *want, char *err, size_t errlen)
{
	int	 rv, se;

	ERR_clear_error();
	errno = 0;
	if ((rv = SSL_do_handshake(ssl)) == 1)
		return (0);
	se = SSL_get_error(ssl, rv);
	if (se == SSL_ERROR_WANT_READ) {
		*want = TLSCTX_WANT_READ;
		return (-2);
	}
	if (se == SSL_ERROR_WANT_WRITE) {
		*want = TLSCTX_WANT_WRITE;
		return (-2);
	}
	tlsctx_error(ssl, rv, err, errlen);
	return (-1);
}

/*
 * Map an SSL I/O result to read(2) terms.  An EOF without close_notify
 * is a reset, or with eof_ends an end (io's clients and backends, as
 * curl reads it).
 */
static ssize_t
tlsctx_io(SSL *ssl, int rv, int *want, int eof_ends)
{
	int	 se;

	if (rv > 0)
		return (rv);
	se = SSL_get_error(ssl, rv);
	switch (se) {
	case SSL_ERROR_ZERO_RETURN:
		return (0);
	case SSL_ERROR_WANT_READ:
		*want = TLSCTX_WANT_READ;
		errno = EAGAIN;
		return (-1);
	case SSL_ERROR_WANT_WRITE:
		*want = TLSCTX_WANT_WRITE;
		errno = EAGAIN;
		return (-1);
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		if (errno == 0 && eof_ends)
			return (0);
		if (errno == 0)
			errno = ECONNRESET;
		return (-1);
	default:
		ERR_clear_error();
		errno = EPROTO;
		return (-1);
	}
}

ssize_t
tlsctx_read(SSL *ssl, void *buf, size_t len, int *want)
{
	ERR_clear_error();
	errno = 0;
	return (tlsctx_io(ssl, SSL_read(ssl, buf, len > 0x7fffffff ?
	    0x7fffffff : (int)len), want, 0));
}

ssize_t
tlsctx_write(SSL *ssl, const void *buf, size_t len, int *want)
{
	ERR_clear_error();
	errno = 0;
	return (tlsctx_io(ssl, SSL_write(ssl, buf, len > 0x7fffffff ?
	    0x7fffffff : (int)len), want, 0));
}

SSL_CTX *
tlsctx_backend(const char *cafile, int noverify, char *err, size_t errlen)
{
	SSL_CTX		*ctx;

	if ((ctx = tlsctx_client(cafile, noverify, err, errlen)) == NULL)
		return (NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_read_ahead(ctx, 1);
	/* Sessions are the caller's to keep (SSL_CTX_sess_set_new_cb). */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	return (ctx);
}

/* io.c's operations on an SSL: read(2) and write(2) terms. */
_Static_assert(IO_WANT_READ == TLSCTX_WANT_READ &&
    IO_WANT_WRITE == TLSCTX_WANT_WRITE, "one set of want bits");

static ssize_t
io_op(struct io *io, int rv)
{
	return (tlsctx_io(io->io_ssl, rv, &io->io_want, 1));
}

static ssize_t
it_read(struct io *io, void *buf, size_t len)
{
	ERR_clear_error();
	errno = 0;
	return (io_op(io, SSL_read(io->io_ssl, buf, len > 0x7fffffff ?
	    0x7fffffff : (int)len)));
}

static ssize_t
it_write(struct io *io, const void *buf, size_t len)
{
	ERR_clear_error();
	errno = 0;
	return (io_op(io, SSL_write(io->io_ssl, buf, len > 0x7fffffff ?
	    0x7fffffff : (int)len)));
}

static size_t
it_pending(const struct io *io)
{
	SSL	*ssl = io->io_ssl;

	return ((size_t)SSL_pending(ssl) + (SSL_has_pending(ssl) ? 1 : 0));
}

static void
it_shutdown(struct io *io)
{
	ERR_clear_error();
	(void)SSL_shutdown(io->io_ssl);
	ERR_clear_error();
}

static void
it_free(struct io *io)
{
	SSL	*ssl = io->io_ssl;

	/*
	 * OpenSSL takes a session whose connection ended without our
	 * close_notify for a bad one, and drops it from the cache: a
	 * client that hangs up, or a timeout, would then lose its
	 * resumption.  As nginx and HAProxy do, say the end was clean.
	 */
	SSL_set_quiet_shutdown(ssl, 1);
	SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(ssl);
}

void
tlsctx_io_init(void)
{
	static const struct io_tls ops = {
		it_read, it_write, it_pending, it_shutdown, it_free
	};

	io_tls_ops(&ops);
}
