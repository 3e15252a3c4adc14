/* http1: an HTTP/1.1 request head parser, in place, strict per RFC 9112. */
#ifndef LB_HTTP1_H
#define LB_HTTP1_H

#include <stddef.h>
#include <stdint.h>

/* One header field line: pointers into the caller's buffer, no copies. */
struct http1_header {
	const char	*hh_name;
	size_t		 hh_namelen;
	const char	*hh_value;		/* without leading/trailing OWS */
	size_t		 hh_valuelen;
};

/* rq_flags */
#define HTTP1_CHUNKED	0x01	/* Transfer-Encoding ends in chunked */
#define HTTP1_CLOSE	0x02	/* the connection closes after the response */
#define HTTP1_CONTINUE	0x04	/* Expect: 100-continue */
#define HTTP1_UPGRADE	0x08	/* Connection: upgrade */

/* rq_error, when http1_parse_request() returned -1 */
enum http1_error {
	HTTP1_E_NONE,
	HTTP1_E_METHOD,		/* not a token */
	HTTP1_E_TARGET,		/* empty, bad byte, or wrong form */
	HTTP1_E_VERSION,	/* not HTTP/DIGIT.DIGIT */
	HTTP1_E_MAJOR,		/* a major version other than 1: 505 */
	HTTP1_E_LINE,		/* not one SP, a bare CR or LF, a control */
	HTTP1_E_FIELD,		/* a bad field name or value */
	HTTP1_E_FOLD,		/* obs-fold, or whitespace before the fields */
	HTTP1_E_TOOMANY,	/* more fields than rq_nhdr allowed: 431 */
	HTTP1_E_CLEN,		/* a bad or conflicting Content-Length */
	HTTP1_E_TE,		/* Transfer-Encoding: not chunked last, or 1.0 */
	HTTP1_E_CLEN_TE,	/* both Content-Length and Transfer-Encoding */
	HTTP1_E_HOST,		/* no Host in 1.1, two of them, or a bad one */
	HTTP1_E_NERRORS
};

/*
 * A request head.  The caller sets rq_hdr to an array and rq_nhdr to
 * its length; the parser sets everything else (rq_nhdr to the fields
 * found).  Every pointer points into the parsed buffer.
 */
struct http1_req {
	const char	*rq_method;
	size_t		 rq_methodlen;
	const char	*rq_target;
	size_t		 rq_targetlen;
	int		 rq_minor;		/* HTTP/1.x */
	struct http1_header *rq_hdr;
	size_t		 rq_nhdr;
	const char	*rq_host;		/* NULL: none */
	size_t		 rq_hostlen;
	int64_t		 rq_clen;		/* Content-Length, -1: none */
	int		 rq_flags;		/* HTTP1_* */
	enum http1_error rq_error;
};

/*
 * Parse the request line and header fields at the start of buf (len
 * bytes).  Lines end in CRLF, as RFC 9112 requires of senders: a bare LF
 * or CR is malformed, and so are obs-fold, a field name followed by
 * whitespace, Content-Length beside Transfer-Encoding, Transfer-Encoding
 * in HTTP/1.0 or not ending in chunked, an HTTP/1.1 request without Host
 * and two Host fields.  Empty lines before the request line are skipped
 * (RFC 9112 section 2.2).  Returns the bytes of the head (through its
 * empty line), -2 when buf holds a valid beginning of a head but not all
 * of it, or -1 when it is malformed (reason in req->rq_error).
 */
int	http1_parse_request(const char *buf, size_t len, struct http1_req *req);

/* The status a server answers with for an error, e.g. 400, 431 or 505. */
int	http1_error_status(enum http1_error e);
/* A short description of an error. */
const char *http1_error_str(enum http1_error e);

/*
 * Find the field name (case-insensitive) in req; returns its index from
 * start, or -1.  Call again with the index + 1 for the next one.
 */
int	http1_find(const struct http1_req *req, const char *name, size_t start);

#endif
