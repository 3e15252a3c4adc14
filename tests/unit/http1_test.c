/* http1_test: the request parser, its input right before a PROT_NONE page. */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http1.h"
#include "unit.h"

#define NHDR	8

/*
 * Parse len bytes of s copied so that they end where a PROT_NONE page
 * starts: a read past the end faults at once.
 */
static int
parse_guarded(const char *s, size_t len, struct http1_req *req)
{
	static struct http1_header hdr[NHDR];
	const char	*buf = unit_place(s, len);
	int		 rc;

	req->rq_hdr = hdr;
	req->rq_nhdr = NHDR;
	rc = http1_parse_request(buf, len, req);
	/* The pointers must point into the buffer. */
	if (rc > 0) {
		ok(req->rq_target >= buf &&
		    req->rq_target + req->rq_targetlen <= buf + len,
		    "target outside the buffer");
		ok(req->rq_nhdr == 0 || memcmp(req->rq_hdr[0].hh_name,
		    s + (req->rq_hdr[0].hh_name - buf),
		    req->rq_hdr[0].hh_namelen) == 0,
		    "first field name not in the buffer");
	}
	return (rc);
}

/*
 * A complete head must parse to its length (want > 0) or fail with err
 * (want -1), with exactly the flags wflags; every shorter prefix must
 * ask for more, or fail already when the whole fails.
 */
static void
check(const char *name, const char *s, size_t len, int want,
    enum http1_error werr, int wflags, int64_t wclen)
{
	struct http1_req req;
	size_t		 i;
	int		 rc;

	rc = parse_guarded(s, len, &req);
	if (!ok(rc == want && (want != -1 || req.rq_error == werr) &&
	    (want <= 0 || (req.rq_flags == wflags &&
	    req.rq_clen == wclen)),
	    "%s: rc %d (want %d), error %d '%s' (want %d), "
	    "flags %#x, clen %lld", name, rc, want, req.rq_error,
	    http1_error_str(req.rq_error), werr, req.rq_flags,
	    (long long)req.rq_clen))
		return;
	for (i = 0; i < len; i++) {
		rc = parse_guarded(s, i, &req);
		if (!ok(want > 0 && (size_t)want <= i ? rc == want :
		    (want > 0 ? rc == -2 : (rc == -2 || rc == -1)),
		    "%s: prefix of %zu bytes gave %d", name, i, rc))
			return;
	}
	printf("ok %s\n", name);
}

#define OK(n, s, fl, cl)	check(n, s, sizeof(s) - 1, \
				    (int)sizeof(s) - 1, HTTP1_E_NONE, fl, cl)
#define BAD(n, s, e)		check(n, s, sizeof(s) - 1, -1, e, 0, 0)
#define H11			" HTTP/1.1\r\nHost: a\r\n"

static void
fields(void)
{
	static const char s[] = "GET /metrics?x=1 HTTP/1.1\r\nHost: h:80\r\n"
	    "X-A:  a b \t\r\nX-Empty:\r\nX-Obs: \xe9t\xe9\r\n\r\nBODY";
	struct http1_header hdr[NHDR];
	struct http1_req req;
	int		 rc, i;

	req.rq_hdr = hdr;
	req.rq_nhdr = NHDR;
	rc = http1_parse_request(s, sizeof(s) - 1, &req);
	if (rc != (int)sizeof(s) - 1 - 4 || req.rq_nhdr != 4 ||
	    req.rq_methodlen != 3 || memcmp(req.rq_method, "GET", 3) ||
	    req.rq_targetlen != 12 || memcmp(req.rq_target, "/metrics?x=1",
	    12) || req.rq_minor != 1 || req.rq_hostlen != 4 ||
	    memcmp(req.rq_host, "h:80", 4) != 0 || (req.rq_flags &
	    HTTP1_CLOSE)) {
		ok(0, "fields: rc %d nhdr %zu", rc, req.rq_nhdr);
		return;
	}
	i = http1_find(&req, "x-a", 0);
	if (i != 1 || hdr[1].hh_valuelen != 3 ||
	    memcmp(hdr[1].hh_value, "a b", 3) != 0 ||
	    hdr[2].hh_valuelen != 0 || hdr[3].hh_valuelen != 3 ||
	    http1_find(&req, "x-a", 2) != -1) {
		ok(0, "fields: values");
		return;
	}
	printf("ok fields and values, OWS trimmed, body left alone\n");
}

/* Mutations of a valid head: no crash, no read past the end, sane rc. */
static void
mutate(void)
{
	static const char base[] = "POST /a/b?c HTTP/1.1\r\nHost: x.y:8\r\n"
	    "Content-Length: 12\r\nConnection: keep-alive\r\n\r\n";
	static const char alpha[] = " \t\r\n:,/\x7f\x80\0aZ0-";
	char		 s[sizeof(base)];
	struct http1_req req;
	size_t		 len = sizeof(base) - 1;
	int		 n, k, rc;

	srandom(42);
	for (n = 0; n < 20000; n++) {
		memcpy(s, base, len);
		for (k = 0; k < 1 + (int)(random() % 3); k++)
			s[random() % len] = alpha[random() %
			    (sizeof(alpha) - 1)];
		rc = parse_guarded(s, len, &req);
		if (rc < -2 || rc == 0 || rc > (int)len ||
		    (rc == -1 && req.rq_error == HTTP1_E_NONE)) {
			ok(0, "mutate: rc %d", rc);
			return;
		}
	}
	printf("ok 20000 mutations\n");
}

/* The absolute-form's authority and path, and the Host it stands for. */
static void
absolute(void)
{
	static const char s[] = "GET http://Ex.org:8080/p/q?x=1 HTTP/1.1\r\n"
	    "Host: ex.org:8080\r\n\r\n";
	static const char s10[] = "GET http://a.b HTTP/1.0\r\n\r\n";
	struct http1_header hdr[NHDR];
	struct http1_req req;

	req.rq_hdr = hdr;
	req.rq_nhdr = NHDR;
	ok(http1_parse_request(s, sizeof(s) - 1, &req) == (int)sizeof(s) - 1,
	    "absolute: parse");
	ok(req.rq_authoritylen == 11 && memcmp(req.rq_authority,
	    "Ex.org:8080", 11) == 0, "absolute: authority");
	ok(req.rq_pathlen == 8 && memcmp(req.rq_path, "/p/q?x=1", 8) == 0,
	    "absolute: path");
	req.rq_nhdr = NHDR;
	ok(http1_parse_request(s10, sizeof(s10) - 1, &req) > 0 &&
	    req.rq_pathlen == 0 && req.rq_hostlen == 3 &&
	    memcmp(req.rq_host, "a.b", 3) == 0, "absolute: 1.0, no path");
}

/* A response head must parse to its length, or fail with err. */
static void
rcheck(const char *name, const char *s, size_t len, int want,
    enum http1_error werr, int wstatus, int wflags, int64_t wclen)
{
	static struct http1_header hdr[NHDR];
	struct http1_resp rs;
	const char	*buf;
	size_t		 i;
	int		 rc;

	for (i = 0; i <= len; i++) {
		buf = unit_place(s, i);
		rs.rs_hdr = hdr;
		rs.rs_nhdr = NHDR;
		rc = http1_parse_response(buf, i, &rs);
		if (i < len && !ok(rc == -2 || (want == -1 && rc == -1),
		    "%s: prefix of %zu bytes gave %d", name, i, rc))
			return;
	}
	ok(rc == want && (want != -1 || rs.rs_error == werr) &&
	    (want <= 0 || (rs.rs_status == wstatus &&
	    rs.rs_flags == wflags && rs.rs_clen == wclen)),
	    "%s: rc %d (want %d), error '%s', status %d, flags %#x, "
	    "clen %lld", name, rc, want, http1_error_str(rs.rs_error),
	    rs.rs_status, rs.rs_flags, (long long)rs.rs_clen);
}

#define ROK(n, s, st, fl, cl)	rcheck(n, s, sizeof(s) - 1, \
				    (int)sizeof(s) - 1, HTTP1_E_NONE, st, fl, cl)
#define RBAD(n, s, e)		rcheck(n, s, sizeof(s) - 1, -1, e, 0, 0, 0)

static void
responses(void)
{
	ROK("200 with a length", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
	    "\r\n", 200, 0, 3);
	ROK("no reason", "HTTP/1.1 204 \r\n\r\n", 204, 0, -1);
	ROK("no space after the code", "HTTP/1.1 204\r\n\r\n", 204, 0, -1);
	ROK("chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n", 200, HTTP1_CHUNKED, -1);
	ROK("1.0 closes", "HTTP/1.0 200 OK\r\n\r\n", 200, HTTP1_CLOSE, -1);
	ROK("101 upgrade", "HTTP/1.1 101 Switching Protocols\r\nConnection: "
	    "upgrade\r\nUpgrade: websocket\r\n\r\n", 101, HTTP1_UPGRADE, -1);
	ROK("a reason with spaces and obs-text", "HTTP/1.1 404 Not \xe9 Found"
	    "\r\n\r\n", 404, 0, -1);
	RBAD("not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", HTTP1_E_STATUS);
	RBAD("HTTP/2", "HTTP/2.0 200 OK\r\n\r\n", HTTP1_E_STATUS);
	RBAD("a two-digit code", "HTTP/1.1 20 OK\r\n\r\n", HTTP1_E_STATUS);
	RBAD("a code below 100", "HTTP/1.1 099 x\r\n\r\n", HTTP1_E_STATUS);
	RBAD("a bare LF", "HTTP/1.1 200 OK\n\r\n", HTTP1_E_STATUS);
	RBAD("a control in the reason", "HTTP/1.1 200 O\x01K\r\n\r\n",
	    HTTP1_E_STATUS);
	RBAD("Content-Length and Transfer-Encoding", "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
	    HTTP1_E_CLEN_TE);
	RBAD("two Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1"
	    "\r\nContent-Length: 2\r\n\r\n", HTTP1_E_CLEN);
	RBAD("a Transfer-Encoding not ending in chunked", "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n", HTTP1_E_TE);
	RBAD("Transfer-Encoding in 1.0", "HTTP/1.0 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", HTTP1_E_TE);
	RBAD("obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
	    HTTP1_E_FOLD);
	RBAD("a space before the colon", "HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
	    HTTP1_E_FIELD);
	ok(http1_error_status(HTTP1_E_STATUS) == 502, "status error is 502");
}

/* The end of a head, found whichever way the bytes come. */
static void
head_len(void)
{
	static const char *const heads[] = {
		"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next",
		"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\n\nrest",
		"GET / HTTP/1.1\r\nHost: a\r\n\nrest",
	};
	static const int want[] = { 27, 31, 24, 26 };
	size_t		 k, i, j, scanned, len;
	int		 rc;

	for (k = 0; k < sizeof(heads) / sizeof(heads[0]); k++) {
		len = strlen(heads[k]);
		/* every split into a first part and the rest */
		for (i = 0; i <= len; i++) {
			scanned = 0;
			rc = http1_head_len(unit_place(heads[k], i), i,
			    &scanned);
			if (i < (size_t)want[k] && !ok(rc == -2,
			    "head_len %zu: %zu bytes gave %d", k, i, rc))
				return;
			j = len;
			rc = http1_head_len(unit_place(heads[k], j), j,
			    &scanned);
			if (!ok(rc == want[k], "head_len %zu: after %zu gave "
			    "%d, want %d", k, i, rc, want[k]))
				return;
		}
	}
	/* a byte at a time, carrying the scan along */
	scanned = 0;
	len = strlen(heads[0]);
	for (i = 1; i <= len; i++)
		if ((rc = http1_head_len(heads[0], i, &scanned)) != -2)
			break;
	ok(rc == 27 && i == 27, "head_len: byte by byte ends at 27 (%d, %zu)",
	    rc, i);
}

static size_t	 got;
static char	 gotbuf[256];

static void
collect(void *arg, const char *p, size_t n)
{
	(void)arg;
	if (got + n <= sizeof(gotbuf))
		memcpy(gotbuf + got, p, n);
	got += n;
}

/*
 * A chunked body: fed whole and split at every byte, it must end where
 * want says (-1: malformed, 0: not ended), giving data.
 */
static void
ccheck(const char *name, const char *s, ssize_t want, const char *data)
{
	struct http1_chunk ck;
	size_t		 len = strlen(s), i, off;
	ssize_t		 r;

	for (i = 0; i <= len; i++) {
		memset(&ck, 0, sizeof(ck));
		got = 0;
		off = 0;
		r = http1_chunk_feed(&ck, unit_place(s, i), i, collect, NULL);
		if (r >= 0) {
			off = (size_t)r;
			if (!ck.ck_done) {
				r = http1_chunk_feed(&ck, unit_place(s + i,
				    len - i), len - i, collect, NULL);
				if (r >= 0)
					off += (size_t)r;
			}
		}
		if (want == -1) {
			if (!ok(r == -1, "%s: split at %zu: %zd", name, i, r))
				return;
			continue;
		}
		if (!ok(r >= 0 && (want == 0 ? !ck.ck_done : ck.ck_done &&
		    off == (size_t)want) && got == strlen(data) &&
		    memcmp(gotbuf, data, got) == 0, "%s: split at %zu: ended "
		    "%d at %zu, data %zu bytes", name, i, ck.ck_done, off, got))
			return;
	}
}

static void
chunked(void)
{
	ccheck("two chunks", "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nNEXT", 20,
	    "abcde");
	ccheck("hex sizes, an extension", "a;x=y\r\n0123456789\r\n0\r\n\r\n",
	    24, "0123456789");
	ccheck("an extension after blanks", "1 ;e\r\nx\r\n0\r\n\r\n", 14, "x");
	ccheck("trailers", "1\r\nx\r\n0\r\nA: b\r\nC: d\r\n\r\n", 23, "x");
	ccheck("not ended", "5\r\nab", 0, "ab");
	ccheck("not a hex digit", "g\r\nx\r\n0\r\n\r\n", -1, "");
	ccheck("no size", "\r\nx\r\n", -1, "");
	ccheck("a blank after the size", "1 \r\nx\r\n0\r\n\r\n", -1, "");
	ccheck("a bare LF after the size", "1\nx\r\n0\r\n\r\n", -1, "");
	ccheck("data too long", "1\r\nxy\r\n0\r\n\r\n", -1, "");
	ccheck("a huge size", "1000000000000000\r\n", -1, "");
	ccheck("a bad trailer", "0\r\n: x\r\n\r\n", -1, "");
	ccheck("a control in a trailer", "0\r\nA: \x01\r\n\r\n", -1, "");
	ccheck("a bare LF ending", "0\r\n\n", -1, "");
}

static void
misc(void)
{
	static const char s[] = "GET / HTTP/1.1\r\nHost: a\r\nConnection: "
	    "close, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: 5\r\n"
	    "X-Other: 2\r\n\r\n";
	struct http1_header hdr[NHDR];
	struct http1_req req;
	int		 i;

	req.rq_hdr = hdr;
	req.rq_nhdr = NHDR;
	ok(http1_parse_request(s, sizeof(s) - 1, &req) > 0, "hop: parse");
	i = http1_find(&req, "x-secret", 0);
	ok(i >= 0 && http1_hop(hdr, req.rq_nhdr, &hdr[i]), "hop: listed");
	i = http1_find(&req, "keep-alive", 0);
	ok(i >= 0 && http1_hop(hdr, req.rq_nhdr, &hdr[i]), "hop: keep-alive");
	i = http1_find(&req, "x-other", 0);
	ok(i >= 0 && !http1_hop(hdr, req.rq_nhdr, &hdr[i]), "hop: not");
	ok(hdr[0].hh_linelen == 9 && memcmp(hdr[0].hh_line, "Host: a\r\n",
	    9) == 0, "the line of a field");
	ok(req.rq_flags & HTTP1_CONNOPT, "Connection lists an option");
	i = http1_find(&req, "x-secret", 0);
	ok(i >= 0 && http1_hop_flags(hdr, req.rq_nhdr, req.rq_flags, &hdr[i]),
	    "hop by flags: listed");
	i = http1_find(&req, "x-other", 0);
	ok(i >= 0 && !http1_hop_flags(hdr, req.rq_nhdr, req.rq_flags,
	    &hdr[i]), "hop by flags: not");
	ok(hdr[0].hh_id == HTTP1_F_HOST && hdr[1].hh_id == HTTP1_F_CONNECTION &&
	    hdr[2].hh_id == HTTP1_F_OTHER && hdr[3].hh_id ==
	    HTTP1_F_KEEP_ALIVE, "field ids");
	{
		static const char t[] = "GET / HTTP/1.1\r\nhOST: a\r\n"
		    "X-FORWARDED-FOR: 1\r\nTe: x\r\nContent-Lengtx: 1\r\n"
		    "Connection: keep-alive\r\nx-forwarded-proto: a\r\n"
		    "Proxy-Connection: b\r\n\r\n";

		req.rq_nhdr = NHDR;
		ok(http1_parse_request(t, sizeof(t) - 1, &req) > 0 &&
		    hdr[0].hh_id == HTTP1_F_HOST &&
		    hdr[1].hh_id == HTTP1_F_X_FORWARDED_FOR &&
		    hdr[2].hh_id == HTTP1_F_TE &&
		    hdr[3].hh_id == HTTP1_F_OTHER &&
		    hdr[5].hh_id == HTTP1_F_X_FORWARDED_PROTO &&
		    hdr[6].hh_id == HTTP1_F_PROXY_CONNECTION &&
		    !(req.rq_flags & HTTP1_CONNOPT) &&
		    http1_hop_flags(hdr, req.rq_nhdr, req.rq_flags, &hdr[6]) &&
		    !http1_hop_flags(hdr, req.rq_nhdr, req.rq_flags, &hdr[1]),
		    "field ids: any case, near names are others");
	}
	ok(http1_idempotent("GET", 3) && http1_idempotent("DELETE", 6) &&
	    !http1_idempotent("POST", 4) && !http1_idempotent("GE", 2),
	    "idempotent");
	ok(strcmp(http1_reason(503), "Service Unavailable") == 0 &&
	    *http1_reason(299) == '\0', "reasons");
}

int
main(void)
{
	static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
	char	 many[512];
	int	 i, n;

	unit_init();

	OK("a simple GET", "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", 0, -1);
	OK("empty lines before the request line",
	    "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, -1);
	OK("HTTP/1.0 needs no Host and closes",
	    "GET / HTTP/1.0\r\n\r\n", HTTP1_CLOSE, -1);
	OK("HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: "
	    "Keep-Alive\r\n\r\n", 0, -1);
	OK("Connection: close in a list", "GET /" H11
	    "Connection: keep-alive, Close\r\n\r\n", HTTP1_CLOSE, -1);
	OK("chunked last", "POST /x" H11
	    "Transfer-Encoding: gzip, chunked\r\n\r\n", HTTP1_CHUNKED, -1);
	OK("Content-Length", "POST /x" H11 "Content-Length: 5\r\n\r\n", 0, 5);
	OK("OPTIONS *", "OPTIONS *" H11 "\r\n", 0, -1);
	OK("CONNECT authority-form", "CONNECT example.com:443 HTTP/1.1\r\n"
	    "Host: example.com:443\r\n\r\n", 0, -1);
	OK("absolute-form", "GET http://a/b" H11 "\r\n", HTTP1_ABSOLUTE, -1);
	OK("absolute-form, no Host in 1.0", "GET http://a:80/b?q HTTP/1.0\r\n"
	    "\r\n", HTTP1_ABSOLUTE | HTTP1_CLOSE, -1);
	OK("Upgrade", "GET /ws" H11 "Connection: Upgrade\r\n"
	    "Upgrade: websocket\r\n\r\n", HTTP1_UPGRADE, -1);
	OK("Expect: 100-continue", "PUT /x" H11 "Expect: 100-continue\r\n"
	    "Content-Length: 0\r\n\r\n", HTTP1_CONTINUE, 0);
	OK("HTTP/1.2 reads as 1.x", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 0,
	    -1);

	BAD("bare LF ends the request line", "GET / HTTP/1.1\nHost: a\n\n",
	    HTTP1_E_LINE);
	BAD("bare LF ends a field", "GET /" H11 "X: a\n\r\n", HTTP1_E_LINE);
	BAD("bare CR in a value", "GET /" H11 "X: a\rb\r\n\r\n", HTTP1_E_LINE);
	BAD("bare CR before the request", "\r\rGET / HTTP/1.1\r\n",
	    HTTP1_E_LINE);
	BAD("two spaces", "GET  / HTTP/1.1\r\n", HTTP1_E_LINE);
	BAD("a space after the version", "GET / HTTP/1.1 \r\n", HTTP1_E_LINE);
	BAD("no version (HTTP/0.9)", "GET /\r\n\r\n", HTTP1_E_VERSION);
	BAD("lower-case version", "GET / http/1.1\r\n", HTTP1_E_VERSION);
	BAD("two-digit minor", "GET / HTTP/1.10\r\n", HTTP1_E_VERSION);
	BAD("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", HTTP1_E_MAJOR);
	BAD("a method with a delimiter", "G(T / HTTP/1.1\r\n", HTTP1_E_METHOD);
	BAD("a target with DEL", "GET /\x7f HTTP/1.1\r\n", HTTP1_E_TARGET);
	BAD("a target with a high byte", "GET /\xff HTTP/1.1\r\n",
	    HTTP1_E_TARGET);
	BAD("a fragment", "GET /a#f HTTP/1.1\r\n", HTTP1_E_TARGET);
	BAD("* with GET", "GET * HTTP/1.1\r\n", HTTP1_E_TARGET);
	BAD("a relative target", "GET a HTTP/1.1\r\n", HTTP1_E_TARGET);
	BAD("CONNECT with a path", "CONNECT /x HTTP/1.1\r\n", HTTP1_E_TARGET);
	BAD("obs-fold", "GET /" H11 "X: a\r\n b\r\n\r\n", HTTP1_E_FOLD);
	BAD("whitespace before the first field",
	    "GET / HTTP/1.1\r\n Host: a\r\n\r\n", HTTP1_E_FOLD);
	BAD("whitespace before the colon", "GET /" H11 "X : a\r\n\r\n",
	    HTTP1_E_FIELD);
	BAD("an empty field name", "GET /" H11 ": a\r\n\r\n", HTTP1_E_FIELD);
	BAD("a control in a value", "GET /" H11 "X: a\x01" "b\r\n\r\n",
	    HTTP1_E_FIELD);
	check("NUL in a value", nul, sizeof(nul) - 1, -1, HTTP1_E_FIELD, 0, 0);
	BAD("Content-Length and Transfer-Encoding", "POST /" H11
	    "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
	    HTTP1_E_CLEN_TE);
	BAD("the same Content-Length twice", "POST /" H11
	    "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", HTTP1_E_CLEN);
	BAD("a Content-Length list of one value", "POST /" H11
	    "Content-Length: 5, 5\r\n\r\n", HTTP1_E_CLEN);
	BAD("an absolute-form authority that is not the Host",
	    "GET http://b/x" H11 "\r\n", HTTP1_E_HOST);
	BAD("an absolute-form with userinfo", "GET http://u@a/x" H11 "\r\n",
	    HTTP1_E_TARGET);
	BAD("an absolute-form without //", "GET http:a/x" H11 "\r\n",
	    HTTP1_E_TARGET);
	BAD("two different Content-Lengths", "POST /" H11
	    "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", HTTP1_E_CLEN);
	BAD("a Content-Length list that differs", "POST /" H11
	    "Content-Length: 5, 6\r\n\r\n", HTTP1_E_CLEN);
	BAD("a signed Content-Length", "POST /" H11
	    "Content-Length: +5\r\n\r\n", HTTP1_E_CLEN);
	BAD("an empty Content-Length", "POST /" H11
	    "Content-Length:\r\n\r\n", HTTP1_E_CLEN);
	BAD("a hex Content-Length", "POST /" H11
	    "Content-Length: 0x5\r\n\r\n", HTTP1_E_CLEN);
	BAD("a huge Content-Length", "POST /" H11
	    "Content-Length: 99999999999999999999999\r\n\r\n", HTTP1_E_CLEN);
	BAD("chunked not last", "POST /" H11
	    "Transfer-Encoding: chunked, gzip\r\n\r\n", HTTP1_E_TE);
	BAD("chunked twice", "POST /" H11
	    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	    HTTP1_E_TE);
	BAD("Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", HTTP1_E_TE);
	BAD("an empty Transfer-Encoding", "POST /" H11
	    "Transfer-Encoding:\r\n\r\n", HTTP1_E_TE);
	BAD("a transfer coding none knows", "POST /" H11
	    "Transfer-Encoding: frob, chunked\r\n\r\n", HTTP1_E_CODING);
	BAD("an unknown coding alone", "POST /" H11
	    "Transfer-Encoding: br\r\n\r\n", HTTP1_E_CODING);
	BAD("HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", HTTP1_E_HOST);
	BAD("two Hosts", "GET /" H11 "Host: b\r\n\r\n", HTTP1_E_HOST);
	BAD("a Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
	    HTTP1_E_HOST);

	n = snprintf(many, sizeof(many), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 0; i < NHDR; i++)
		n += snprintf(many + n, sizeof(many) - (size_t)n,
		    "X-%d: %d\r\n", i, i);
	n += snprintf(many + n, sizeof(many) - (size_t)n, "\r\n");
	check("more fields than room", many, (size_t)n, -1, HTTP1_E_TOOMANY,
	    0, 0);
	ok(http1_error_status(HTTP1_E_TOOMANY) == 431 &&
	    http1_error_status(HTTP1_E_MAJOR) == 505 &&
	    http1_error_status(HTTP1_E_FOLD) == 400, "statuses");

	fields();
	mutate();
	absolute();
	responses();
	head_len();
	chunked();
	misc();
	return (unit_done("http1_test"));
}
