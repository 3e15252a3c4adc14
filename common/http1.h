/* http1: HTTP/1.1 heads and chunked bodies, parsed in place, strict per RFC 9112. */
#ifndef LB_HTTP1_H
#define LB_HTTP1_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The field names a proxy looks at, known by the parser once a field
 * (hh_id), so that a look at a field is one compare and not a string's.
 */
enum http1_field_id {
	HTTP1_F_OTHER,
	HTTP1_F_CONNECTION,
	HTTP1_F_CONTENT_LENGTH,
	HTTP1_F_TRANSFER_ENCODING,
	HTTP1_F_UPGRADE,
	HTTP1_F_HOST,
	HTTP1_F_EXPECT,
	HTTP1_F_KEEP_ALIVE,
	HTTP1_F_PROXY_CONNECTION,
	HTTP1_F_TE,
	HTTP1_F_X_FORWARDED_FOR,
	HTTP1_F_X_FORWARDED_PROTO,
	HTTP1_F_X_FORWARDED_HOST,
	HTTP1_F_FORWARDED
};

/* One header field line: pointers into the caller's buffer, no copies. */
struct http1_header {
	const char	*hh_name;
	size_t		 hh_namelen;
	int		 hh_id;			/* enum http1_field_id */
	const char	*hh_value;		/* without leading/trailing OWS */
	size_t		 hh_valuelen;
	const char	*hh_line;		/* the whole line, CRLF included */
	size_t		 hh_linelen;
};

/* rq_flags, rs_flags */
#define HTTP1_CHUNKED	0x01	/* Transfer-Encoding ends in chunked */
#define HTTP1_CLOSE	0x02	/* the connection closes after this exchange */
#define HTTP1_CONTINUE	0x04	/* Expect: 100-continue */
#define HTTP1_UPGRADE	0x08	/* Connection: upgrade, with an Upgrade field */
#define HTTP1_ABSOLUTE	0x10	/* the target is in absolute-form */
#define HTTP1_EXPECT	0x20	/* an Expect field other than 100-continue */
#define HTTP1_CONNOPT	0x40	/* Connection lists more than close, keep-alive
				   and upgrade: other fields may be hop-by-hop */

/* rq_error, rs_error, when a parse returned -1 */
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
	HTTP1_E_CLEN,		/* a bad, listed or repeated Content-Length */
	HTTP1_E_TE,		/* Transfer-Encoding: not chunked last, or 1.0 */
	HTTP1_E_CLEN_TE,	/* both Content-Length and Transfer-Encoding */
	HTTP1_E_HOST,		/* no Host in 1.1, two, a bad one, or not the target's */
	HTTP1_E_STATUS,		/* a response's status line */
	HTTP1_E_CODING,		/* a transfer coding none knows: 501 */
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
	const char	*rq_target;		/* as sent */
	size_t		 rq_targetlen;
	const char	*rq_path;		/* origin-form: path and query */
	size_t		 rq_pathlen;		/* ("*" for OPTIONS *) */
	const char	*rq_authority;		/* absolute-form's, else NULL */
	size_t		 rq_authoritylen;
	int		 rq_minor;		/* HTTP/1.x */
	struct http1_header *rq_hdr;
	size_t		 rq_nhdr;
	const char	*rq_host;		/* NULL: none */
	size_t		 rq_hostlen;
	int64_t		 rq_clen;		/* Content-Length, -1: none */
	int		 rq_flags;		/* HTTP1_* */
	enum http1_error rq_error;
};

/* A response head, set up and filled as a request's is. */
struct http1_resp {
	int		 rs_minor;
	int		 rs_status;		/* 100..999 */
	const char	*rs_reason;
	size_t		 rs_reasonlen;
	struct http1_header *rs_hdr;
	size_t		 rs_nhdr;
	int64_t		 rs_clen;		/* Content-Length, -1: none */
	int		 rs_flags;		/* HTTP1_* */
	enum http1_error rs_error;
};

/*
 * Where the head at the start of buf ends: its length through the
 * empty line, or -2 when it is not there yet.  *scanned (0 at first)
 * keeps how far earlier calls looked, so that a head that comes a byte
 * at a time costs linear time.  An empty line is looked for loosely (a
 * LF, an optional CR, a LF) so that a head with bare LFs ends too and
 * the strict parse that follows can refuse it.
 */
int	http1_head_len(const char *buf, size_t len, size_t *scanned);

/*
 * Parse the request line and header fields at the start of buf (len
 * bytes).  Lines end in CRLF, as RFC 9112 requires of senders: a bare LF
 * or CR is malformed, and so are obs-fold, a field name followed by
 * whitespace, control bytes in a value, a Content-Length that is not one
 * number (a list, or two fields), Content-Length beside
 * Transfer-Encoding, Transfer-Encoding in HTTP/1.0 or not ending in one
 * chunked, an HTTP/1.1 request without Host, two Host fields, and an
 * absolute-form target whose authority is not the Host.  Empty lines
 * before the request line are skipped (RFC 9112 section 2.2).  Returns
 * the bytes of the head (through its empty line), -2 when buf holds a
 * valid beginning of a head but not all of it, or -1 when it is
 * malformed (reason in req->rq_error).
 */
int	http1_parse_request(const char *buf, size_t len, struct http1_req *req);

/*
 * Parse a response head: "HTTP/1.x NNN reason" and the fields, by the
 * same rules (a Transfer-Encoding must end in one chunked, also here:
 * a body that only a close could end is refused in a proxy's
 * response too, as a framing it cannot vouch for).  Returns as
 * http1_parse_request() does.
 */
int	http1_parse_response(const char *buf, size_t len,
	    struct http1_resp *resp);

/* The status a server answers with for an error, e.g. 400, 431 or 505. */
int	http1_error_status(enum http1_error e);
/* A short description of an error. */
const char *http1_error_str(enum http1_error e);

/*
 * Find the field name (case-insensitive) among hdr[0..n) from start;
 * returns its index, or -1.  Call again with the index + 1 for the next.
 * http1_find() does it for a request.
 */
int	http1_field(const struct http1_header *hdr, size_t n, const char *name,
	    size_t start);
int	http1_find(const struct http1_req *req, const char *name, size_t start);

/* Whether c may be in a token (a field name, say): RFC 9110 5.6.2. */
int	http1_tchar(int c);

/* Whether field h's name is name, case ignored. */
int	http1_is(const struct http1_header *h, const char *name);

/*
 * Whether the comma-separated list value (len bytes) holds token, case
 * ignored (a Connection field's options, say).
 */
int	http1_list_has(const char *value, size_t len, const char *token);

/*
 * Hop-by-hop: whether the field h is one a proxy must not pass on: the
 * fields RFC 9110 section 7.6.1 names (Connection, Keep-Alive,
 * Proxy-Connection, TE, Transfer-Encoding, Upgrade) and any that a
 * Connection field of hdr[0..n) lists.
 */
int	http1_hop(const struct http1_header *hdr, size_t n,
	    const struct http1_header *h);

/*
 * The same, given the head's flags: a field whose name the parser knows
 * needs no look at the Connection fields unless HTTP1_CONNOPT is set.
 */
int	http1_hop_flags(const struct http1_header *hdr, size_t n, int flags,
	    const struct http1_header *h);

/* Whether a method is idempotent (RFC 9110 section 9.2.2). */
int	http1_idempotent(const char *method, size_t len);

/*
 * A chunked body, decoded as it comes.  Zero it before the first byte.
 * http1_chunk_feed() reads up to len bytes of buf and returns how many
 * belong to the body (fewer than len only when the body ended there:
 * ck_done is then set), or -1 when the framing is malformed: a chunk
 * size that is not hex or is too big, bad chunk extensions, a bare CR
 * or LF, data not followed by CRLF, a bad trailer field, trailers over
 * max_trailer bytes.  With fn, the bytes of the chunks' data are handed
 * to fn(arg, data, n) as they are found (to take the framing off).
 */
struct http1_chunk {
	int		 ck_state;
	int		 ck_done;
	uint64_t	 ck_left;		/* of the chunk being read */
	uint32_t	 ck_digits;
	uint32_t	 ck_semi;		/* a ";" came after the size */
	size_t		 ck_trailer;		/* extension or trailer bytes */
	size_t		 ck_max_trailer;	/* 0: 8 KiB */
};
ssize_t	http1_chunk_feed(struct http1_chunk *ck, const char *buf, size_t len,
	    void (*fn)(void *arg, const char *data, size_t n), void *arg);

/* The reason phrase RFC 9110 gives a status ("Not Found"), or "". */
const char *http1_reason(int status);

#endif
