/* http1: an HTTP/1.1 request head parser, in place, strict per RFC 9112. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "http1.h"

#define HTTP1_CLEN_MAX	(INT64_MAX / 10 - 10)

static const struct {
	int		 status;
	const char	*str;
} http1_errors[HTTP1_E_NERRORS] = {
	[HTTP1_E_NONE] = { 200, "no error" },
	[HTTP1_E_METHOD] = { 400, "bad method" },
	[HTTP1_E_TARGET] = { 400, "bad request target" },
	[HTTP1_E_VERSION] = { 400, "bad HTTP version" },
	[HTTP1_E_MAJOR] = { 505, "HTTP version not supported" },
	[HTTP1_E_LINE] = { 400, "bad line: spaces, a bare CR or LF, or a "
	    "control character" },
	[HTTP1_E_FIELD] = { 400, "bad header field" },
	[HTTP1_E_FOLD] = { 400, "obs-fold or whitespace before a field" },
	[HTTP1_E_TOOMANY] = { 431, "too many header fields" },
	[HTTP1_E_CLEN] = { 400, "bad Content-Length" },
	[HTTP1_E_TE] = { 400, "bad Transfer-Encoding" },
	[HTTP1_E_CLEN_TE] = { 400, "both Content-Length and "
	    "Transfer-Encoding" },
	[HTTP1_E_HOST] = { 400, "missing, repeated or bad Host" },
};

int
http1_error_status(enum http1_error e)
{
	if ((unsigned)e >= HTTP1_E_NERRORS)
		return (400);
	return (http1_errors[e].status);
}

const char *
http1_error_str(enum http1_error e)
{
	if ((unsigned)e >= HTTP1_E_NERRORS)
		return ("unknown error");
	return (http1_errors[e].str);
}

/* RFC 9110 section 5.6.2: tchar */
static int
tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return (1);
	return (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
ows(unsigned char c)
{
	return (c == ' ' || c == '\t');
}

/* Whether the name of field h is name (case-insensitive). */
static int
is(const struct http1_header *h, const char *name)
{
	return (h->hh_namelen == strlen(name) &&
	    strncasecmp(h->hh_name, name, h->hh_namelen) == 0);
}

/*
 * The next element of a comma-separated list (RFC 9110 section 5.6.1)
 * from *pp up to end, without OWS; empty elements are skipped.  Returns
 * 1 with the element in *e and *elen, or 0 at the end.
 */
static int
list_next(const char **pp, const char *end, const char **e, size_t *elen)
{
	const char	*p = *pp, *s, *l;

	for (;;) {
		while (p < end && (ows((unsigned char)*p) || *p == ','))
			p++;
		if (p == end) {
			*pp = p;
			return (0);
		}
		s = l = p;
		while (p < end && *p != ',') {
			if (!ows((unsigned char)*p))
				l = p + 1;
			p++;
		}
		if (l > s)
			break;
	}
	*pp = p;
	*e = s;
	*elen = (size_t)(l - s);
	return (1);
}

static int
elem_is(const char *e, size_t elen, const char *word)
{
	return (elen == strlen(word) && strncasecmp(e, word, elen) == 0);
}

/* Every element of a Content-Length value must be the same number. */
static int
parse_clen(const struct http1_header *h, int64_t *clen)
{
	const char	*p = h->hh_value, *end = p + h->hh_valuelen, *e;
	size_t		 elen, i;
	int64_t		 v;
	int		 any = 0;

	while (list_next(&p, end, &e, &elen)) {
		v = 0;
		for (i = 0; i < elen; i++) {
			if (e[i] < '0' || e[i] > '9' || v > HTTP1_CLEN_MAX)
				return (-1);
			v = v * 10 + (e[i] - '0');
		}
		if (*clen != -1 && *clen != v)
			return (-1);
		*clen = v;
		any = 1;
	}
	return (any ? 0 : -1);
}

/* The allowed bytes of a Host value: uri-host [ ":" port ], loosely. */
static int
host_ok(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=:[]%",
		    c) != NULL) || c == '\0')
			return (0);
	}
	return (1);
}

/* The request target's form must suit the method (RFC 9112 3.2). */
static int
target_ok(const struct http1_req *req)
{
	const char	*t = req->rq_target;
	size_t		 n = req->rq_targetlen, i;

	if (memchr(t, '#', n) != NULL)
		return (0);
	if (req->rq_methodlen == 7 && memcmp(req->rq_method, "CONNECT", 7) ==
	    0)
		return (t[0] != '/' && memchr(t, ':', n) != NULL &&
		    memchr(t, '/', n) == NULL && memchr(t, '@', n) == NULL &&
		    memchr(t, '?', n) == NULL);
	if (n == 1 && t[0] == '*')
		return (req->rq_methodlen == 7 &&
		    memcmp(req->rq_method, "OPTIONS", 7) == 0);
	if (t[0] == '/')
		return (1);
	/* absolute-form: scheme ":" ... */
	if (!((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
		return (0);
	for (i = 1; i < n && t[i] != ':'; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' &&
		    t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9') ||
		    t[i] == '+' || t[i] == '-' || t[i] == '.'))
			return (0);
	return (i < n);
}

/* Framing, Host and Connection, once every field is known. */
static enum http1_error
semantics(struct http1_req *req)
{
	const struct http1_header *h;
	const char	*p, *end, *e;
	size_t		 i, elen;
	int		 te = 0, chunked_last = 0, chunked_before = 0, hosts = 0;
	int		 close = 0, keep = 0;

	for (i = 0; i < req->rq_nhdr; i++) {
		h = &req->rq_hdr[i];
		if (is(h, "content-length")) {
			if (parse_clen(h, &req->rq_clen) == -1)
				return (HTTP1_E_CLEN);
		} else if (is(h, "transfer-encoding")) {
			p = h->hh_value;
			end = p + h->hh_valuelen;
			while (list_next(&p, end, &e, &elen)) {
				if (chunked_last)
					chunked_before = 1;
				chunked_last = elem_is(e, elen, "chunked");
				te = 1;
			}
			if (h->hh_valuelen == 0)
				return (HTTP1_E_TE);
		} else if (is(h, "host")) {
			if (++hosts > 1 || !host_ok(h->hh_value,
			    h->hh_valuelen))
				return (HTTP1_E_HOST);
			req->rq_host = h->hh_value;
			req->rq_hostlen = h->hh_valuelen;
		} else if (is(h, "connection")) {
			p = h->hh_value;
			end = p + h->hh_valuelen;
			while (list_next(&p, end, &e, &elen)) {
				if (elem_is(e, elen, "close"))
					close = 1;
				else if (elem_is(e, elen, "keep-alive"))
					keep = 1;
				else if (elem_is(e, elen, "upgrade"))
					req->rq_flags |= HTTP1_UPGRADE;
			}
		} else if (is(h, "expect")) {
			if (elem_is(h->hh_value, h->hh_valuelen,
			    "100-continue"))
				req->rq_flags |= HTTP1_CONTINUE;
		}
	}
	if (te) {
		if (req->rq_minor == 0 || !chunked_last || chunked_before)
			return (HTTP1_E_TE);
		if (req->rq_clen != -1)
			return (HTTP1_E_CLEN_TE);
		req->rq_flags |= HTTP1_CHUNKED;
	}
	if (req->rq_minor >= 1 && hosts == 0)
		return (HTTP1_E_HOST);
	if (close || (req->rq_minor == 0 && !keep))
		req->rq_flags |= HTTP1_CLOSE;
	return (HTTP1_E_NONE);
}

int
http1_parse_request(const char *buf, size_t len, struct http1_req *req)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	const unsigned char *s, *last;
	struct http1_header *h;
	size_t		 room = req->rq_nhdr, i;
	static const char v[] = "HTTP/";

	if (len > INT32_MAX)		/* the return value must hold it */
		end = p + INT32_MAX;
	req->rq_method = req->rq_target = req->rq_host = NULL;
	req->rq_methodlen = req->rq_targetlen = req->rq_hostlen = 0;
	req->rq_minor = 0;
	req->rq_nhdr = 0;
	req->rq_clen = -1;
	req->rq_flags = 0;
	req->rq_error = HTTP1_E_NONE;

#define FAIL(e)	do { req->rq_error = (e); return (-1); } while (0)
#define MORE()	do { if (p >= end) return (-2); } while (0)

	/* Empty lines before the request line are ignored. */
	for (;;) {
		MORE();
		if (*p != '\r')
			break;
		if (p + 1 >= end)
			return (-2);
		if (p[1] != '\n')
			FAIL(HTTP1_E_LINE);
		p += 2;
	}

	/* method SP */
	for (s = p; p < end && tchar(*p); p++)
		;
	MORE();
	if (p == s || *p != ' ')
		FAIL(HTTP1_E_METHOD);
	req->rq_method = (const char *)s;
	req->rq_methodlen = (size_t)(p - s);
	p++;

	/* request-target SP: visible ASCII only */
	for (s = p; p < end && *p > 0x20 && *p < 0x7f; p++)
		;
	MORE();
	if (p == s)
		FAIL(*p == ' ' ? HTTP1_E_LINE : HTTP1_E_TARGET);
	if (*p != ' ')
		FAIL(*p == '\r' || *p == '\n' ? HTTP1_E_VERSION :
		    HTTP1_E_TARGET);
	req->rq_target = (const char *)s;
	req->rq_targetlen = (size_t)(p - s);
	p++;
	if (!target_ok(req))
		FAIL(HTTP1_E_TARGET);

	/* HTTP-version CRLF: exactly "HTTP/" DIGIT "." DIGIT */
	for (i = 0; i < 8; i++) {
		if (p + i >= end)
			return (-2);
		if (i < 5 ? p[i] != (unsigned char)v[i] : i == 6 ?
		    p[i] != '.' : (p[i] < '0' || p[i] > '9'))
			FAIL(HTTP1_E_VERSION);
	}
	if (p[5] != '1')
		FAIL(HTTP1_E_MAJOR);
	req->rq_minor = p[7] - '0';
	p += 8;
	MORE();
	if (*p != '\r')
		FAIL(*p == ' ' || *p == '\n' ? HTTP1_E_LINE : HTTP1_E_VERSION);
	p++;
	MORE();
	if (*p != '\n')
		FAIL(HTTP1_E_LINE);
	p++;

	/* *( field-line CRLF ) CRLF */
	for (;;) {
		MORE();
		if (*p == '\r') {
			if (p + 1 >= end)
				return (-2);
			if (p[1] != '\n')
				FAIL(HTTP1_E_LINE);
			p += 2;
			break;
		}
		if (ows(*p))
			FAIL(HTTP1_E_FOLD);
		for (s = p; p < end && tchar(*p); p++)
			;
		MORE();
		if (p == s || *p != ':')
			FAIL(*p == '\n' ? HTTP1_E_LINE : HTTP1_E_FIELD);
		if (req->rq_nhdr == room)
			FAIL(HTTP1_E_TOOMANY);
		h = &req->rq_hdr[req->rq_nhdr];
		h->hh_name = (const char *)s;
		h->hh_namelen = (size_t)(p - s);
		for (p++; p < end && ows(*p); p++)
			;
		/* field-value: VCHAR, obs-text, SP and HTAB between them */
		for (s = last = p; p < end && *p != '\r'; p++) {
			if (ows(*p))
				continue;
			if (*p < 0x20 || *p == 0x7f)
				FAIL(*p == '\n' ? HTTP1_E_LINE :
				    HTTP1_E_FIELD);
			last = p + 1;
		}
		if (p + 1 >= end)
			return (-2);
		if (p[1] != '\n')
			FAIL(HTTP1_E_LINE);
		h->hh_value = (const char *)s;
		h->hh_valuelen = (size_t)(last - s);
		req->rq_nhdr++;
		p += 2;
	}
	if ((req->rq_error = semantics(req)) != HTTP1_E_NONE)
		return (-1);
	return ((int)(p - (const unsigned char *)buf));
#undef FAIL
#undef MORE
}

int
http1_find(const struct http1_req *req, const char *name, size_t start)
{
	size_t	 i;

	for (i = start; i < req->rq_nhdr; i++)
		if (is(&req->rq_hdr[i], name))
			return ((int)i);
	return (-1);
}
