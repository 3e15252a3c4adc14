/* tlssrv: TLS for a server: certificates by name, tickets, reloads. */
#ifndef LB_TLSSRV_H
#define LB_TLSSRV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/ssl.h>

/*
 * A set of certificates, each with its key, chosen for a connection by
 * the server name the client asks (SNI) against each certificate's DNS
 * names (subjectAltName, or the common name when it has none), "*.x"
 * names matching one label; the first is the default for a client that
 * asks no name or an unknown one (or, strict, the handshake fails).
 *
 * Every context takes TLS 1.2 and 1.3 only by default, a cipher list of
 * ECDHE with AES-GCM or ChaCha20 for 1.2, no compression, no
 * renegotiation, ALPN answered with http/1.1 only when offered (never a
 * protocol it does not speak), and buffers given back while idle.
 * Resumption: session tickets whose keys every worker shares, made at
 * start and rotated (tickets of the key before still resume, and are
 * renewed), and a session cache for TLS 1.2 clients without tickets.
 *
 * The set is shared by the threads of a process: tlssrv_ssl() may be
 * called from any while tlssrv_reload() runs in another.  A connection
 * keeps the certificates it was given until it closes.
 */
struct tlssrv_conf {
	int		 tc_min;		/* TLS1_2_VERSION (default), _3_ */
	const char	*tc_ciphers;		/* TLS 1.2 list; NULL: ours */
	const char	*tc_suites;		/* TLS 1.3 suites; NULL: OpenSSL's */
	int		 tc_notickets;		/* no session tickets */
	int		 tc_strict;		/* unknown name: no handshake */
	const char	*tc_client_ca;		/* ask client certificates */
	int		 tc_client_optional;	/* ...without requiring one */
	uint64_t	 tc_rotate_ms;		/* ticket keys (0: 12 hours) */
	int		 tc_warn_days;		/* expiring soon (0: 30) */
};

struct tlssrv;

/*
 * Whether OpenSSL takes c's cipher list and TLS 1.3 suites, before any
 * file is read: 0, or -1 with the list and why in err.
 */
int	 tlssrv_conf_check(const struct tlssrv_conf *c, char *err,
	    size_t errlen);

/*
 * Load the certificates of specs[0..n): "CERT[,KEY]" (a PEM file with
 * the chain, and the key in KEY or in CERT itself), or a directory whose
 * NAME.pem (chain and key) and NAME.crt with NAME.key pairs are loaded
 * in name order.  Refuses, with one line in err naming the file and what
 * is wrong: a file that does not load, a key that does not match its
 * certificate, a key file that others may read, an expired certificate.
 * One that expires within the warning days is said on stderr.  Returns
 * the set, or NULL.
 */
struct tlssrv	*tlssrv_new(const struct tlssrv_conf *c, char *const *specs,
		    size_t n, char *err, size_t errlen);

/*
 * Load the same files again, each that loads replacing its old pair;
 * each that does not keeps the old one in service and is said on
 * stderr, one line naming the file and why.  Returns how many failed.
 */
int	 tlssrv_reload(struct tlssrv *ts);

/* A server connection over the socket fd (NULL with err on failure). */
SSL	*tlssrv_ssl(struct tlssrv *ts, int fd, char *err, size_t errlen);

/* The main thread, once a second: rotates the ticket keys when due. */
void	 tlssrv_tick(struct tlssrv *ts);

/*
 * One line per certificate: "cert FILE NAMES EXPIRY", tab-separated, the
 * names comma-separated, the expiry ISO 8601 UTC (for -1 and scripts).
 */
void	 tlssrv_list(struct tlssrv *ts, FILE *fp);

void	 tlssrv_free(struct tlssrv *ts);

#endif
