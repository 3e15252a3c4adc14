/* tlsctx: OpenSSL client connections on non-blocking sockets. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "io.h"
#include "tlsctx.h"

SSL_CTX *
tlsctx_client(int verify, char *err, size_t errlen)
{
	SSL_CTX		*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s",
		    ERR_reason_error_string(ERR_get_error()));
		return (NULL);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* One connection per check: no session cache to grow. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_ENABLE_PARTIAL_WRITE);
	if (verify) {
		if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			snprintf(err, errlen, "trust store: %s",
			    ERR_reason_error_string(ERR_get_error()));
			SSL_CTX_free(ctx);
			return (NULL);
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return (ctx);
}

SSL *
tlsctx_conn(SSL_CTX *ctx, int fd, const char *sni, char *err, size_t errlen)
{
	SSL		*ssl;

	ERR_clear_error();
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
		snprintf(err, errlen, "SSL_new: %s",
		    ERR_reason_error_string(ERR_get_error()));
		SSL_free(ssl);
		return (NULL);
	}
	if (sni != NULL && *sni != '\0') {
		SSL_set_tlsext_host_name(ssl, sni);
		if (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER)
			SSL_set1_host(ssl, sni);
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

/* Map an SSL I/O result to read(2) terms. */
static ssize_t
tlsctx_io(SSL *ssl, int rv, int *want)
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
		if (errno == 0)
			errno = ECONNRESET;
		ERR_clear_error();
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
	    0x7fffffff : (int)len), want));
}

ssize_t
tlsctx_write(SSL *ssl, const void *buf, size_t len, int *want)
{
	ERR_clear_error();
	errno = 0;
	return (tlsctx_io(ssl, SSL_write(ssl, buf, len > 0x7fffffff ?
	    0x7fffffff : (int)len), want));
}

SSL_CTX *
tlsctx_backend(const char *cafile, int noverify, char *err, size_t errlen)
{
	SSL_CTX		*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s",
		    ERR_reason_error_string(ERR_get_error()));
		return (NULL);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
	if (noverify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return (ctx);
	}
	if ((cafile != NULL ? SSL_CTX_load_verify_locations(ctx, cafile,
	    NULL) : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		snprintf(err, errlen, "%s: %s", cafile ? cafile :
		    "trust store", ERR_reason_error_string(ERR_get_error()));
		SSL_CTX_free(ctx);
		return (NULL);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return (ctx);
}

/* io.c's operations on an SSL: read(2) and write(2) terms. */
static ssize_t
io_op(struct io *io, int rv)
{
	SSL	*ssl = io->io_ssl;
	int	 se;

	if (rv > 0)
		return (rv);
	se = SSL_get_error(ssl, rv);
	switch (se) {
	case SSL_ERROR_ZERO_RETURN:
		return (0);
	case SSL_ERROR_WANT_READ:
		io->io_want = IO_WANT_READ;
		errno = EAGAIN;
		return (-1);
	case SSL_ERROR_WANT_WRITE:
		io->io_want = IO_WANT_WRITE;
		errno = EAGAIN;
		return (-1);
	case SSL_ERROR_SYSCALL:
		/* An EOF without close_notify reads as an end, as curl's. */
		if (errno == 0) {
			ERR_clear_error();
			return (0);
		}
		ERR_clear_error();
		return (-1);
	default:
		ERR_clear_error();
		errno = EPROTO;
		return (-1);
	}
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
	SSL_free(io->io_ssl);
}

void
tlsctx_io_init(void)
{
	static const struct io_tls ops = {
		it_read, it_write, it_pending, it_shutdown, it_free
	};

	io_tls_ops(&ops);
}
