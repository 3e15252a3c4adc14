/* proxyproto_test: the PROXY header parser and writer, byte by byte. */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxyproto.h"
#include "unit.h"

static int
parse(const void *p, size_t n, struct proxyproto *pp)
{
	return (proxyproto_parse(unit_place(p, n), n, pp));
}

/* Every strict prefix of a valid header asks for more. */
static void
truncations(const char *what, const void *p, size_t n)
{
	struct proxyproto	 pp;
	size_t			 i;
	int			 r;

	for (i = 0; i < n; i++) {
		r = parse(p, i, &pp);
		ok(r == -2, "%s: %zu of %zu bytes: %d, want -2", what, i, n, r);
	}
}

static void
want_inet(const char *what, const struct sockaddr_storage *ss, int af,
    const char *addr, int port)
{
	char	 b[INET6_ADDRSTRLEN] = "";
	int	 p = -1;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s->sin_addr, b, sizeof(b));
		p = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, b, sizeof(b));
		p = ntohs(s->sin6_port);
	}
	ok(ss->ss_family == af && strcmp(b, addr) == 0 && p == port,
	    "%s: got family %d %s port %d, want %d %s port %d", what,
	    ss->ss_family, b, p, af, addr, port);
}

static void
t_v1(void)
{
	struct proxyproto	 pp;
	const char		*l4 = "PROXY TCP4 192.168.0.1 192.168.0.11 "
	    "56324 443\r\n";
	const char		*l6 = "PROXY TCP6 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	const char		*lu = "PROXY UNKNOWN\r\n";
	char			 lul[PROXYPROTO_V1_MAX + 1], in[256];
	int			 r;

	/* The header and the first bytes of the payload behind it. */
	snprintf(in, sizeof(in), "%sGET / HTTP/1.0\r\n\r\n", l4);
	r = parse(in, strlen(in), &pp);
	ok(r == (int)strlen(l4), "v1 tcp4: %d, want %zu", r, strlen(l4));
	ok(pp.pp_version == 1 && pp.pp_socktype == SOCK_STREAM,
	    "v1 tcp4: version %d", pp.pp_version);
	want_inet("v1 tcp4 src", &pp.pp_src, AF_INET, "192.168.0.1", 56324);
	want_inet("v1 tcp4 dst", &pp.pp_dst, AF_INET, "192.168.0.11", 443);
	r = parse(l4, strlen(l4), &pp);
	ok(r == (int)strlen(l4), "v1 tcp4 alone: %d", r);
	truncations("v1 tcp4", l4, strlen(l4));

	r = parse(l6, strlen(l6), &pp);
	ok(r == (int)strlen(l6) && r == 104, "v1 tcp6: %d, want 104", r);
	want_inet("v1 tcp6 src", &pp.pp_src, AF_INET6,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	truncations("v1 tcp6", l6, strlen(l6));
	r = parse("PROXY TCP6 ::1 2001:db8::1 0 1\r\n", 32, &pp);
	ok(r == 32, "v1 tcp6 short: %d", r);
	want_inet("v1 tcp6 short src", &pp.pp_src, AF_INET6, "::1", 0);
	want_inet("v1 tcp6 short dst", &pp.pp_dst, AF_INET6, "2001:db8::1", 1);

	r = parse(lu, strlen(lu), &pp);
	ok(r == 15 && pp.pp_src.ss_family == AF_UNSPEC &&
	    pp.pp_dst.ss_family == AF_UNSPEC, "v1 unknown: %d", r);
	truncations("v1 unknown", lu, strlen(lu));
	/* The longest line: UNKNOWN then anything, 107 bytes in all. */
	memset(lul, 'x', sizeof(lul));
	memcpy(lul, "PROXY UNKNOWN ", 14);
	memcpy(lul + PROXYPROTO_V1_MAX - 2, "\r\n", 2);
	r = parse(lul, PROXYPROTO_V1_MAX, &pp);
	ok(r == PROXYPROTO_V1_MAX, "v1 unknown, 107 bytes: %d", r);
	truncations("v1 unknown long", lul, PROXYPROTO_V1_MAX);
	/* One byte more is one too many. */
	memset(lul, 'x', sizeof(lul));
	memcpy(lul, "PROXY UNKNOWN ", 14);
	memcpy(lul + PROXYPROTO_V1_MAX - 1, "\r\n", 2);
	r = parse(lul, PROXYPROTO_V1_MAX + 1, &pp);
	ok(r == -1, "v1 unknown, 108 bytes: %d, want -1", r);
}

static void
t_v1_bad(void)
{
	static const char *const bad[] = {
		"GET / HTTP/1.1\r\n\r\n",
		"G",
		"PROXX",
		"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
		"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8\r\n",
		"PROXY TCP4\r\n",
		"PROXY TCP4 \r\n",
		"PROXY \r\n",
		"PROXY\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999999999999999999\r\n",
		"PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
		"PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
		"PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
		"PROXY TCP6 ::1 ::g 1 2\r\n",
		"PROXY TCP6 ::1 ::1 1 2\rx",
		"PROXY UNKNOWNX\r\n",
		"PROXY UNKNOWN\rX\r\n",
		"PROXY UNKNOWN\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 x",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\rx",
	};
	struct proxyproto	 pp;
	char			 nul[] = "PROXY TCP4 1.2.3.4\0005.6.7.8 1 2\r\n";
	char			 longl[200];
	size_t			 i;
	int			 r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = parse(bad[i], strlen(bad[i]), &pp);
		ok(r == -1, "v1 garbage %zu \"%s\": %d, want -1", i, bad[i], r);
	}
	r = parse(nul, sizeof(nul) - 1, &pp);
	ok(r == -1, "v1 with a NUL: %d", r);
	/* Found by fuzzing: a NUL inside an address, hidden from inet_pton. */
	r = parse("PROXY TCP6 ::1\0\0 ::2 1 2\r\n", 27, &pp);
	ok(r == -1, "v1 with a NUL in an address: %d", r);
	/* No CRLF in the first 107 bytes. */
	memset(longl, '1', sizeof(longl));
	memcpy(longl, "PROXY TCP4 ", 11);
	r = parse(longl, PROXYPROTO_V1_MAX - 1, &pp);
	ok(r == -2, "v1 106 bytes without CRLF: %d, want -2", r);
	r = parse(longl, PROXYPROTO_V1_MAX, &pp);
	ok(r == -1, "v1 107 bytes without CRLF: %d, want -1", r);
	r = parse(longl, sizeof(longl), &pp);
	ok(r == -1, "v1 200 bytes without CRLF: %d, want -1", r);
}

static const unsigned char v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* A v2 header: vc, fam, then body of blen bytes; returns its length. */
static size_t
v2(unsigned char *h, int vc, int fam, const void *body, size_t blen)
{
	memcpy(h, v2sig, 12);
	h[12] = (unsigned char)vc;
	h[13] = (unsigned char)fam;
	h[14] = (unsigned char)(blen >> 8);
	h[15] = (unsigned char)blen;
	memcpy(h + 16, body, blen);
	return (16 + blen);
}

static void
t_v2(void)
{
	static const unsigned char a4[] = {
		127, 0, 0, 1,  10, 1, 2, 3,  0xc3, 0x50,  0x01, 0xbb,
		/* TLVs: ALPN "h2", NOOP of 3, AUTHORITY "a.example" */
		0x01, 0x00, 0x02, 'h', '2',
		0x04, 0x00, 0x03, 0, 0, 0,
		0x02, 0x00, 0x09, 'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e',
	};
	unsigned char		 a6[36], au[216 + 4], h[512], in[600];
	struct proxyproto	 pp;
	const struct sockaddr_un *su;
	size_t			 n;
	int			 r;

	/* IPv4 with three TLVs, then payload. */
	n = v2(h, 0x21, 0x11, a4, sizeof(a4));
	memcpy(in, h, n);
	memcpy(in + n, "payload", 7);
	r = parse(in, n + 7, &pp);
	ok(r == (int)n, "v2 inet: %d, want %zu", r, n);
	ok(pp.pp_version == 2 && !pp.pp_local &&
	    pp.pp_socktype == SOCK_STREAM, "v2 inet: fields");
	want_inet("v2 inet src", &pp.pp_src, AF_INET, "127.0.0.1", 50000);
	want_inet("v2 inet dst", &pp.pp_dst, AF_INET, "10.1.2.3", 443);
	ok(pp.pp_tlvoff == 28 && pp.pp_tlvlen == sizeof(a4) - 12 &&
	    memcmp(in + pp.pp_tlvoff, a4 + 12, pp.pp_tlvlen) == 0,
	    "v2 inet: TLVs at %zu, %zu bytes", pp.pp_tlvoff, pp.pp_tlvlen);
	truncations("v2 inet", h, n);

	/* IPv6, datagram. */
	memset(a6, 0, sizeof(a6));
	a6[15] = 1;			/* ::1 */
	a6[16] = 0x20; a6[17] = 0x01; a6[18] = 0x0d; a6[19] = 0xb8;
	a6[31] = 2;			/* 2001:db8::2 */
	a6[32] = 0; a6[33] = 1; a6[34] = 0xff; a6[35] = 0xff;
	n = v2(h, 0x21, 0x22, a6, sizeof(a6));
	r = parse(h, n, &pp);
	ok(r == (int)n && r == 52 && pp.pp_socktype == SOCK_DGRAM &&
	    pp.pp_tlvlen == 0, "v2 inet6: %d", r);
	want_inet("v2 inet6 src", &pp.pp_src, AF_INET6, "::1", 1);
	want_inet("v2 inet6 dst", &pp.pp_dst, AF_INET6, "2001:db8::2", 65535);
	truncations("v2 inet6", h, n);

	/* Unix: two 108-byte paths, and a NOOP TLV of length 1. */
	memset(au, 0, sizeof(au));
	strlcpy((char *)au, "/run/client.sock", 108);
	strlcpy((char *)au + 108, "/run/lb.sock", 108);
	au[216] = 0x04; au[217] = 0; au[218] = 1; au[219] = 0;
	n = v2(h, 0x21, 0x31, au, sizeof(au));
	r = parse(h, n, &pp);
	su = (const struct sockaddr_un *)&pp.pp_dst;
	ok(r == (int)n && pp.pp_src.ss_family == AF_UNIX &&
	    strcmp(su->sun_path, "/run/lb.sock") == 0 && pp.pp_tlvlen == 4,
	    "v2 unix: %d", r);
	truncations("v2 unix", h, n);

	/* LOCAL: addresses and TLVs, whatever they are, are skipped. */
	n = v2(h, 0x20, 0x00, "", 0);
	r = parse(h, n, &pp);
	ok(r == 16 && pp.pp_local && pp.pp_src.ss_family == AF_UNSPEC,
	    "v2 local: %d", r);
	truncations("v2 local", h, n);
	n = v2(h, 0x20, 0x11, "\x01\x02\x03", 3);
	r = parse(h, n, &pp);
	ok(r == 19 && pp.pp_local && pp.pp_src.ss_family == AF_UNSPEC,
	    "v2 local with a short inet block: %d", r);

	/* PROXY with family UNSPEC: no addresses, TLVs still checked. */
	n = v2(h, 0x21, 0x00, "\x04\x00\x00", 3);
	r = parse(h, n, &pp);
	ok(r == 19 && !pp.pp_local && pp.pp_src.ss_family == AF_UNSPEC &&
	    pp.pp_tlvoff == 16 && pp.pp_tlvlen == 3, "v2 unspec: %d", r);
}

static void
t_v2_bad(void)
{
	static const unsigned char a4[12] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	unsigned char		 h[512], b[64];
	struct proxyproto	 pp;
	size_t			 n, i;
	int			 r;

	/* A wrong byte anywhere in the signature. */
	for (i = 0; i < 12; i++) {
		n = v2(h, 0x21, 0x11, a4, 12);
		h[i] ^= 0x40;
		r = parse(h, n, &pp);
		ok(r == -1, "v2 signature byte %zu: %d, want -1", i, r);
		r = parse(h, i + 1, &pp);
		ok(r == -1, "v2 signature byte %zu, told early: %d", i, r);
	}
	n = v2(h, 0x11, 0x11, a4, 12);
	ok(parse(h, 13, &pp) == -1, "v2 version 1");
	n = v2(h, 0x31, 0x11, a4, 12);
	ok(parse(h, n, &pp) == -1, "v2 version 3");
	n = v2(h, 0x22, 0x11, a4, 12);
	ok(parse(h, 13, &pp) == -1, "v2 command 2");
	n = v2(h, 0x21, 0x41, a4, 12);
	ok(parse(h, 14, &pp) == -1, "v2 family 4");
	n = v2(h, 0x21, 0x13, a4, 12);
	ok(parse(h, n, &pp) == -1, "v2 transport 3");
	n = v2(h, 0x21, 0x11, a4, 11);
	ok(parse(h, n, &pp) == -1, "v2 inet block of 11 bytes");
	ok(parse(h, 16, &pp) == -1, "v2 inet block of 11 bytes, told early");
	n = v2(h, 0x21, 0x21, a4, 12);
	ok(parse(h, n, &pp) == -1, "v2 inet6 block of 12 bytes");
	n = v2(h, 0x21, 0x31, a4, 12);
	ok(parse(h, n, &pp) == -1, "v2 unix block of 12 bytes");

	/* TLVs that do not fit in the block. */
	memcpy(b, a4, 12);
	memcpy(b + 12, "\x01\x00\x03h2", 5);	/* says 3, has 2 */
	n = v2(h, 0x21, 0x11, b, 17);
	ok(parse(h, n, &pp) == -1, "v2 TLV longer than the block");
	memcpy(b + 12, "\x01\x00", 2);		/* half a TLV header */
	n = v2(h, 0x21, 0x11, b, 14);
	ok(parse(h, n, &pp) == -1, "v2 half a TLV header");
	memcpy(b + 12, "\x01", 1);
	n = v2(h, 0x21, 0x11, b, 13);
	ok(parse(h, n, &pp) == -1, "v2 one byte of TLV header");
}

static socklen_t
sa4(struct sockaddr_storage *ss, const char *a, int port)
{
	struct sockaddr_in	*s = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin_family = AF_INET;
	s->sin_port = htons((in_port_t)port);
	if (inet_pton(AF_INET, a, &s->sin_addr) != 1)
		errx(1, "%s", a);
	return (sizeof(*s));
}

static socklen_t
sa6(struct sockaddr_storage *ss, const char *a, int port)
{
	struct sockaddr_in6	*s = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons((in_port_t)port);
	if (inet_pton(AF_INET6, a, &s->sin6_addr) != 1)
		errx(1, "%s", a);
	return (sizeof(*s));
}

/* Write a header, parse it back, compare. */
static void
roundtrip(int ver, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, int af, const char *sa, int sp,
    const char *da, int dp, const char *what)
{
	struct proxyproto	 pp;
	char			 buf[PROXYPROTO_WRITE_MAX], small[8];
	ssize_t			 n;
	int			 r;
	char			 w[128];

	snprintf(w, sizeof(w), "v%d %s", ver, what);
	n = proxyproto_write(ver, (const struct sockaddr *)src,
	    (const struct sockaddr *)dst, buf, sizeof(buf));
	ok(n > 0 && n <= (ver == 1 ? PROXYPROTO_V1_MAX : 52),
	    "%s: wrote %zd", w, n);
	if (n <= 0)
		return;
	r = parse(buf, (size_t)n, &pp);
	ok(r == n && pp.pp_version == ver, "%s: parsed %d of %zd", w, r, n);
	if (af == AF_UNSPEC) {
		ok(pp.pp_src.ss_family == AF_UNSPEC &&
		    pp.pp_dst.ss_family == AF_UNSPEC &&
		    (ver == 1 || pp.pp_local), "%s: no addresses", w);
	} else {
		want_inet(w, &pp.pp_src, af, sa, sp);
		want_inet(w, &pp.pp_dst, af, da, dp);
	}
	truncations(w, buf, (size_t)n);
	errno = 0;
	n = proxyproto_write(ver, (const struct sockaddr *)src,
	    (const struct sockaddr *)dst, small, sizeof(small));
	ok(n == -1 && errno == ENOBUFS, "%s: short buffer: %zd", w, n);
}

static void
t_write(void)
{
	struct sockaddr_storage	 a, b, c, d;
	struct sockaddr_un	*u;
	char			 buf[PROXYPROTO_WRITE_MAX];
	int			 v;

	for (v = 1; v <= 2; v++) {
		sa4(&a, "192.0.2.1", 40000);
		sa4(&b, "198.51.100.7", 443);
		roundtrip(v, &a, &b, AF_INET, "192.0.2.1", 40000,
		    "198.51.100.7", 443, "inet");
		sa4(&a, "255.255.255.255", 65535);
		sa4(&b, "0.0.0.0", 0);
		roundtrip(v, &a, &b, AF_INET, "255.255.255.255", 65535,
		    "0.0.0.0", 0, "inet extremes");
		sa6(&c, "2001:db8::1", 1);
		sa6(&d, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
		roundtrip(v, &c, &d, AF_INET6, "2001:db8::1", 1,
		    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, "inet6");
		sa4(&a, "192.0.2.1", 40000);
		roundtrip(v, &a, &d, AF_INET6, "::ffff:192.0.2.1", 40000,
		    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, "mixed");
		memset(&c, 0, sizeof(c));
		u = (struct sockaddr_un *)&c;
		u->sun_family = AF_UNIX;
		strlcpy(u->sun_path, "/tmp/x", sizeof(u->sun_path));
		roundtrip(v, &c, &c, AF_UNSPEC, NULL, 0, NULL, 0, "unix");
		roundtrip(v, NULL, &b, AF_UNSPEC, NULL, 0, NULL, 0, "null");
	}
	sa4(&a, "192.0.2.1", 40000);
	ok(proxyproto_write(1, (struct sockaddr *)&a, (struct sockaddr *)&a,
	    buf, sizeof(buf)) == 44 && memcmp(buf,
	    "PROXY TCP4 192.0.2.1 192.0.2.1 40000 40000\r\n", 44) == 0,
	    "v1 text as the spec shows it");
	errno = 0;
	ok(proxyproto_write(3, (struct sockaddr *)&a, (struct sockaddr *)&a,
	    buf, sizeof(buf)) == -1 && errno == EINVAL, "version 3");
}

/*
 * Random damage to valid headers: whatever the result, no read past
 * the input (the guard page) and a consistent answer.
 */
static void
t_mutate(void)
{
	static const char *const seeds[] = {
		"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
		"PROXY TCP6 ::1 2001:db8::1 0 1\r\n",
		"PROXY UNKNOWN\r\n",
	};
	struct proxyproto	 pp;
	struct sockaddr_storage	 a, b;
	char			 buf[PROXYPROTO_WRITE_MAX + 16];
	size_t			 n, k;
	int			 i, j, r, bad = 0;

	srandom(1);
	for (i = 0; i < 200000; i++) {
		j = (int)(random() % 5);
		if (j < 3) {
			n = strlen(seeds[j]);
			memcpy(buf, seeds[j], n);
		} else {
			sa4(&a, "10.0.0.1", 1234);
			sa6(&b, "::2", 80);
			n = (size_t)proxyproto_write(2, (struct sockaddr *)&a,
			    j == 3 ? (struct sockaddr *)&a :
			    (struct sockaddr *)&b, buf, sizeof(buf));
		}
		for (k = 0; k < 1 + (size_t)(random() % 3); k++)
			buf[random() % n] = (char)random();
		n = (size_t)(random() % (n + 1));
		r = parse(buf, n, &pp);
		if (r != -1 && r != -2 && (r <= 0 || (size_t)r > n))
			bad++;
	}
	ok(bad == 0, "mutations: %d answers out of range", bad);
}

int
main(void)
{
	unit_init();
	t_v1();
	t_v1_bad();
	t_v2();
	t_v2_bad();
	t_write();
	t_mutate();
	return (unit_done("proxyproto_test"));
}
