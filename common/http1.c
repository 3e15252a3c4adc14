/* http1: HTTP/1.1 heads and chunked bodies, parsed in place, strict per RFC 9112. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "http1.h"

#define HTTP1_CLEN_MAX	(INT64_MAX / 10 - 10)
#define HTTP1_TRAILER_MAX 8192

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
	[HTTP1_E_STATUS] = { 502, "bad status line" },
	[HTTP1_E_CODING] = { 501, "a transfer coding not implemented" },
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
static const unsigned char tchars[256] = {
	['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['0' ... '9'] = 1,
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
};
#define tchar(c)	(tchars[(unsigned char)(c)])

int
http1_tchar(int c)
{
	return (tchar(c));
}

/* The id of a field name: a switch on its length, then one compare. */
static int
field_id(const char *n, size_t len)
{
	static const struct {
		const char	*name;
		int		 id;
	} *k, byname[] = {
		{ "te", HTTP1_F_TE },
		{ "host", HTTP1_F_HOST },
		{ "expect", HTTP1_F_EXPECT },
		{ "upgrade", HTTP1_F_UPGRADE },
		{ "forwarded", HTTP1_F_FORWARDED },
		{ "connection", HTTP1_F_CONNECTION },
		{ "keep-alive", HTTP1_F_KEEP_ALIVE },
		{ "content-length", HTTP1_F_CONTENT_LENGTH },
		{ "x-forwarded-for", HTTP1_F_X_FORWARDED_FOR },
		{ "proxy-connection", HTTP1_F_PROXY_CONNECTION },
		{ "x-forwarded-host", HTTP1_F_X_FORWARDED_HOST },
		{ "transfer-encoding", HTTP1_F_TRANSFER_ENCODING },
		{ "x-forwarded-proto", HTTP1_F_X_FORWARDED_PROTO },
		{ NULL, 0 }
	};
	size_t	 i;

	switch (len) {
	case 2:  i = 0; break;
	case 4:  i = 1; break;
	case 6:  i = 2; break;
	case 7:  i = 3; break;
	case 9:  i = 4; break;
	case 10: i = 5; break;
	case 14: i = 7; break;
	case 15: i = 8; break;
	case 16: i = 9; break;
	case 17: i = 11; break;
	default: return (HTTP1_F_OTHER);
	}
	for (k = &byname[i]; k->name != NULL && strlen(k->name) == len; k++)
		if ((n[0] | 0x20) == k->name[0] &&
		    strncasecmp(n, k->name, len) == 0)
			return (k->id);
	return (HTTP1_F_OTHER);
}

static int
ows(unsigned char c)
{
	return (c == ' ' || c == '\t');
}

int
http1_is(const struct http1_header *h, const char *name)
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

int
http1_list_has(const char *value, size_t len, const char *token)
{
	const char	*p = value, *e;
	size_t		 elen;

	while (list_next(&p, value + len, &e, &elen))
		if (elem_is(e, elen, token))
			return (1);
	return (0);
}

/* A Content-Length value must be one number, no list (RFC 9110 8.6). */
static int
parse_clen(const struct http1_header *h, int64_t *clen)
{
	const char	*v = h->hh_value;
	size_t		 i;
	int64_t		 n = 0;

	if (*clen != -1 || h->hh_valuelen == 0)
		return (-1);
	for (i = 0; i < h->hh_valuelen; i++) {
		if (v[i] < '0' || v[i] > '9' || n > HTTP1_CLEN_MAX)
			return (-1);
		n = n * 10 + (v[i] - '0');
	}
	*clen = n;
	return (0);
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

/*
 * The request target's form must suit the method (RFC 9112 3.2); sets
 * the path and, for the absolute-form, the authority.
 */
static int
target_ok(struct http1_req *req)
{
	const char	*t = req->rq_target, *a, *ae;
	size_t		 n = req->rq_targetlen, i;

	if (memchr(t, '#', n) != NULL)
		return (0);
	req->rq_path = t;
	req->rq_pathlen = n;
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
	/* absolute-form: scheme "://" authority [ path-abempty ] [ "?" ] */
	if (!((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
		return (0);
	for (i = 1; i < n && t[i] != ':'; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' &&
		    t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9') ||
		    t[i] == '+' || t[i] == '-' || t[i] == '.'))
			return (0);
	if (i + 3 > n || t[i + 1] != '/' || t[i + 2] != '/')
		return (0);
	a = t + i + 3;
	for (ae = a; ae < t + n && *ae != '/' && *ae != '?'; ae++)
		;
	/* No userinfo: RFC 9110 4.2.4 forbids it in http(s) URIs. */
	if (ae == a || memchr(a, '@', (size_t)(ae - a)) != NULL ||
	    !host_ok(a, (size_t)(ae - a)))
		return (0);
	req->rq_authority = a;
	req->rq_authoritylen = (size_t)(ae - a);
	req->rq_path = ae;
	req->rq_pathlen = (size_t)(t + n - ae);
	req->rq_flags |= HTTP1_ABSOLUTE;
	return (1);
}

/*
 * The header fields from p to end, into hdr[0..room): *n set to how
 * many.  Returns the bytes through the empty line, -2 for more, or -1
 * with *err.
 */
static int
fields(const unsigned char *p, const unsigned char *end,
    struct http1_header *hdr, size_t room, size_t *n, enum http1_error *err)
{
	const unsigned char *start = p, *s, *last, *line;
	struct http1_header *h;

#define FAIL(e)	do { *err = (e); return (-1); } while (0)
#define MORE()	do { if (p >= end) return (-2); } while (0)
	*n = 0;
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
		line = p;
		for (s = p; p < end && tchar(*p); p++)
			;
		MORE();
		if (p == s || *p != ':')
			FAIL(*p == '\n' || *p == '\r' ? HTTP1_E_LINE :
			    HTTP1_E_FIELD);
		if (*n == room)
			FAIL(HTTP1_E_TOOMANY);
		h = &hdr[*n];
		h->hh_name = (const char *)s;
		h->hh_namelen = (size_t)(p - s);
		h->hh_id = field_id(h->hh_name, h->hh_namelen);
		h->hh_line = (const char *)line;
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
		p += 2;
		h->hh_linelen = (size_t)(p - line);
		(*n)++;
	}
	return ((int)(p - start));
#undef FAIL
#undef MORE
}

/*
 * What both kinds of message share: Content-Length, Transfer-Encoding
 * and Connection.  upgrade_seen tells whether an Upgrade field came.
 */
static enum http1_error
framing(const struct http1_header *hdr, size_t n, int minor, int64_t *clen,
    int *flags)
{
	const struct http1_header *h;
	const char	*p, *end, *e;
	size_t		 i, elen;
	int		 te = 0, chunked_last = 0, chunked_before = 0;
	int		 unknown = 0;
	int		 close = 0, keep = 0, upgrade = 0, upfield = 0;

	for (i = 0; i < n; i++) {
		h = &hdr[i];
		if (h->hh_id == HTTP1_F_CONTENT_LENGTH) {
			if (parse_clen(h, clen) == -1)
				return (HTTP1_E_CLEN);
		} else if (h->hh_id == HTTP1_F_TRANSFER_ENCODING) {
			p = h->hh_value;
			end = p + h->hh_valuelen;
			while (list_next(&p, end, &e, &elen)) {
				if (chunked_last)
					chunked_before = 1;
				chunked_last = elem_is(e, elen, "chunked");
				/* RFC 9112 7: the codings of the registry */
				if (!chunked_last && !elem_is(e, elen, "gzip") &&
				    !elem_is(e, elen, "x-gzip") &&
				    !elem_is(e, elen, "deflate") &&
				    !elem_is(e, elen, "compress") &&
				    !elem_is(e, elen, "x-compress"))
					unknown = 1;
				te = 1;
			}
			if (h->hh_valuelen == 0)
				return (HTTP1_E_TE);
		} else if (h->hh_id == HTTP1_F_CONNECTION) {
			p = h->hh_value;
			end = p + h->hh_valuelen;
			while (list_next(&p, end, &e, &elen)) {
				if (elem_is(e, elen, "close"))
					close = 1;
				else if (elem_is(e, elen, "keep-alive"))
					keep = 1;
				else if (elem_is(e, elen, "upgrade"))
					upgrade = 1;
				else
					*flags |= HTTP1_CONNOPT;
			}
		} else if (h->hh_id == HTTP1_F_UPGRADE)
			upfield = 1;
	}
	if (te) {
		if (minor == 0)
			return (HTTP1_E_TE);
		if (unknown)
			return (HTTP1_E_CODING);
		if (!chunked_last || chunked_before)
			return (HTTP1_E_TE);
		if (*clen != -1)
			return (HTTP1_E_CLEN_TE);
		*flags |= HTTP1_CHUNKED;
	}
	if (upgrade && upfield)
		*flags |= HTTP1_UPGRADE;
	if (close || (minor == 0 && !keep))
		*flags |= HTTP1_CLOSE;
	return (HTTP1_E_NONE);
}

/* Host and Expect, and the Host against an absolute-form's authority. */
static enum http1_error
req_semantics(struct http1_req *req)
{
	const struct http1_header *h;
	size_t		 i;
	int		 hosts = 0;
	enum http1_error e;

	if ((e = framing(req->rq_hdr, req->rq_nhdr, req->rq_minor,
	    &req->rq_clen, &req->rq_flags)) != HTTP1_E_NONE)
		return (e);
	for (i = 0; i < req->rq_nhdr; i++) {
		h = &req->rq_hdr[i];
		if (h->hh_id == HTTP1_F_HOST) {
			if (++hosts > 1 || !host_ok(h->hh_value,
			    h->hh_valuelen))
				return (HTTP1_E_HOST);
			req->rq_host = h->hh_value;
			req->rq_hostlen = h->hh_valuelen;
		} else if (h->hh_id == HTTP1_F_EXPECT) {
			if (h->hh_valuelen == 12 && strncasecmp(h->hh_value,
			    "100-continue", 12) == 0)
				req->rq_flags |= HTTP1_CONTINUE;
			else
				req->rq_flags |= HTTP1_EXPECT;
		}
	}
	if (req->rq_minor >= 1 && hosts == 0)
		return (HTTP1_E_HOST);
	/* RFC 9112 3.2.2: the authority wins, and must not be another. */
	if (req->rq_authority != NULL && req->rq_host != NULL &&
	    (req->rq_hostlen != req->rq_authoritylen ||
	    strncasecmp(req->rq_host, req->rq_authority, req->rq_hostlen) != 0))
		return (HTTP1_E_HOST);
	if (req->rq_authority != NULL && req->rq_host == NULL) {
		req->rq_host = req->rq_authority;
		req->rq_hostlen = req->rq_authoritylen;
	}
	return (HTTP1_E_NONE);
}

int
http1_head_len(const char *buf, size_t len, size_t *scanned)
{
	const char	*p, *end = buf + len;
	size_t		 i, start = 0;

	/* Empty lines before a request line are not its end. */
	while (start + 1 < len && buf[start] == '\r' && buf[start + 1] == '\n')
		start += 2;
	/* Back up two bytes: an empty line may straddle two reads. */
	i = *scanned > 2 ? *scanned - 2 : 0;
	if (i < start)
		i = start;
	for (p = buf + i; p < end && (p = memchr(p, '\n', (size_t)(end - p))) !=
	    NULL; p++) {
		if (p + 1 < end && p[1] == '\n')
			return ((int)(p + 2 - buf));
		if (p + 2 < end && p[1] == '\r' && p[2] == '\n')
			return ((int)(p + 3 - buf));
		if (p + 2 >= end)
			break;
	}
	*scanned = len;
	return (-2);
}

int
http1_parse_request(const char *buf, size_t len, struct http1_req *req)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	const unsigned char *s;
	size_t		 room = req->rq_nhdr, i, n;
	static const char v[] = "HTTP/";
	int		 r;

	if (len > INT32_MAX)		/* the return value must hold it */
		end = p + INT32_MAX;
	req->rq_method = req->rq_target = req->rq_host = NULL;
	req->rq_path = req->rq_authority = NULL;
	req->rq_methodlen = req->rq_targetlen = req->rq_hostlen = 0;
	req->rq_pathlen = req->rq_authoritylen = 0;
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

	r = fields(p, end, req->rq_hdr, room, &n, &req->rq_error);
	req->rq_nhdr = n;
	if (r < 0)
		return (r);
	p += r;
	if ((req->rq_error = req_semantics(req)) != HTTP1_E_NONE)
		return (-1);
	return ((int)(p - (const unsigned char *)buf));
#undef FAIL
#undef MORE
}

int
http1_parse_response(const char *buf, size_t len, struct http1_resp *resp)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	const unsigned char *s, *last;
	size_t		 room = resp->rs_nhdr, i, n;
	static const char v[] = "HTTP/";
	int		 r;

	if (len > INT32_MAX)
		end = p + INT32_MAX;
	resp->rs_minor = 0;
	resp->rs_status = 0;
	resp->rs_reason = NULL;
	resp->rs_reasonlen = 0;
	resp->rs_nhdr = 0;
	resp->rs_clen = -1;
	resp->rs_flags = 0;
	resp->rs_error = HTTP1_E_NONE;

#define FAIL(e)	do { resp->rs_error = (e); return (-1); } while (0)
#define MORE()	do { if (p >= end) return (-2); } while (0)

	/* HTTP-version SP 3DIGIT [ SP reason-phrase ] CRLF */
	for (i = 0; i < 12; i++) {
		if (p + i >= end)
			return (-2);
		if (i < 5 ? p[i] != (unsigned char)v[i] : i == 6 ?
		    p[i] != '.' : i == 8 ? p[i] != ' ' :
		    (p[i] < '0' || p[i] > '9'))
			FAIL(HTTP1_E_STATUS);
	}
	if (p[5] != '1')
		FAIL(HTTP1_E_STATUS);
	resp->rs_minor = p[7] - '0';
	resp->rs_status = (p[9] - '0') * 100 + (p[10] - '0') * 10 +
	    (p[11] - '0');
	if (resp->rs_status < 100)
		FAIL(HTTP1_E_STATUS);
	p += 12;
	MORE();
	if (*p == ' ') {
		/* reason-phrase: HTAB, SP, VCHAR, obs-text */
		for (s = last = ++p; p < end && *p != '\r'; p++) {
			if (*p < 0x20 && *p != '\t')
				FAIL(HTTP1_E_STATUS);
			if (*p == 0x7f)
				FAIL(HTTP1_E_STATUS);
			last = p + 1;
		}
		resp->rs_reason = (const char *)s;
		resp->rs_reasonlen = (size_t)(last - s);
	}
	MORE();
	if (*p != '\r')
		FAIL(HTTP1_E_STATUS);
	p++;
	MORE();
	if (*p != '\n')
		FAIL(HTTP1_E_STATUS);
	p++;

	r = fields(p, end, resp->rs_hdr, room, &n, &resp->rs_error);
	resp->rs_nhdr = n;
	if (r < 0)
		return (r);
	p += r;
	if ((resp->rs_error = framing(resp->rs_hdr, resp->rs_nhdr,
	    resp->rs_minor, &resp->rs_clen, &resp->rs_flags)) != HTTP1_E_NONE)
		return (-1);
	return ((int)(p - (const unsigned char *)buf));
#undef FAIL
#undef MORE
}

int
http1_field(const struct http1_header *hdr, size_t n, const char *name,
    size_t start)
{
	size_t	 i;

	for (i = start; i < n; i++)
		if (http1_is(&hdr[i], name))
			return ((int)i);
	return (-1);
}

int
http1_find(const struct http1_req *req, const char *name, size_t start)
{
	return (http1_field(req->rq_hdr, req->rq_nhdr, name, start));
}

int
http1_hop(const struct http1_header *hdr, size_t n,
    const struct http1_header *h)
{
	static const char *const hop[] = { "connection", "keep-alive",
	    "proxy-connection", "te", "transfer-encoding", "upgrade" };
	size_t		 i, k;
	char		 name[64];

	for (k = 0; k < sizeof(hop) / sizeof(hop[0]); k++)
		if (http1_is(h, hop[k]))
			return (1);
	if (h->hh_namelen >= sizeof(name))
		return (0);
	memcpy(name, h->hh_name, h->hh_namelen);
	name[h->hh_namelen] = '\0';
	for (i = 0; i < n; i++)
		if (http1_is(&hdr[i], "connection") &&
		    http1_list_has(hdr[i].hh_value, hdr[i].hh_valuelen, name))
			return (1);
	return (0);
}

int
http1_hop_flags(const struct http1_header *hdr, size_t n, int flags,
    const struct http1_header *h)
{
	switch (h->hh_id) {
	case HTTP1_F_CONNECTION:
	case HTTP1_F_KEEP_ALIVE:
	case HTTP1_F_PROXY_CONNECTION:
	case HTTP1_F_TE:
	case HTTP1_F_TRANSFER_ENCODING:
	case HTTP1_F_UPGRADE:
		return (1);
	}
	if (!(flags & HTTP1_CONNOPT))
		return (0);
	return (http1_hop(hdr, n, h));
}

int
http1_idempotent(const char *m, size_t n)
{
	static const char *const idem[] = { "GET", "HEAD", "OPTIONS",
	    "TRACE", "PUT", "DELETE" };
	size_t	 k;

	for (k = 0; k < sizeof(idem) / sizeof(idem[0]); k++)
		if (n == strlen(idem[k]) && memcmp(m, idem[k], n) == 0)
			return (1);
	return (0);
}

/* The states of a chunked body: chunk-size [ ext ] CRLF data CRLF ... */
enum {
	CK_SIZE,			/* hex digits */
	CK_EXT,				/* after the size: BWS ";" ext, to CR */
	CK_SIZE_LF,
	CK_DATA,
	CK_DATA_CR,
	CK_DATA_LF,
	CK_TRAILER,			/* at the start of a trailer line */
	CK_TRAILER_NAME,
	CK_TRAILER_VALUE,		/* to CR */
	CK_TRAILER_LF,
	CK_END_LF			/* the last CRLF's LF */
};

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

ssize_t
http1_chunk_feed(struct http1_chunk *ck, const char *buf, size_t len,
    void (*fn)(void *, const char *, size_t), void *arg)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	size_t		 max = ck->ck_max_trailer ? ck->ck_max_trailer :
			    HTTP1_TRAILER_MAX, n;
	int		 h;

	while (p < end && !ck->ck_done) {
		switch (ck->ck_state) {
		case CK_SIZE:
			if ((h = hexval(*p)) >= 0) {
				/* 15 digits: under 2^60, no overflow. */
				if (++ck->ck_digits > 15)
					return (-1);
				ck->ck_left = ck->ck_left * 16 + (uint64_t)h;
				p++;
				break;
			}
			if (ck->ck_digits == 0)
				return (-1);
			ck->ck_state = CK_EXT;
			break;
		case CK_EXT:
			/*
			 * chunk-ext: BWS ";" BWS name [ BWS "=" BWS value ]:
			 * read loosely, but never a control byte but HTAB, and
			 * only after a ";".
			 */
			if (*p == '\r') {
				/* Blanks after the size only before a ";". */
				if (ck->ck_trailer > 0 && !ck->ck_semi)
					return (-1);
				ck->ck_state = CK_SIZE_LF;
				p++;
				break;
			}
			if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
				return (-1);
			if (*p == ';')
				ck->ck_semi = 1;
			else if (!ck->ck_semi && !ows(*p))
				return (-1);
			/* ck_trailer counts the extension's bytes here. */
			if (++ck->ck_trailer > max)
				return (-1);
			p++;
			break;
		case CK_SIZE_LF:
			if (*p++ != '\n')
				return (-1);
			ck->ck_trailer = 0;
			ck->ck_digits = 0;
			ck->ck_semi = 0;
			ck->ck_state = ck->ck_left ? CK_DATA : CK_TRAILER;
			break;
		case CK_DATA:
			n = (size_t)(end - p);
			if (n > ck->ck_left)
				n = (size_t)ck->ck_left;
			if (fn != NULL)
				fn(arg, (const char *)p, n);
			p += n;
			ck->ck_left -= n;
			if (ck->ck_left == 0)
				ck->ck_state = CK_DATA_CR;
			break;
		case CK_DATA_CR:
			if (*p++ != '\r')
				return (-1);
			ck->ck_state = CK_DATA_LF;
			break;
		case CK_DATA_LF:
			if (*p++ != '\n')
				return (-1);
			ck->ck_state = CK_SIZE;
			break;
		case CK_TRAILER:
			if (*p == '\r') {
				ck->ck_state = CK_END_LF;
				p++;
				break;
			}
			if (!tchar(*p))
				return (-1);
			ck->ck_state = CK_TRAILER_NAME;
			break;
		case CK_TRAILER_NAME:
			if (++ck->ck_trailer > max)
				return (-1);
			if (*p == ':')
				ck->ck_state = CK_TRAILER_VALUE;
			else if (!tchar(*p))
				return (-1);
			p++;
			break;
		case CK_TRAILER_VALUE:
			if (++ck->ck_trailer > max)
				return (-1);
			if (*p == '\r')
				ck->ck_state = CK_TRAILER_LF;
			else if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
				return (-1);
			p++;
			break;
		case CK_TRAILER_LF:
			if (*p++ != '\n')
				return (-1);
			ck->ck_state = CK_TRAILER;
			break;
		case CK_END_LF:
			if (*p++ != '\n')
				return (-1);
			ck->ck_done = 1;
			break;
		}
	}
	return ((ssize_t)(p - (const unsigned char *)buf));
}

const char *
http1_reason(int status)
{
	switch (status) {
	case 100: return ("Continue");
	case 101: return ("Switching Protocols");
	case 200: return ("OK");
	case 201: return ("Created");
	case 202: return ("Accepted");
	case 204: return ("No Content");
	case 206: return ("Partial Content");
	case 301: return ("Moved Permanently");
	case 302: return ("Found");
	case 303: return ("See Other");
	case 304: return ("Not Modified");
	case 307: return ("Temporary Redirect");
	case 308: return ("Permanent Redirect");
	case 400: return ("Bad Request");
	case 401: return ("Unauthorized");
	case 403: return ("Forbidden");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 408: return ("Request Timeout");
	case 411: return ("Length Required");
	case 413: return ("Content Too Large");
	case 414: return ("URI Too Long");
	case 417: return ("Expectation Failed");
	case 421: return ("Misdirected Request");
	case 429: return ("Too Many Requests");
	case 431: return ("Request Header Fields Too Large");
	case 500: return ("Internal Server Error");
	case 501: return ("Not Implemented");
	case 502: return ("Bad Gateway");
	case 503: return ("Service Unavailable");
	case 504: return ("Gateway Timeout");
	case 505: return ("HTTP Version Not Supported");
	}
	return ("");
}
