/* sni_test: the ClientHello reader and the name matcher, byte by byte. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sni.h"
#include "unit.h"

/* A ClientHello that openssl 3.0 s_client -tls1_2 sent for www.example.com. */
static const unsigned char openssl_hello[] = {
	0x16, 0x03, 0x01, 0x00, 0xcb, 0x01, 0x00, 0x00, 0xc7, 0x03, 0x03, 0x47,
	0x4c, 0xc2, 0x62, 0x62, 0x4e, 0x5f, 0xa9, 0xad, 0xb2, 0x2e, 0x9c, 0xe6,
	0xd6, 0xaf, 0xd0, 0x28, 0x42, 0xe3, 0x3c, 0x8f, 0x68, 0xd4, 0xb2, 0xa7,
	0xa6, 0x9e, 0x68, 0xf0, 0x2d, 0x29, 0xbc, 0x00, 0x00, 0x38, 0xc0, 0x2c,
	0xc0, 0x30, 0x00, 0x9f, 0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa, 0xc0, 0x2b,
	0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b, 0xc0, 0x23,
	0xc0, 0x27, 0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39, 0xc0, 0x09,
	0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d, 0x00, 0x9c, 0x00, 0x3d, 0x00, 0x3c,
	0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00, 0x66, 0x00, 0x00,
	0x00, 0x14, 0x00, 0x12, 0x00, 0x00, 0x0f, 0x77, 0x77, 0x77, 0x2e, 0x65,
	0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0x00, 0x0b,
	0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00, 0x0c, 0x00, 0x0a,
	0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19, 0x00, 0x18, 0x00, 0x16,
	0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x2a, 0x00, 0x28,
	0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09,
	0x08, 0x0a, 0x08, 0x0b, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01,
	0x05, 0x01, 0x06, 0x01, 0x03, 0x03, 0x03, 0x01, 0x03, 0x02, 0x04, 0x02,
	0x05, 0x02, 0x06, 0x02
};

static char	 name[SNI_NAME_MAX];

static int
parse(const void *p, size_t n)
{
	name[0] = '\0';
	return (sni_parse(unit_place(p, n), n, name, sizeof(name)));
}

/* Every strict prefix of a valid ClientHello asks for more. */
static void
truncations(const char *what, const void *p, size_t n)
{
	size_t	 i;
	int	 r;

	for (i = 0; i < n; i++) {
		r = parse(p, i);
		ok(r == -2, "%s: %zu of %zu bytes: %d, want -2", what, i, n, r);
	}
}

/* What to put in a ClientHello built by hello(). */
#define H_NOEXT		0x01	/* no extensions at all */
#define H_TWOEXT	0x02	/* two server_name extensions */
#define H_TWONAMES	0x04	/* two host_names in one list */
#define H_OTHERNAME	0x08	/* a name of type 1 before the host_name */
#define H_TRAIL		0x10	/* one byte after the hello in its record */

static size_t
put16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return (2);
}

static size_t
sni_ext(unsigned char *p, const char *nm, size_t nl, int flags)
{
	size_t	 n = 0, list = 3 + nl;

	if (flags & H_TWONAMES)
		list += 3 + nl;
	if (flags & H_OTHERNAME)
		list += 3 + 2;
	n += put16(p + n, 0);			/* server_name */
	n += put16(p + n, list + 2);
	n += put16(p + n, list);
	if (flags & H_OTHERNAME) {
		p[n++] = 1;
		n += put16(p + n, 2);
		p[n++] = 'x';
		p[n++] = 'y';
	}
	p[n++] = 0;				/* host_name */
	n += put16(p + n, nl);
	memcpy(p + n, nm, nl);
	n += nl;
	if (flags & H_TWONAMES) {
		p[n++] = 0;
		n += put16(p + n, nl);
		memcpy(p + n, nm, nl);
		n += nl;
	}
	return (n);
}

/*
 * A TLS 1.3-style ClientHello for the name nm (nl bytes, none if NULL),
 * cut into handshake records of at most frag bytes.  Returns its length.
 * Its fixed offsets: record 0-4, handshake 5-8, version 9, session id
 * length 43, cipher suites length 76, compression length 82,
 * extensions length 84, first extension (supported_versions) 86.
 */
static size_t
hello(unsigned char *out, const char *nm, size_t nl, int flags, size_t frag)
{
	unsigned char	 hs[4096], *b = hs + 4;
	size_t		 n = 0, ext, hl, off, k, o = 0;

	b[n++] = 3; b[n++] = 3;
	memset(b + n, 0xaa, 32); n += 32;
	b[n++] = 32; memset(b + n, 0x55, 32); n += 32;
	n += put16(b + n, 4);
	b[n++] = 0x13; b[n++] = 0x01; b[n++] = 0x13; b[n++] = 0x02;
	b[n++] = 1; b[n++] = 0;
	if (!(flags & H_NOEXT)) {
		ext = n;
		n += 2;
		memcpy(b + n, "\x00\x2b\x00\x03\x02\x03\x04", 7); n += 7;
		if (nm != NULL) {
			n += sni_ext(b + n, nm, nl, flags);
			if (flags & H_TWOEXT)
				n += sni_ext(b + n, nm, nl, flags);
		}
		memcpy(b + n, "\x00\x10\x00\x05\x00\x03\x02h2", 9); n += 9;
		put16(b + ext, n - ext - 2);
	}
	hs[0] = 1;
	hs[1] = (unsigned char)(n >> 16);
	put16(hs + 2, n);
	hl = n + 4;
	for (off = 0; off < hl; off += k) {
		k = hl - off < frag ? hl - off : frag;
		out[o++] = 22; out[o++] = 3; out[o++] = 1;
		o += put16(out + o, k + ((flags & H_TRAIL) && off + k == hl));
		memcpy(out + o, hs + off, k);
		o += k;
	}
	if (flags & H_TRAIL)
		out[o++] = 0;
	return (o);
}

static void
t_valid(void)
{
	static const size_t frags[] = { 16384, 1, 2, 3, 4, 5, 7, 50, 100 };
	unsigned char	 h[16384], in[16400];
	char		 w[64];
	size_t		 n, i;
	int		 r;

	r = parse(openssl_hello, sizeof(openssl_hello));
	ok(r == (int)sizeof(openssl_hello) &&
	    strcmp(name, "www.example.com") == 0,
	    "openssl hello: %d, name \"%s\"", r, name);
	truncations("openssl hello", openssl_hello, sizeof(openssl_hello));
	/* The bytes after the hello are the caller's: not read, not counted. */
	memcpy(in, openssl_hello, sizeof(openssl_hello));
	memcpy(in + sizeof(openssl_hello), "\x17\x03\x03", 3);
	r = parse(in, sizeof(openssl_hello) + 3);
	ok(r == (int)sizeof(openssl_hello), "openssl hello + 3: %d", r);

	for (i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		snprintf(w, sizeof(w), "records of %zu", frags[i]);
		n = hello(h, "a.example.com", 13, 0, frags[i]);
		r = parse(h, n);
		ok(r == (int)n && strcmp(name, "a.example.com") == 0,
		    "%s: %d of %zu, name \"%s\"", w, r, n, name);
		truncations(w, h, n);
		n = hello(h, NULL, 0, 0, frags[i]);
		r = parse(h, n);
		ok(r == 0, "%s, no name: %d", w, r);
		truncations(w, h, n);
	}
	n = hello(h, NULL, 0, H_NOEXT, 16384);
	ok(parse(h, n) == 0, "no extensions");
	truncations("no extensions", h, n);
	n = hello(h, "B.Example.COM", 13, H_OTHERNAME, 16384);
	r = parse(h, n);
	ok(r == (int)n && strcmp(name, "B.Example.COM") == 0,
	    "a name of another type first: %d \"%s\"", r, name);

	/* The longest DNS name fits SNI_NAME_MAX; the buffer bounds it. */
	memset(in, 'a', 255);
	n = hello(h, (char *)in, 255, 0, 16384);
	ok(parse(h, n) == (int)n && strlen(name) == 255, "255-byte name");
	ok(sni_parse(unit_place(h, n), n, name, 255) == -1,
	    "255-byte name, 255-byte buffer");
	n = hello(h, "abc", 3, 0, 16384);
	ok(sni_parse(unit_place(h, n), n, name, 4) == (int)n &&
	    strcmp(name, "abc") == 0, "3-byte name, 4-byte buffer");
	ok(sni_parse(unit_place(h, n), n, name, 3) == -1,
	    "3-byte name, 3-byte buffer");
}

static void
t_bad(void)
{
	static const unsigned char sslv2[] = {
		0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10
	};
	static const struct {
		size_t	off;
		int	val;
		const char *what;
	} patch[] = {
		{ 0, 0x17, "record of application data" },
		{ 0, 0x15, "alert record" },
		{ 1, 2, "record version 2.1" },
		{ 2, 5, "record version 3.5" },
		{ 3, 0x40, "record longer than 2^14" },
		{ 5, 2, "a ServerHello" },
		{ 9, 2, "hello version 2.3" },
		{ 43, 33, "session id of 33 bytes" },
		{ 77, 3, "odd cipher suites length" },
		{ 76, 0, "cipher suites length 0 (low byte too)" },
		{ 82, 0, "no compression method" },
		{ 85, 0xff, "extensions longer than the hello" },
		{ 89, 0xff, "an extension longer than the block" },
	};
	unsigned char	 h[16384];
	size_t		 n, i;
	int		 r;

	r = parse("GET / HTTP/1.1\r\n\r\n", 18);
	ok(r == -1, "HTTP: %d", r);
	ok(parse("G", 1) == -1, "HTTP, told from one byte");
	ok(parse("\x16\x02", 2) == -1, "told from two bytes");
	ok(parse(sslv2, sizeof(sslv2)) == -1, "SSLv2 hello");
	ok(parse("\x16\x03\x01\x00\x00", 5) == -1, "empty record");
	ok(parse("\x16\x03\x01\x40\x01", 5) == -1, "record of 2^14 + 1");
	for (i = 0; i < sizeof(patch) / sizeof(patch[0]); i++) {
		n = hello(h, "a.example.com", 13, 0, 16384);
		if (patch[i].off == 76)
			h[77] = 0;
		h[patch[i].off] = (unsigned char)patch[i].val;
		r = parse(h, n);
		ok(r == -1, "%s: %d, want -1", patch[i].what, r);
	}
	n = hello(h, "a.example.com", 13, 0, 16384);
	h[85]--;
	ok(parse(h, n) == -1, "extensions shorter than the hello");

	n = hello(h, "a.example.com", 13, H_TWOEXT, 16384);
	ok(parse(h, n) == -1, "two server_name extensions");
	n = hello(h, "a.example.com", 13, H_TWONAMES, 16384);
	ok(parse(h, n) == -1, "two host_names");
	n = hello(h, "a.example.com", 13, H_TRAIL, 16384);
	ok(parse(h, n) == -1, "a byte after the hello in its record");
	n = hello(h, "", 0, 0, 16384);
	ok(parse(h, n) == -1, "empty name");
	n = hello(h, "a b.com", 7, 0, 16384);
	ok(parse(h, n) == -1, "name with a space");
	n = hello(h, "a\0b.com", 7, 0, 16384);
	ok(parse(h, n) == -1, "name with a NUL");
	n = hello(h, "a\nb.com", 7, 0, 16384);
	ok(parse(h, n) == -1, "name with a newline");
	n = hello(h, "a\xc3\xa9.com", 7, 0, 16384);
	ok(parse(h, n) == -1, "name in UTF-8");

	/* Records: the second is not a handshake, or empty. */
	n = hello(h, "a.example.com", 13, 0, 50);
	h[55] = 0x17;
	ok(parse(h, n) == -1, "second record of application data");
	n = hello(h, "a.example.com", 13, 0, 50);
	h[58] = h[59] = 0;
	ok(parse(h, 60) == -1, "second record empty");
}

static void
t_mutate(void)
{
	unsigned char	 h[16384];
	size_t		 n, k;
	int		 i, r, bad = 0;

	srandom(2);
	for (i = 0; i < 100000; i++) {
		if (i % 2)
			n = hello(h, "m.example.com", 13,
			    (int)(random() % 2) * H_OTHERNAME,
			    1 + (size_t)(random() % 200));
		else {
			n = sizeof(openssl_hello);
			memcpy(h, openssl_hello, n);
		}
		for (k = 0; k < 1 + (size_t)(random() % 3); k++)
			h[random() % n] = (unsigned char)random();
		n = (size_t)(random() % (n + 1));
		r = parse(h, n);
		if (r < -2 || (r > 0 && ((size_t)r > n || name[0] == '\0')))
			bad++;
	}
	ok(bad == 0, "mutations: %d answers out of range", bad);
}

static void
t_match(void)
{
	static const struct {
		const char *pat, *name;
		int	 want;
	} m[] = {
		{ "example.com", "example.com", 1 },
		{ "example.com", "EXAMPLE.Com", 1 },
		{ "Example.COM", "example.com", 1 },
		{ "example.com", "www.example.com", 0 },
		{ "example.com", "example.co", 0 },
		{ "example.com", "example.comm", 0 },
		{ "*.example.com", "www.example.com", 1 },
		{ "*.example.com", "WWW.EXAMPLE.COM", 1 },
		{ "*.example.com", "a.b.example.com", 0 },
		{ "*.example.com", "example.com", 0 },
		{ "*.example.com", ".example.com", 0 },
		{ "*.example.com", "wwwexample.com", 0 },
		{ "*.example.com", "www.example.org", 0 },
		{ "*.example.com", "*.example.com", 1 },
		{ "*", "example.com", 0 },
		{ "", "", 0 },
		{ "", "example.com", 0 },
		{ "example.com", "", 0 },
		{ "www.*.com", "www.example.com", 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		ok(sni_match(m[i].pat, m[i].name) == m[i].want,
		    "sni_match(\"%s\", \"%s\") != %d", m[i].pat, m[i].name,
		    m[i].want);
}

/*
 * -c FILE: listen on 127.0.0.1 port 0, print the port, take one
 * connection and save what it sends up to the end of the ClientHello.
 */
static int
capture(const char *path)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	static unsigned char	 buf[65536];
	size_t			 n = 0;
	ssize_t			 k;
	int			 s, c, fd;

	alarm(20);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 1) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &sl) == -1)
		err(1, "listen");
	printf("%d\n", ntohs(sin.sin_port));
	fflush(stdout);
	if ((c = accept(s, NULL, NULL)) == -1)
		err(1, "accept");
	while (n < sizeof(buf)) {
		if ((k = read(c, buf + n, sizeof(buf) - n)) <= 0)
			break;
		n += (size_t)k;
		if (sni_parse(buf, n, name, sizeof(name)) != -2)
			break;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
	    write(fd, buf, n) != (ssize_t)n || close(fd) == -1)
		err(1, "%s", path);
	return (0);
}

/* -f FILE NAME: the ClientHello in FILE names NAME ("-": none). */
static int
check_file(const char *path, const char *want)
{
	static unsigned char	 buf[65536];
	ssize_t			 n;
	int			 fd, r;

	if ((fd = open(path, O_RDONLY)) == -1 ||
	    (n = read(fd, buf, sizeof(buf))) == -1)
		err(1, "%s", path);
	close(fd);
	r = parse(buf, (size_t)n);
	if (strcmp(want, "-") == 0)
		ok(r == 0, "%s: %d, want 0 (no name)", path, r);
	else
		ok(r == n && strcmp(name, want) == 0,
		    "%s: %d of %zd bytes, name \"%s\"", path, r, n, name);
	truncations(path, buf, (size_t)n);
	printf("%s: %d of %zd bytes, name \"%s\"\n", path, r, n, name);
	return (unit_failed != 0);
}

int
main(int argc, char *argv[])
{
	unit_init();
	if (argc == 3 && strcmp(argv[1], "-c") == 0)
		return (capture(argv[2]));
	if (argc == 4 && strcmp(argv[1], "-f") == 0)
		return (check_file(argv[2], argv[3]));
	if (argc != 1) {
		fprintf(stderr, "usage: sni_test [-c FILE | -f FILE NAME]\n");
		return (2);
	}
	t_valid();
	t_bad();
	t_mutate();
	t_match();
	return (unit_done("sni_test"));
}
