/* sni: find the server name in a TLS ClientHello without decrypting. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "sni.h"

#define TLS_HANDSHAKE		22	/* record content type */
#define TLS_CLIENT_HELLO	1	/* handshake message type */
#define TLS_EXT_SERVER_NAME	0
#define TLS_SNI_HOST_NAME	0
#define TLS_RECORD_MAX		16384	/* plaintext record payload, 2^14 */

/*
 * A reader of the handshake bytes that run through one or more records:
 * it steps over each record header as it comes, checking it.  r_left
 * bounds what may be read: the bytes left of the enclosing structure.
 */
struct sni_rd {
	const unsigned char	*r_buf;
	size_t			 r_len;
	size_t			 r_pos;		/* next byte in r_buf */
	size_t			 r_recend;	/* end of this record's payload */
	size_t			 r_left;	/* bytes left to read in hello */
};

/* Step into the next record when this one is used up: 0, -1 or -2. */
static int
rd_record(struct sni_rd *r)
{
	const unsigned char	*h = r->r_buf + r->r_pos;
	size_t			 have = r->r_len - r->r_pos, rl;

	if (r->r_pos < r->r_recend)
		return (0);
	/* Checked byte by byte, so garbage is told early. */
	if (have < 1)
		return (-2);
	if (h[0] != TLS_HANDSHAKE)
		return (-1);
	if (have < 2)
		return (-2);
	if (h[1] != 3)
		return (-1);
	if (have < 3)
		return (-2);
	if (h[2] > 4)
		return (-1);
	if (have < 5)
		return (-2);
	rl = (size_t)h[3] << 8 | h[4];
	if (rl == 0 || rl > TLS_RECORD_MAX)
		return (-1);
	r->r_pos += 5;
	r->r_recend = r->r_pos + rl;
	return (0);
}

/* Read n (1 to 3) bytes as a big-endian number into *v. */
static int
rd_num(struct sni_rd *r, size_t n, size_t *v)
{
	int	 e;

	if (n > r->r_left)
		return (-1);
	*v = 0;
	while (n-- > 0) {
		if ((e = rd_record(r)) != 0)
			return (e);
		if (r->r_pos >= r->r_len)
			return (-2);
		*v = *v << 8 | r->r_buf[r->r_pos++];
		r->r_left--;
	}
	return (0);
}

/* Step over n bytes, or copy them to out when out is not NULL. */
static int
rd_skip(struct sni_rd *r, size_t n, unsigned char *out)
{
	size_t	 k;
	int	 e;

	if (n > r->r_left)
		return (-1);
	while (n > 0) {
		if ((e = rd_record(r)) != 0)
			return (e);
		if (r->r_pos >= r->r_len)
			return (-2);
		k = r->r_recend - r->r_pos;
		if (k > r->r_len - r->r_pos)
			k = r->r_len - r->r_pos;
		if (k > n)
			k = n;
		if (out != NULL) {
			memcpy(out, r->r_buf + r->r_pos, k);
			out += k;
		}
		r->r_pos += k;
		r->r_left -= k;
		n -= k;
	}
	return (0);
}

/* A host name's bytes: letters, digits, '-', '_' and '.'. */
static int
hostname_ok(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", s[i]) == NULL ||
		    s[i] == '\0')
			return (0);
	return (1);
}

#define GET(n, v)	do {						\
	if ((e = rd_num(&r, (n), (v))) != 0)				\
		return (e);						\
} while (0)
#define SKIP(n)		do {						\
	if ((e = rd_skip(&r, (n), NULL)) != 0)				\
		return (e);						\
} while (0)

int
sni_parse(const unsigned char *buf, size_t len, char *name, size_t namelen)
{
	struct sni_rd	 r;
	size_t		 v, extleft, elen, etype, listleft, ntype, nlen;
	int		 e, found = 0;

	memset(&r, 0, sizeof(r));
	r.r_buf = buf;
	r.r_len = len;
	r.r_left = 4;
	GET(1, &v);
	if (v != TLS_CLIENT_HELLO)
		return (-1);
	GET(3, &v);
	r.r_left = v;
	GET(2, &v);			/* legacy_version */
	if (v >> 8 != 3)
		return (-1);
	SKIP(32);			/* random */
	GET(1, &v);			/* legacy_session_id */
	if (v > 32)
		return (-1);
	SKIP(v);
	GET(2, &v);			/* cipher_suites */
	if (v < 2 || v % 2 != 0)
		return (-1);
	SKIP(v);
	GET(1, &v);			/* legacy_compression_methods */
	if (v < 1)
		return (-1);
	SKIP(v);
	if (r.r_left > 0) {
		GET(2, &extleft);	/* extensions fill the rest */
		if (extleft != r.r_left)
			return (-1);
	}
	while (r.r_left > 0) {
		GET(2, &etype);
		GET(2, &elen);
		if (elen > r.r_left)
			return (-1);
		if (etype != TLS_EXT_SERVER_NAME) {
			SKIP(elen);
			continue;
		}
		/* One server_name extension holding a list of names. */
		if (found || elen < 2)
			return (-1);
		found = 1;
		GET(2, &listleft);
		if (listleft != elen - 2 || listleft == 0)
			return (-1);
		while (listleft > 0) {
			if (listleft < 3)
				return (-1);
			GET(1, &ntype);
			GET(2, &nlen);
			listleft -= 3;
			if (nlen > listleft)
				return (-1);
			listleft -= nlen;
			if (ntype != TLS_SNI_HOST_NAME) {
				SKIP(nlen);
				continue;
			}
			if (found > 1 || nlen == 0 || nlen >= namelen)
				return (-1);
			found = 2;
			if ((e = rd_skip(&r, nlen, (unsigned char *)name)) != 0)
				return (e);
			name[nlen] = '\0';
			if (!hostname_ok(name, nlen))
				return (-1);
		}
	}
	/* The client sends nothing else before the server answers. */
	if (r.r_pos != r.r_recend)
		return (-1);
	return (found == 2 ? (int)r.r_pos : 0);
}

int
sni_match(const char *pattern, const char *name)
{
	const char	*dot;

	if (*pattern == '\0' || *name == '\0')
		return (0);
	if (pattern[0] == '*' && pattern[1] == '.') {
		if ((dot = strchr(name, '.')) == NULL || dot == name)
			return (0);
		return (strcasecmp(dot, pattern + 1) == 0);
	}
	return (strcasecmp(pattern, name) == 0);
}
