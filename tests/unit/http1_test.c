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
	OK("Content-Length repeated with one value", "POST /x" H11
	    "Content-Length: 5, 5\r\nContent-Length: 5\r\n\r\n", 0, 5);
	OK("OPTIONS *", "OPTIONS *" H11 "\r\n", 0, -1);
	OK("CONNECT authority-form", "CONNECT example.com:443 HTTP/1.1\r\n"
	    "Host: example.com:443\r\n\r\n", 0, -1);
	OK("absolute-form", "GET http://a/b" H11 "\r\n", 0, -1);
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
	return (unit_done("http1_test"));
}
