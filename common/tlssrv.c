/* tlssrv: TLS for a server: certificates by name, tickets, reloads. */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tlssrv.h"

#define TLSSRV_CIPHERS	"ECDHE-ECDSA-AES128-GCM-SHA256:" \
			"ECDHE-RSA-AES128-GCM-SHA256:" \
			"ECDHE-ECDSA-AES256-GCM-SHA384:" \
			"ECDHE-RSA-AES256-GCM-SHA384:" \
			"ECDHE-ECDSA-CHACHA20-POLY1305:" \
			"ECDHE-RSA-CHACHA20-POLY1305"
#define TLSSRV_ROTATE_MS (12ULL * 3600 * 1000)
#define TLSSRV_CACHE	20480		/* sessions kept for TLS 1.2 */
#define TLSSRV_LIFE	7200		/* seconds a session resumes */

/* One certificate with its key, in a context of its own. */
struct cert {
	char		*c_spec;		/* the file, as given */
	char		*c_key;
	size_t		 c_arg;			/* the -c it came from */
	SSL_CTX		*c_ctx;
	char		**c_names;		/* lower case */
	size_t		 c_nnames;
	time_t		 c_notafter;
	unsigned char	*c_ocsp;		/* CERT.ocsp, DER, to staple */
	long		 c_ocsplen;
};

/* What a connection was given: freed when the last of them is done. */
struct certset {
	struct cert	*cs_v;
	size_t		 cs_n;
	int		 cs_refs;		/* under ts_mu */
	int		 cs_strict;
	struct tlssrv	*cs_ts;
};

/* A ticket key: name, AES key, HMAC key. */
struct tkey {
	unsigned char	 tk_name[16];
	unsigned char	 tk_aes[32];
	unsigned char	 tk_hmac[32];
	int		 tk_on;
};

/* A pair of files to load, and the specification it came from. */
struct pair {
	char		*p_cert, *p_key;
	size_t		 p_arg;
};

struct tlssrv {
	struct tlssrv_conf ts_conf;
	char		**ts_args;		/* as given: files, directories */
	size_t		 ts_nargs;
	pthread_mutex_t	 ts_mu;			/* the current set and refs */
	struct certset	*ts_cur;
	pthread_rwlock_t ts_tklock;
	struct tkey	 ts_tk[2];		/* current, and the one before */
	time_t		 ts_rotated;
};

static int	 set_idx = -1;		/* SSL ex_data: its certset */
static pthread_once_t idx_once = PTHREAD_ONCE_INIT;
/* The servers of the process, for the ticket callback (one usually). */
static struct tlssrv *ticket_ts;

static void
set_unref(struct tlssrv *ts, struct certset *cs)
{
	size_t	 i, k;
	int	 left;

	pthread_mutex_lock(&ts->ts_mu);
	left = --cs->cs_refs;
	pthread_mutex_unlock(&ts->ts_mu);
	if (left > 0)
		return;
	for (i = 0; i < cs->cs_n; i++) {
		/* Contexts are refcounted: one the new set kept lives on. */
		SSL_CTX_free(cs->cs_v[i].c_ctx);
		for (k = 0; k < cs->cs_v[i].c_nnames; k++)
			free(cs->cs_v[i].c_names[k]);
		free(cs->cs_v[i].c_names);
		free(cs->cs_v[i].c_spec);
		free(cs->cs_v[i].c_key);
		OPENSSL_free(cs->cs_v[i].c_ocsp);
	}
	free(cs->cs_v);
	free(cs);
}

/* OpenSSL frees an SSL: the set it was given loses a user. */
static void
ssl_freed(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	struct certset	*cs = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (cs != NULL)
		set_unref(cs->cs_ts, cs);
}

static void
make_idx(void)
{
	set_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, ssl_freed);
}

/* The last error of OpenSSL's queue, as words. */
static const char *
ssl_why(void)
{
	unsigned long	 e = ERR_peek_last_error();
	const char	*r = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return (r != NULL ? r : "unknown error");
}

/* "*.example.com" matches one label in front; case is ignored. */
static int
name_match(const char *pattern, const char *name)
{
	const char	*dot;

	if (strcasecmp(pattern, name) == 0)
		return (1);
	if (pattern[0] != '*' || pattern[1] != '.')
		return (0);
	if ((dot = strchr(name, '.')) == NULL || dot == name)
		return (0);
	return (strcasecmp(pattern + 1, dot) == 0);
}

static int
on_servername(SSL *ssl, int *alert, void *arg)
{
	struct certset	*cs = SSL_get_ex_data(ssl, set_idx);
	const char	*name;
	size_t		 i, k;

	(void)arg;
	(void)alert;
	if (cs == NULL)
		return (SSL_TLSEXT_ERR_OK);
	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL)
		return (cs->cs_strict ? SSL_TLSEXT_ERR_ALERT_FATAL :
		    SSL_TLSEXT_ERR_OK);
	for (i = 0; i < cs->cs_n; i++)
		for (k = 0; k < cs->cs_v[i].c_nnames; k++)
			if (name_match(cs->cs_v[i].c_names[k], name)) {
				if (i > 0)
					SSL_set_SSL_CTX(ssl, cs->cs_v[i].c_ctx);
				return (SSL_TLSEXT_ERR_OK);
			}
	if (cs->cs_strict) {
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		return (SSL_TLSEXT_ERR_ALERT_FATAL);
	}
	return (SSL_TLSEXT_ERR_OK);
}

/* ALPN: http/1.1 when offered; nothing else, ever. */
static int
on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned int	 i;

	(void)ssl;
	(void)arg;
	for (i = 0; i < inlen && i + 1 + in[i] <= inlen; i += 1 + in[i])
		if (in[i] == 8 && memcmp(in + i + 1, "http/1.1", 8) == 0) {
			*out = in + i + 1;
			*outlen = 8;
			return (SSL_TLSEXT_ERR_OK);
		}
	return (SSL_TLSEXT_ERR_NOACK);
}

/*
 * OCSP stapling: the response read from CERT.ocsp, as it is, for the
 * certificate the connection was given (found by its context: a context
 * kept across a reload belongs to more than one set).
 */
static int
on_status(SSL *ssl, void *arg)
{
	struct certset	*cs = SSL_get_ex_data(ssl, set_idx);
	SSL_CTX		*ctx = SSL_get_SSL_CTX(ssl);
	unsigned char	*p;
	size_t		 i;

	(void)arg;
	if (cs == NULL)
		return (SSL_TLSEXT_ERR_NOACK);
	for (i = 0; i < cs->cs_n; i++) {
		if (cs->cs_v[i].c_ctx != ctx || cs->cs_v[i].c_ocsp == NULL)
			continue;
		if ((p = OPENSSL_memdup(cs->cs_v[i].c_ocsp,
		    (size_t)cs->cs_v[i].c_ocsplen)) == NULL)
			break;
		SSL_set_tlsext_status_ocsp_resp(ssl, p, cs->cs_v[i].c_ocsplen);
		return (SSL_TLSEXT_ERR_OK);
	}
	return (SSL_TLSEXT_ERR_NOACK);
}

static int
on_ticket(SSL *ssl, unsigned char name[16], unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct tlssrv	*ts = ticket_ts;
	OSSL_PARAM	 params[3];
	struct tkey	*k = NULL;
	int		 i, rc = 0;

	(void)ssl;
	if (ts == NULL)
		return (0);
	pthread_rwlock_rdlock(&ts->ts_tklock);
	if (enc) {
		k = &ts->ts_tk[0];
		if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1)
			goto done;
		memcpy(name, k->tk_name, 16);
		if (EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL,
		    k->tk_aes, iv) != 1)
			goto done;
		rc = 1;
	} else {
		for (i = 0; i < 2; i++)
			if (ts->ts_tk[i].tk_on && memcmp(name,
			    ts->ts_tk[i].tk_name, 16) == 0) {
				k = &ts->ts_tk[i];
				break;
			}
		/* Unknown (older, or another process's): a full handshake. */
		if (k == NULL)
			goto done;
		if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL,
		    k->tk_aes, iv) != 1)
			goto done;
		/*
		 * Resume, and always renew: a TLS 1.3 client uses a ticket
		 * once (RFC 8446 C.4, as browsers do), and one given no new
		 * ticket makes a full handshake every other time.  Renewing
		 * also moves a ticket of the key before to the current one.
		 */
		rc = 2;
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    k->tk_hmac, sizeof(k->tk_hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		rc = 0;
 done:
	pthread_rwlock_unlock(&ts->ts_tklock);
	return (rc);
}

static int
tkey_make(struct tkey *k)
{
	if (RAND_bytes(k->tk_name, sizeof(k->tk_name)) != 1 ||
	    RAND_bytes(k->tk_aes, sizeof(k->tk_aes)) != 1 ||
	    RAND_bytes(k->tk_hmac, sizeof(k->tk_hmac)) != 1)
		return (-1);
	k->tk_on = 1;
	return (0);
}

/* The DNS names of x: its subjectAltName, else its common name. */
static int
names_of(X509 *x, struct cert *c)
{
	GENERAL_NAMES	*gn;
	const GENERAL_NAME *g;
	char		 cn[256], *n, *p;
	int		 i, len;

	if ((gn = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL)) != NULL) {
		for (i = 0; i < sk_GENERAL_NAME_num(gn); i++) {
			g = sk_GENERAL_NAME_value(gn, i);
			if (g->type != GEN_DNS)
				continue;
			len = ASN1_STRING_length(g->d.dNSName);
			if (len <= 0 || len > 253 || (n = strndup((const char *)
			    ASN1_STRING_get0_data(g->d.dNSName),
			    (size_t)len)) == NULL)
				continue;
			if ((c->c_names = reallocarray(c->c_names,
			    c->c_nnames + 1, sizeof(*c->c_names))) == NULL) {
				free(n);
				GENERAL_NAMES_free(gn);
				return (-1);
			}
			for (p = n; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			c->c_names[c->c_nnames++] = n;
		}
		GENERAL_NAMES_free(gn);
	}
	if (c->c_nnames > 0)
		return (0);
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn)) <= 0)
		return (0);
	if ((c->c_names = calloc(1, sizeof(*c->c_names))) == NULL ||
	    (c->c_names[0] = strdup(cn)) == NULL)
		return (-1);
	for (p = c->c_names[0]; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	c->c_nnames = 1;
	return (0);
}

static time_t
asn1_time(const ASN1_TIME *t)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return (0);
	return (timegm(&tm));
}

static void	 open_why(const char *, int, char *, size_t);

/* The options every context of ours has. */
static int
ctx_setup(struct tlssrv *ts, SSL_CTX *ctx, char *err, size_t errlen)
{
	const struct tlssrv_conf *c = &ts->ts_conf;

	SSL_CTX_set_min_proto_version(ctx, c->tc_min ? c->tc_min :
	    TLS1_2_VERSION);
	/*
	 * A client that hangs up without a close_notify has ended, as
	 * nginx and curl take it: for OpenSSL 3 it is a fatal error, which
	 * would also drop its session from the cache.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_IGNORE_UNEXPECTED_EOF |
	    (c->tc_notickets ? SSL_OP_NO_TICKET : 0));
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
	SSL_CTX_set_read_ahead(ctx, 1);
	if (SSL_CTX_set_cipher_list(ctx, c->tc_ciphers ? c->tc_ciphers :
	    TLSSRV_CIPHERS) != 1) {
		snprintf(err, errlen, "bad cipher list '%s': %s",
		    c->tc_ciphers ? c->tc_ciphers : TLSSRV_CIPHERS, ssl_why());
		return (-1);
	}
	if (c->tc_suites != NULL && SSL_CTX_set_ciphersuites(ctx,
	    c->tc_suites) != 1) {
		snprintf(err, errlen, "bad TLS 1.3 suites '%s': %s",
		    c->tc_suites, ssl_why());
		return (-1);
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, TLSSRV_CACHE);
	SSL_CTX_set_timeout(ctx, TLSSRV_LIFE);
	/* The same in every context, so that a session outlives SNI's switch. */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"tlssrv",
	    6);
	/*
	 * One ticket a handshake is enough to come back with.  Without
	 * ticket keys (tickets=no), a TLS 1.3 ticket only names a session
	 * of the cache, as a TLS 1.2 session id does.
	 */
	SSL_CTX_set_num_tickets(ctx, 1);
	if (!c->tc_notickets)
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket);
	SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
	SSL_CTX_set_alpn_select_cb(ctx, on_alpn, NULL);
	if (c->tc_client_ca != NULL) {
		STACK_OF(X509_NAME) *names;
		FILE	*fp;

		/* OpenSSL would say "system lib": say which error it was. */
		if ((fp = fopen(c->tc_client_ca, "r")) == NULL) {
			open_why(c->tc_client_ca, errno, err, errlen);
			return (-1);
		}
		fclose(fp);
		if (SSL_CTX_load_verify_locations(ctx, c->tc_client_ca,
		    NULL) != 1 || (names = SSL_load_client_CA_file(
		    c->tc_client_ca)) == NULL) {
			snprintf(err, errlen, "%s: %s", c->tc_client_ca,
			    ssl_why());
			return (-1);
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    (c->tc_client_optional ? 0 :
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT), NULL);
	}
	return (0);
}

int
tlssrv_conf_check(const struct tlssrv_conf *c, char *err, size_t errlen)
{
	SSL_CTX	*ctx;
	int	 ret = -1;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s", ssl_why());
		return (-1);
	}
	if (c->tc_ciphers != NULL && SSL_CTX_set_cipher_list(ctx,
	    c->tc_ciphers) != 1)
		snprintf(err, errlen, "bad cipher list '%s': %s",
		    c->tc_ciphers, ssl_why());
	else if (c->tc_suites != NULL && SSL_CTX_set_ciphersuites(ctx,
	    c->tc_suites) != 1)
		snprintf(err, errlen, "bad TLS 1.3 suites '%s': %s",
		    c->tc_suites, ssl_why());
	else
		ret = 0;
	SSL_CTX_free(ctx);
	return (ret);
}

/* Why a file could not be opened: errno's words, and as whom. */
static void
open_why(const char *path, int e, char *err, size_t errlen)
{
	struct passwd	*pw;

	if (e == EACCES && geteuid() != 0 &&
	    (pw = getpwuid(geteuid())) != NULL)
		snprintf(err, errlen, "%s: %s (to user %s)", path, strerror(e),
		    pw->pw_name);
	else
		snprintf(err, errlen, "%s: %s", path, strerror(e));
}

/* A key is never asked a passphrase for: a server has no one to ask. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return (-1);
}

/*
 * The private key of path, read from the file whose mode is checked, so
 * that what is checked is what is read.  NULL with err.
 */
static EVP_PKEY *
key_read(const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	EVP_PKEY	*k;
	FILE		*fp;
	unsigned long	 e;

	if ((fp = fopen(path, "r")) == NULL) {
		open_why(path, errno, err, errlen);
		return (NULL);
	}
	ERR_clear_error();
	k = PEM_read_PrivateKey(fp, NULL, no_passphrase, NULL);
	e = ERR_peek_last_error();
	if (k == NULL) {
		if (ERR_GET_REASON(e) == PEM_R_BAD_PASSWORD_READ ||
		    ERR_GET_REASON(e) == PEM_R_PROBLEMS_GETTING_PASSWORD)
			snprintf(err, errlen, "%s: the private key is "
			    "encrypted: give it decrypted, mode 0600", path);
		else
			snprintf(err, errlen, "%s: no private key in it", path);
	} else if (fstat(fileno(fp), &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		EVP_PKEY_free(k);
		k = NULL;
	} else if (st.st_mode & (S_IROTH | S_IWOTH)) {
		/* A key that anyone may read is no longer a secret. */
		snprintf(err, errlen, "%s: a private key that others may "
		    "read (mode %04o): chmod o-rw it", path,
		    (unsigned)(st.st_mode & 07777));
		EVP_PKEY_free(k);
		k = NULL;
	}
	ERR_clear_error();
	fclose(fp);
	return (k);
}

/* The certificate chain of path into ctx; -1 with err. */
static int
chain_read(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	FILE		*fp;
	unsigned long	 e;

	/* OpenSSL would say "system lib": say which error it was. */
	if ((fp = fopen(path, "r")) == NULL) {
		open_why(path, errno, err, errlen);
		return (-1);
	}
	fclose(fp);
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, path) == 1)
		return (0);
	e = ERR_peek_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
		snprintf(err, errlen, "%s: no certificate in it (PEM)", path);
	else
		snprintf(err, errlen, "%s: no certificate in it: %s", path,
		    ssl_why());
	ERR_clear_error();
	return (-1);
}

/* Load one pair into c (c_spec and c_key set); -1 with err. */
static int
cert_load(struct tlssrv *ts, struct cert *c, char *err, size_t errlen)
{
	EVP_PKEY	*key = NULL;
	X509		*x;
	FILE		*fp;
	char		 ocsp[4096];
	time_t		 now = time(NULL);
	int		 days;

	ERR_clear_error();
	if ((c->c_ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s", ssl_why());
		return (-1);
	}
	SSL_CTX_set_default_passwd_cb(c->c_ctx, no_passphrase);
	if (ctx_setup(ts, c->c_ctx, err, errlen) == -1)
		goto fail;
	if (chain_read(c->c_ctx, c->c_spec, err, errlen) == -1)
		goto fail;
	if ((key = key_read(c->c_key, err, errlen)) == NULL)
		goto fail;
	if (SSL_CTX_use_PrivateKey(c->c_ctx, key) != 1 ||
	    SSL_CTX_check_private_key(c->c_ctx) != 1) {
		if (strcmp(c->c_key, c->c_spec) == 0)
			snprintf(err, errlen, "%s: the key does not match the "
			    "certificate", c->c_key);
		else
			snprintf(err, errlen, "%s: the key does not match the "
			    "certificate of %s", c->c_key, c->c_spec);
		ERR_clear_error();
		goto fail;
	}
	EVP_PKEY_free(key);
	key = NULL;
	x = SSL_CTX_get0_certificate(c->c_ctx);
	c->c_notafter = asn1_time(X509_get0_notAfter(x));
	if (X509_cmp_time(X509_get0_notAfter(x), &now) < 0) {
		snprintf(err, errlen, "%s: the certificate expired", c->c_spec);
		goto fail;
	}
	if (names_of(x, c) == -1) {
		snprintf(err, errlen, "%s: %s", c->c_spec, strerror(errno));
		goto fail;
	}
	days = (int)((c->c_notafter - now) / 86400);
	if (days < (ts->ts_conf.tc_warn_days ? ts->ts_conf.tc_warn_days : 30))
		log_warnx("%s: the certificate expires in %d days", c->c_spec,
		    days);
	/* CERT.ocsp beside it, if there: stapled as it is. */
	snprintf(ocsp, sizeof(ocsp), "%s.ocsp", c->c_spec);
	if ((fp = fopen(ocsp, "rb")) != NULL) {
		unsigned char	*buf = NULL;
		long		 n;

		if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0 &&
		    n < 1 << 20 && fseek(fp, 0, SEEK_SET) == 0 &&
		    (buf = OPENSSL_malloc((size_t)n)) != NULL &&
		    fread(buf, 1, (size_t)n, fp) == (size_t)n) {
			c->c_ocsp = buf;
			c->c_ocsplen = n;
			SSL_CTX_set_tlsext_status_cb(c->c_ctx, on_status);
		} else
			OPENSSL_free(buf);
		fclose(fp);
	}
	return (0);
 fail:
	EVP_PKEY_free(key);
	SSL_CTX_free(c->c_ctx);
	c->c_ctx = NULL;
	return (-1);
}

/* Free what a cert holds (not the cert itself). */
static void
cert_clear(struct cert *c)
{
	size_t	 k;

	SSL_CTX_free(c->c_ctx);
	for (k = 0; k < c->c_nnames; k++)
		free(c->c_names[k]);
	free(c->c_names);
	free(c->c_spec);
	free(c->c_key);
	OPENSSL_free(c->c_ocsp);
	memset(c, 0, sizeof(*c));
}

/* c, a copy of o: the same context, shared.  -1 when out of memory. */
static int
cert_dup(struct cert *c, const struct cert *o)
{
	size_t	 k;

	memset(c, 0, sizeof(*c));
	SSL_CTX_up_ref(o->c_ctx);
	c->c_ctx = o->c_ctx;
	c->c_arg = o->c_arg;
	c->c_notafter = o->c_notafter;
	if ((c->c_spec = strdup(o->c_spec)) == NULL ||
	    (c->c_key = strdup(o->c_key)) == NULL ||
	    (c->c_names = calloc(o->c_nnames ? o->c_nnames : 1,
	    sizeof(*c->c_names))) == NULL)
		goto fail;
	for (k = 0; k < o->c_nnames; k++) {
		if ((c->c_names[k] = strdup(o->c_names[k])) == NULL)
			goto fail;
		c->c_nnames++;
	}
	if (o->c_ocsp != NULL) {
		if ((c->c_ocsp = OPENSSL_memdup(o->c_ocsp,
		    (size_t)o->c_ocsplen)) == NULL)
			goto fail;
		c->c_ocsplen = o->c_ocsplen;
	}
	return (0);
 fail:
	cert_clear(c);
	return (-1);
}

static int
pair_add(struct pair **v, size_t *n, const char *cert, const char *key,
    size_t arg)
{
	struct pair	*nv;

	if ((nv = reallocarray(*v, *n + 1, sizeof(**v))) == NULL)
		return (-1);
	*v = nv;
	nv[*n].p_arg = arg;
	if ((nv[*n].p_cert = strdup(cert)) == NULL)
		return (-1);
	if ((nv[*n].p_key = strdup(key)) == NULL) {
		free(nv[*n].p_cert);
		return (-1);
	}
	(*n)++;
	return (0);
}

static void
pairs_free(struct pair *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(v[i].p_cert);
		free(v[i].p_key);
	}
	free(v);
}

static int
cmpstr(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* A directory: NAME.pem alone, NAME.crt with NAME.key; in name order. */
static int
dir_pairs(const char *dir, size_t arg, struct pair **pv, size_t *pn,
    char *err, size_t errlen)
{
	DIR		*d;
	struct dirent	*de;
	char		**v = NULL, **nv, c[4096], k[4096], *dot;
	size_t		 n = 0, i, len, before = *pn;
	int		 ret = -1;

	if ((d = opendir(dir)) == NULL) {
		open_why(dir, errno, err, errlen);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || de->d_name[0] == '.' ||
		    (strcmp(de->d_name + len - 4, ".pem") != 0 &&
		    strcmp(de->d_name + len - 4, ".crt") != 0))
			continue;
		if ((nv = reallocarray(v, n + 1, sizeof(*v))) == NULL)
			goto nomem;
		v = nv;
		if ((v[n] = strdup(de->d_name)) == NULL)
			goto nomem;
		n++;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), cmpstr);
	for (i = 0; i < n; i++) {
		snprintf(c, sizeof(c), "%s/%s", dir, v[i]);
		dot = strrchr(v[i], '.');
		if (strcmp(dot, ".crt") == 0) {
			*dot = '\0';
			snprintf(k, sizeof(k), "%s/%s.key", dir, v[i]);
		} else
			snprintf(k, sizeof(k), "%s", c);
		if (pair_add(pv, pn, c, k, arg) == -1)
			goto nomem;
	}
	if (*pn == before) {
		snprintf(err, errlen, "%s: no NAME.pem or NAME.crt in it", dir);
		goto done;
	}
	ret = 0;
	goto done;
 nomem:
	snprintf(err, errlen, "%s: %s", dir, strerror(errno));
 done:
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	closedir(d);
	return (ret);
}

/*
 * The pairs that the arguments name now: a directory is read again at
 * each load.  One that cannot be read fails the load when there is no
 * old set; with one, its old pairs stay (*keep[arg] set) and it is said.
 */
static int
pairs_of(struct tlssrv *ts, int reload, int *keep, struct pair **pv,
    size_t *pn, char *err, size_t errlen)
{
	struct stat	 st;
	char		*cert, *key, why[700];
	size_t		 i;
	int		 r;

	*pv = NULL;
	*pn = 0;
	for (i = 0; i < ts->ts_nargs; i++) {
		if ((cert = strdup(ts->ts_args[i])) == NULL)
			goto nomem;
		if ((key = strchr(cert, ',')) != NULL)
			*key++ = '\0';
		if (key == NULL && stat(cert, &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			r = dir_pairs(cert, i, pv, pn, why, sizeof(why));
			if (r == -1 && !reload) {
				snprintf(err, errlen, "%s", why);
				free(cert);
				goto fail;
			}
			if (r == -1) {
				log_warnx("%s: its old certificates stay in "
				    "service", why);
				keep[i] = 1;
			}
		} else if (pair_add(pv, pn, cert, key ? key : cert, i) == -1) {
			free(cert);
			goto nomem;
		}
		free(cert);
	}
	return (0);
 nomem:
	snprintf(err, errlen, "%s", strerror(errno));
 fail:
	pairs_free(*pv, *pn);
	*pv = NULL;
	*pn = 0;
	return (-1);
}

/*
 * Load the pair p into the set cs; when it fails, the old pair of the
 * same files stays in service (and *failed counts it).  -1 with err
 * when there is no old set, or memory runs out.
 */
static int
set_add(struct tlssrv *ts, struct certset *cs, struct certset *old,
    const struct pair *p, int *failed, char *err, size_t errlen)
{
	struct cert	*c = &cs->cs_v[cs->cs_n];
	char		 why[700];
	size_t		 k;

	c->c_arg = p->p_arg;
	if ((c->c_spec = strdup(p->p_cert)) == NULL ||
	    (c->c_key = strdup(p->p_key)) == NULL) {
		cert_clear(c);
		snprintf(err, errlen, "%s", strerror(errno));
		return (-1);
	}
	if (cert_load(ts, c, why, sizeof(why)) == 0) {
		cs->cs_n++;
		return (0);
	}
	cert_clear(c);
	if (old == NULL) {
		snprintf(err, errlen, "%s", why);
		return (-1);
	}
	(*failed)++;
	for (k = 0; k < old->cs_n; k++)
		if (strcmp(old->cs_v[k].c_spec, p->p_cert) == 0 &&
		    strcmp(old->cs_v[k].c_key, p->p_key) == 0)
			break;
	if (k == old->cs_n) {
		log_warnx("%s: not loaded", why);
		return (0);
	}
	log_warnx("%s: the old certificate stays in service", why);
	if (cert_dup(c, &old->cs_v[k]) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (-1);
	}
	cs->cs_n++;
	return (0);
}

/*
 * A new set from the arguments; old (or NULL) gives back what fails:
 * each pair is matched with the old one of the same files.
 */
static struct certset *
set_load(struct tlssrv *ts, struct certset *old, int *failed, char *err,
    size_t errlen)
{
	struct certset	*cs = NULL;
	struct cert	*nv;
	struct pair	*pv = NULL;
	size_t		 pn = 0, i, k, a, room;
	int		*keep = NULL;

	*failed = 0;
	if ((keep = calloc(ts->ts_nargs + 1, sizeof(*keep))) == NULL)
		goto nomem;
	if (pairs_of(ts, old != NULL, keep, &pv, &pn, err, errlen) == -1)
		goto fail;
	room = pn + (old != NULL ? old->cs_n : 0);
	if ((cs = calloc(1, sizeof(*cs))) == NULL ||
	    (cs->cs_v = calloc(room ? room : 1, sizeof(*cs->cs_v))) == NULL) {
		free(cs);
		cs = NULL;
		goto nomem;
	}
	cs->cs_refs = 1;
	cs->cs_strict = ts->ts_conf.tc_strict;
	cs->cs_ts = ts;
	for (a = 0; a < ts->ts_nargs; a++) {
		/* A directory that could not be read: its old pairs stay. */
		if (keep[a]) {
			for (k = 0; k < old->cs_n; k++)
				if (old->cs_v[k].c_arg == a) {
					if (cert_dup(&cs->cs_v[cs->cs_n],
					    &old->cs_v[k]) == -1)
						goto nomem;
					cs->cs_n++;
				}
			continue;
		}
		for (i = 0; i < pn; i++) {
			if (pv[i].p_arg != a)
				continue;
			if (set_add(ts, cs, old, &pv[i], failed, err,
			    errlen) == -1)
				goto fail;
		}
	}
	if (cs->cs_n == 0) {
		snprintf(err, errlen, "no certificate loaded");
		goto fail;
	}
	if (cs->cs_n < room && (nv = reallocarray(cs->cs_v, cs->cs_n,
	    sizeof(*cs->cs_v))) != NULL)
		cs->cs_v = nv;
	pairs_free(pv, pn);
	free(keep);
	return (cs);
 nomem:
	snprintf(err, errlen, "%s", strerror(errno));
 fail:
	if (cs != NULL)
		set_unref(ts, cs);
	pairs_free(pv, pn);
	free(keep);
	return (NULL);
}

struct tlssrv *
tlssrv_new(const struct tlssrv_conf *c, char *const *specs, size_t n,
    char *err, size_t errlen)
{
	struct tlssrv	*ts;
	size_t		 i;
	int		 failed;

	pthread_once(&idx_once, make_idx);
	if ((ts = calloc(1, sizeof(*ts))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (NULL);
	}
	ts->ts_conf = *c;
	pthread_mutex_init(&ts->ts_mu, NULL);
	pthread_rwlock_init(&ts->ts_tklock, NULL);
	if ((ts->ts_args = calloc(n ? n : 1, sizeof(*ts->ts_args))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if ((ts->ts_args[i] = strdup(specs[i])) == NULL) {
			snprintf(err, errlen, "%s", strerror(errno));
			goto fail;
		}
		ts->ts_nargs++;
	}
	if (tkey_make(&ts->ts_tk[0]) == -1) {
		snprintf(err, errlen, "ticket key: %s", ssl_why());
		goto fail;
	}
	ts->ts_rotated = time(NULL);
	ticket_ts = ts;
	if ((ts->ts_cur = set_load(ts, NULL, &failed, err, errlen)) == NULL)
		goto fail;
	return (ts);
 fail:
	tlssrv_free(ts);
	return (NULL);
}

int
tlssrv_reload(struct tlssrv *ts)
{
	struct certset	*cs, *old;
	char		 err[700];
	int		 failed;

	pthread_mutex_lock(&ts->ts_mu);
	old = ts->ts_cur;
	old->cs_refs++;
	pthread_mutex_unlock(&ts->ts_mu);
	cs = set_load(ts, old, &failed, err, sizeof(err));
	if (cs == NULL) {
		log_warnx("%s: the certificates stay as they were", err);
		set_unref(ts, old);
		return (-1);
	}
	pthread_mutex_lock(&ts->ts_mu);
	ts->ts_cur = cs;
	pthread_mutex_unlock(&ts->ts_mu);
	set_unref(ts, old);		/* ours, taken above */
	set_unref(ts, old);		/* the server's */
	return (failed);
}

SSL *
tlssrv_ssl(struct tlssrv *ts, int fd, char *err, size_t errlen)
{
	struct certset	*cs;
	SSL		*ssl;

	pthread_mutex_lock(&ts->ts_mu);
	cs = ts->ts_cur;
	cs->cs_refs++;
	pthread_mutex_unlock(&ts->ts_mu);
	ERR_clear_error();
	if ((ssl = SSL_new(cs->cs_v[0].c_ctx)) == NULL) {
		snprintf(err, errlen, "SSL_new: %s", ssl_why());
		set_unref(ts, cs);
		return (NULL);
	}
	/* From here the SSL holds the set; freeing it lets go. */
	SSL_set_ex_data(ssl, set_idx, cs);
	if (SSL_set_fd(ssl, fd) != 1) {
		snprintf(err, errlen, "SSL_set_fd: %s", ssl_why());
		SSL_free(ssl);
		return (NULL);
	}
	SSL_set_accept_state(ssl);
	return (ssl);
}

void
tlssrv_tick(struct tlssrv *ts)
{
	struct tkey	 k;
	uint64_t	 every = ts->ts_conf.tc_rotate_ms ?
			    ts->ts_conf.tc_rotate_ms : TLSSRV_ROTATE_MS;
	time_t		 now = time(NULL);

	if ((uint64_t)(now - ts->ts_rotated) * 1000 < every)
		return;
	if (tkey_make(&k) == -1)
		return;
	pthread_rwlock_wrlock(&ts->ts_tklock);
	ts->ts_tk[1] = ts->ts_tk[0];
	ts->ts_tk[0] = k;
	pthread_rwlock_unlock(&ts->ts_tklock);
	ts->ts_rotated = now;
	explicit_bzero(&k, sizeof(k));
	log_debug("ticket keys rotated");
}

void
tlssrv_list(struct tlssrv *ts, FILE *fp)
{
	struct certset	*cs;
	struct tm	 tm;
	char		 when[32];
	size_t		 i, k;

	pthread_mutex_lock(&ts->ts_mu);
	cs = ts->ts_cur;
	for (i = 0; i < cs->cs_n; i++) {
		gmtime_r(&cs->cs_v[i].c_notafter, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(fp, "cert\t%s\t", cs->cs_v[i].c_spec);
		for (k = 0; k < cs->cs_v[i].c_nnames; k++)
			fprintf(fp, "%s%s", k ? "," : "",
			    cs->cs_v[i].c_names[k]);
		fprintf(fp, "%s\t%s\n", cs->cs_v[i].c_nnames ? "" : "-", when);
	}
	pthread_mutex_unlock(&ts->ts_mu);
}

void
tlssrv_free(struct tlssrv *ts)
{
	size_t	 i;

	if (ts == NULL)
		return;
	if (ts->ts_cur != NULL)
		set_unref(ts, ts->ts_cur);
	if (ticket_ts == ts)
		ticket_ts = NULL;
	explicit_bzero(ts->ts_tk, sizeof(ts->ts_tk));
	for (i = 0; i < ts->ts_nargs; i++)
		free(ts->ts_args[i]);
	free(ts->ts_args);
	pthread_rwlock_destroy(&ts->ts_tklock);
	pthread_mutex_destroy(&ts->ts_mu);
	free(ts);
}
