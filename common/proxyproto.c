/* proxyproto: read and write HAProxy's PROXY protocol header, v1 and v2. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proxyproto.h"

static const char v1sig[] = "PROXY ";
#define V1SIGLEN	(sizeof(v1sig) - 1)

static const char v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* v2 families (high nibble of byte 13), their address block sizes */
#define V2_UNSPEC	0x0
#define V2_INET		0x1
#define V2_INET6	0x2
#define V2_UNIX		0x3
static const size_t v2addrlen[] = { 0, 12, 36, 216 };
#define V2_UNIXPATH	108

#define V2_CMD_LOCAL	0x0
#define V2_CMD_PROXY	0x1

/* The v1 protocol tokens, each with what follows it. */
static const char *const v1proto[] = { "TCP4 ", "TCP6 ", "UNKNOWN" };

static int	v1_parse(const char *, size_t, struct proxyproto *);
static int	v1_prefix(const char *, size_t);
static int	v1_line(const char *, size_t, struct proxyproto *);
static int	v1_field(const char **, const char *, char *, size_t);
static int	v1_port(const char *, in_port_t *);
static int	v2_parse(const char *, size_t, struct proxyproto *);

int
proxyproto_parse(const char *buf, size_t len, struct proxyproto *out)
{
	if (len == 0)
		return (-2);
	if (buf[0] == v1sig[0])
		return (v1_parse(buf, len, out));
	if (buf[0] == v2sig[0])
		return (v2_parse(buf, len, out));
	return (-1);
}

static int
v1_parse(const char *buf, size_t len, struct proxyproto *out)
{
	size_t	 i, max;

	max = len < PROXYPROTO_V1_MAX ? len : PROXYPROTO_V1_MAX;
	for (i = 0; i < max; i++)
		if (buf[i] == '\n')
			break;
	if (i == max) {
		/* No end of line yet: wait only if what came may be one. */
		if (len >= PROXYPROTO_V1_MAX)
			return (-1);
		return (v1_prefix(buf, len));
	}
	/* buf[i] is the LF; the line is everything before the CR. */
	if (i < V1SIGLEN + 1 || buf[i - 1] != '\r' ||
	    memcmp(buf, v1sig, V1SIGLEN) != 0)
		return (-1);
	if (v1_line(buf + V1SIGLEN, i - 1 - V1SIGLEN, out) == -1)
		return (-1);
	return ((int)i + 1);
}

/*
 * Is buf (len bytes, no LF among them) the start of a v1 line that may
 * still turn out valid?  -2 if so, -1 if not.
 */
static int
v1_prefix(const char *buf, size_t len)
{
	const char	*tok;
	size_t		 i, n, p;

	n = len < V1SIGLEN ? len : V1SIGLEN;
	if (memcmp(buf, v1sig, n) != 0)
		return (-1);
	if (len <= V1SIGLEN)
		return (-2);
	buf += V1SIGLEN;
	len -= V1SIGLEN;
	for (p = 0; p < sizeof(v1proto) / sizeof(v1proto[0]); p++) {
		tok = v1proto[p];
		n = strlen(tok);
		if (memcmp(buf, tok, len < n ? len : n) == 0)
			break;
	}
	if (p == sizeof(v1proto) / sizeof(v1proto[0]))
		return (-1);
	if (tok[0] == 'U') {
		/* "UNKNOWN" then nothing or a space, then anything. */
		if (len > n && buf[n] != ' ' &&
		    !(buf[n] == '\r' && len == n + 1))
			return (-1);
		return (-2);
	}
	/* TCP: digits, hex, dots, colons and spaces; a CR only last. */
	for (i = n; i < len; i++) {
		if (buf[i] == '\r' && i == len - 1)
			break;
		if (strchr("0123456789abcdefABCDEF.: ", buf[i]) == NULL ||
		    buf[i] == '\0')
			return (-1);
	}
	return (-2);
}

/* The line after "PROXY " and before the CRLF, len bytes. */
static int
v1_line(const char *s, size_t len, struct proxyproto *out)
{
	const char		*end = s + len;
	char			 a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	char			 sp[8], dp[8];
	struct sockaddr_in	*s4, *d4;
	struct sockaddr_in6	*s6, *d6;
	in_port_t		 sport, dport;
	int			 af;

	memset(out, 0, sizeof(*out));
	out->pp_version = 1;
	if (len >= 7 && memcmp(s, "UNKNOWN", 7) == 0) {
		if (len > 7 && s[7] != ' ')
			return (-1);
		return (0);	/* family AF_UNSPEC: nothing to fill */
	}
	if (len < 5 || memcmp(s, "TCP", 3) != 0 || s[4] != ' ')
		return (-1);
	if (s[3] == '4')
		af = AF_INET;
	else if (s[3] == '6')
		af = AF_INET6;
	else
		return (-1);
	s += 5;
	if (v1_field(&s, end, a, sizeof(a)) == -1 ||
	    v1_field(&s, end, b, sizeof(b)) == -1 ||
	    v1_field(&s, end, sp, sizeof(sp)) == -1 ||
	    v1_field(&s, end, dp, sizeof(dp)) == -1 || s != end + 1)
		return (-1);
	if (v1_port(sp, &sport) == -1 || v1_port(dp, &dport) == -1)
		return (-1);
	out->pp_socktype = SOCK_STREAM;
	if (af == AF_INET) {
		s4 = (struct sockaddr_in *)&out->pp_src;
		d4 = (struct sockaddr_in *)&out->pp_dst;
		if (inet_pton(AF_INET, a, &s4->sin_addr) != 1 ||
		    inet_pton(AF_INET, b, &d4->sin_addr) != 1)
			return (-1);
		s4->sin_family = d4->sin_family = AF_INET;
		s4->sin_port = sport;
		d4->sin_port = dport;
	} else {
		s6 = (struct sockaddr_in6 *)&out->pp_src;
		d6 = (struct sockaddr_in6 *)&out->pp_dst;
		if (inet_pton(AF_INET6, a, &s6->sin6_addr) != 1 ||
		    inet_pton(AF_INET6, b, &d6->sin6_addr) != 1)
			return (-1);
		s6->sin6_family = d6->sin6_family = AF_INET6;
		s6->sin6_port = sport;
		d6->sin6_port = dport;
	}
	return (0);
}

/*
 * Copy the field at *sp, which ends at a single space or at end, into
 * f (NUL-terminated, at most flen - 1 bytes) and step past it and its
 * separator.  The last field leaves *sp at end + 1.  -1 when empty, too
 * long, or holding a NUL (which would hide the rest from inet_pton).
 */
static int
v1_field(const char **sp, const char *end, char *f, size_t flen)
{
	const char	*s = *sp, *e;

	if (s >= end)
		return (-1);
	for (e = s; e < end && *e != ' '; e++)
		;
	if (e == s || (size_t)(e - s) >= flen ||
	    memchr(s, '\0', (size_t)(e - s)) != NULL)
		return (-1);
	memcpy(f, s, (size_t)(e - s));
	f[e - s] = '\0';
	*sp = e + 1;
	return (0);
}

/* A decimal port 0-65535, no sign, no leading zero; network order. */
static int
v1_port(const char *s, in_port_t *port)
{
	unsigned long	 v = 0;
	const char	*p;

	if (s[0] == '0' && s[1] != '\0')
		return (-1);
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return (-1);
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return (-1);
	}
	if (p == s)
		return (-1);
	*port = htons((in_port_t)v);
	return (0);
}

static int
v2_parse(const char *buf, size_t len, struct proxyproto *out)
{
	const unsigned char	*u = (const unsigned char *)buf;
	struct sockaddr_in	*s4, *d4;
	struct sockaddr_in6	*s6, *d6;
	struct sockaddr_un	*su, *du;
	size_t			 n, total, alen, off, tl;
	int			 cmd, fam, proto;

	n = len < sizeof(v2sig) ? len : sizeof(v2sig);
	if (memcmp(buf, v2sig, n) != 0)
		return (-1);
	if (len <= 12)
		return (-2);
	if ((u[12] >> 4) != 2 || (u[12] & 0xf) > V2_CMD_PROXY)
		return (-1);
	cmd = u[12] & 0xf;
	if (len <= 13)
		return (-2);
	fam = u[13] >> 4;
	proto = u[13] & 0xf;
	if (fam > V2_UNIX || proto > 2)
		return (-1);
	if (len < PROXYPROTO_V2_HDR)
		return (-2);
	total = PROXYPROTO_V2_HDR + ((size_t)u[14] << 8 | u[15]);
	alen = v2addrlen[fam];
	if (cmd == V2_CMD_PROXY && total < PROXYPROTO_V2_HDR + alen)
		return (-1);
	if (len < total)
		return (-2);

	memset(out, 0, sizeof(*out));
	out->pp_version = 2;
	out->pp_tlvoff = total;
	if (cmd == V2_CMD_LOCAL) {
		/* The spec: discard the block, family included. */
		out->pp_local = 1;
		return ((int)total);
	}
	out->pp_socktype = proto == 1 ? SOCK_STREAM :
	    proto == 2 ? SOCK_DGRAM : 0;
	u += PROXYPROTO_V2_HDR;
	switch (fam) {
	case V2_INET:
		s4 = (struct sockaddr_in *)&out->pp_src;
		d4 = (struct sockaddr_in *)&out->pp_dst;
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, u, 4);
		memcpy(&d4->sin_addr, u + 4, 4);
		memcpy(&s4->sin_port, u + 8, 2);
		memcpy(&d4->sin_port, u + 10, 2);
		break;
	case V2_INET6:
		s6 = (struct sockaddr_in6 *)&out->pp_src;
		d6 = (struct sockaddr_in6 *)&out->pp_dst;
		s6->sin6_family = d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, u, 16);
		memcpy(&d6->sin6_addr, u + 16, 16);
		memcpy(&s6->sin6_port, u + 32, 2);
		memcpy(&d6->sin6_port, u + 34, 2);
		break;
	case V2_UNIX:
		su = (struct sockaddr_un *)&out->pp_src;
		du = (struct sockaddr_un *)&out->pp_dst;
		su->sun_family = du->sun_family = AF_UNIX;
		memcpy(su->sun_path, u, V2_UNIXPATH);
		memcpy(du->sun_path, u + V2_UNIXPATH, V2_UNIXPATH);
		break;
	}
	/* TLVs: type, 16-bit length, value; each must fit in the block. */
	out->pp_tlvoff = PROXYPROTO_V2_HDR + alen;
	out->pp_tlvlen = total - out->pp_tlvoff;
	for (off = out->pp_tlvoff; off < total; off += 3 + tl) {
		if (total - off < 3)
			return (-1);
		u = (const unsigned char *)buf + off;
		tl = (size_t)u[1] << 8 | u[2];
		if (tl > total - off - 3)
			return (-1);
	}
	return ((int)total);
}

/* The IPv6 form of an inet address: itself, or its v4-mapped form. */
static void
v6of(const struct sockaddr *sa, struct in6_addr *a, in_port_t *port)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;

	if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)sa;
		*a = s6->sin6_addr;
		*port = s6->sin6_port;
		return;
	}
	s4 = (const struct sockaddr_in *)sa;
	memset(a, 0, sizeof(*a));
	a->s6_addr[10] = a->s6_addr[11] = 0xff;
	memcpy(&a->s6_addr[12], &s4->sin_addr, 4);
	*port = s4->sin_port;
}

static int
isinet(const struct sockaddr *sa)
{
	return (sa != NULL &&
	    (sa->sa_family == AF_INET || sa->sa_family == AF_INET6));
}

ssize_t
proxyproto_write(int version, const struct sockaddr *src,
    const struct sockaddr *dst, char *buf, size_t len)
{
	const struct sockaddr_in	*s4 = NULL, *d4 = NULL;
	struct in6_addr			 sa6, da6;
	in_port_t			 sp, dp;
	char				 tmp[PROXYPROTO_WRITE_MAX + 1];
	char				 a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	unsigned char			*u = (unsigned char *)tmp;
	size_t				 n;
	int				 r;

	if (version != 1 && version != 2) {
		errno = EINVAL;
		return (-1);
	}
	if (isinet(src) && isinet(dst) && src->sa_family == AF_INET &&
	    dst->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)src;
		d4 = (const struct sockaddr_in *)dst;
	} else if (isinet(src) && isinet(dst)) {
		v6of(src, &sa6, &sp);
		v6of(dst, &da6, &dp);
	} else
		src = dst = NULL;

	if (version == 1) {
		if (src == NULL)
			r = snprintf(tmp, sizeof(tmp), "PROXY UNKNOWN\r\n");
		else if (s4 != NULL) {
			inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
			inet_ntop(AF_INET, &d4->sin_addr, b, sizeof(b));
			r = snprintf(tmp, sizeof(tmp),
			    "PROXY TCP4 %s %s %u %u\r\n", a, b,
			    ntohs(s4->sin_port), ntohs(d4->sin_port));
		} else {
			inet_ntop(AF_INET6, &sa6, a, sizeof(a));
			inet_ntop(AF_INET6, &da6, b, sizeof(b));
			r = snprintf(tmp, sizeof(tmp),
			    "PROXY TCP6 %s %s %u %u\r\n", a, b,
			    ntohs(sp), ntohs(dp));
		}
		n = (size_t)r;	/* at most 104: it always fits */
	} else {
		memcpy(u, v2sig, sizeof(v2sig));
		n = PROXYPROTO_V2_HDR;
		if (src == NULL) {
			u[12] = 0x20 | V2_CMD_LOCAL;
			u[13] = V2_UNSPEC << 4;
		} else if (s4 != NULL) {
			u[12] = 0x20 | V2_CMD_PROXY;
			u[13] = V2_INET << 4 | 1;
			memcpy(u + n, &s4->sin_addr, 4);
			memcpy(u + n + 4, &d4->sin_addr, 4);
			memcpy(u + n + 8, &s4->sin_port, 2);
			memcpy(u + n + 10, &d4->sin_port, 2);
			n += 12;
		} else {
			u[12] = 0x20 | V2_CMD_PROXY;
			u[13] = V2_INET6 << 4 | 1;
			memcpy(u + n, &sa6, 16);
			memcpy(u + n + 16, &da6, 16);
			memcpy(u + n + 32, &sp, 2);
			memcpy(u + n + 34, &dp, 2);
			n += 36;
		}
		u[14] = (unsigned char)((n - PROXYPROTO_V2_HDR) >> 8);
		u[15] = (unsigned char)(n - PROXYPROTO_V2_HDR);
	}
	if (n > len) {
		errno = ENOBUFS;
		return (-1);
	}
	memcpy(buf, tmp, n);
	return ((ssize_t)n);
}
