/* tlsctx: OpenSSL client connections on non-blocking sockets. */
#ifndef LB_TLSCTX_H
#define LB_TLSCTX_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

/*
 * A client context: TLS 1.2 and 1.3, no compression, no renegotiation.
 * Unless noverify, a peer must show a certificate that a CA of cafile
 * (NULL: the system's trust store) signs, for the host given to
 * tlsctx_conn().  Returns the context (free with SSL_CTX_free()), or
 * NULL with the reason in err, which names the file.
 */
SSL_CTX	*tlsctx_client(const char *cafile, int noverify, char *err,
	    size_t errlen);

/*
 * A client connection over the connected socket fd, to host: a name is
 * sent as the server name (SNI), an address is not (RFC 6066); when the
 * context verifies, the certificate must name it (a DNS name, or an IP
 * address).  NULL or "": neither.  Returns the connection (free with
 * tlsctx_free()), or NULL with the reason in err.
 */
SSL	*tlsctx_conn(SSL_CTX *ctx, int fd, const char *host, char *err,
	    size_t errlen);

/*
 * tlsctx_client() for a proxy's backends: buffers given back while
 * idle, records read ahead, and sessions handed to the new-session
 * callback the caller sets (SSL_CTX_sess_set_new_cb()) to resume.
 */
SSL_CTX	*tlsctx_backend(const char *cafile, int noverify, char *err,
	    size_t errlen);

/*
 * Make io.c's TLS operations OpenSSL's (see io_tls_ops()): call once,
 * before any io carries an SSL.
 */
void	tlsctx_io_init(void);

/* Free ssl without a close_notify (the socket is the caller's). */
void	tlsctx_free(SSL *ssl);

/* What a step waits for, given to the caller in *want. */
#define TLSCTX_WANT_READ	0x01
#define TLSCTX_WANT_WRITE	0x02

/*
 * Advance the handshake.  Returns 0 when done, -2 when it must wait for
 * the socket (*want says which way), -1 when it failed (reason in err:
 * "certificate verify failed", "handshake: reset", ...).
 */
int	tlsctx_handshake(SSL *ssl, int *want, char *err, size_t errlen);

/*
 * Read or write as read(2)/write(2) do: bytes, 0 at a clean end (read),
 * -1 with errno EAGAIN (*want says which way) or another error.
 */
ssize_t	tlsctx_read(SSL *ssl, void *buf, size_t len, int *want);
ssize_t	tlsctx_write(SSL *ssl, const void *buf, size_t len, int *want);

#endif
