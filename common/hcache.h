/* hcache: what RFC 9111 reads in a message: Cache-Control, dates, ages, validators. */
#ifndef LB_HCACHE_H
#define LB_HCACHE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The largest delta-seconds kept: RFC 9111 section 1.2.2 has a cache
 * take a greater value, or one that overflows, as 2^31.
 */
#define HCACHE_DELTA_MAX	2147483648LL

/* cc_flags: the directives without a value that matter to a cache */
#define HCC_NO_STORE		0x0001
#define HCC_NO_CACHE		0x0002	/* either form: no-cache="field" too */
#define HCC_PRIVATE		0x0004	/* either form */
#define HCC_PUBLIC		0x0008
#define HCC_MUST_REVALIDATE	0x0010
#define HCC_PROXY_REVALIDATE	0x0020
#define HCC_ONLY_IF_CACHED	0x0040	/* a request's */
#define HCC_NO_TRANSFORM	0x0080
#define HCC_IMMUTABLE		0x0100
#define HCC_MUST_UNDERSTAND	0x0200
#define HCC_MAX_STALE_ANY	0x0400	/* a request's max-stale without a value */
#define HCC_CONFLICT		0x0800	/* a freshness directive given twice
					   with two values, or malformed */

/*
 * The directives of one message's Cache-Control fields.  A delta of -1
 * means the directive is absent.  hcache_cc_init() clears it, then
 * hcache_cc_parse() adds the directives of each field line in turn.
 */
struct hcache_cc {
	unsigned	 cc_flags;		/* HCC_* */
	int64_t		 cc_max_age;
	int64_t		 cc_s_maxage;
	int64_t		 cc_max_stale;		/* a request's */
	int64_t		 cc_min_fresh;		/* a request's */
	int64_t		 cc_swr;		/* stale-while-revalidate (RFC 5861) */
	int64_t		 cc_sie;		/* stale-if-error (RFC 5861) */
};

void	hcache_cc_init(struct hcache_cc *cc);

/*
 * Read one Cache-Control field value (len bytes, not NUL-terminated)
 * into cc.  Names are matched ignoring case; a value may be a token or
 * a quoted-string (max-age="60" is taken as 60).  A directive of
 * freshness (max-age, s-maxage, stale-while-revalidate, stale-if-error,
 * min-fresh) given again with another value, or with a value that is
 * not delta-seconds, sets HCC_CONFLICT: a cache takes such a response
 * as stale (RFC 9111 section 4.2.1).  Unknown directives are ignored,
 * as the RFC asks.  Returns 0, or -1 when the value is not a valid
 * list (what it read until then is kept, and HCC_CONFLICT is set).
 */
int	hcache_cc_parse(const char *value, size_t len, struct hcache_cc *cc);

/*
 * delta-seconds (1*DIGIT) of len bytes into *v, clamped to
 * HCACHE_DELTA_MAX.  Returns 0, or -1 when it is not one.
 */
int	hcache_delta(const char *s, size_t len, int64_t *v);

/*
 * An HTTP-date of len bytes (RFC 9110 section 5.6.7): IMF-fixdate
 * ("Sun, 06 Nov 1994 08:49:37 GMT"), or one of the obsolete forms a
 * recipient must read, RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT", a
 * two-digit year taken within 50 years from now) and asctime ("Sun Nov
 *  6 08:49:37 1994").  The day name is not checked against the date.
 * Stores seconds since the epoch in *t; returns 0, or -1 when it is
 * not a date (a cache takes an invalid Expires as a time in the past).
 */
int	hcache_date_parse(const char *s, size_t len, int64_t now, int64_t *t);

/* t as an IMF-fixdate, NUL-terminated, in buf of at least 30 bytes. */
#define HCACHE_DATE_LEN		30
void	hcache_date_fmt(int64_t t, char *buf);

/*
 * The next element of a comma-separated list (RFC 9110 section 5.6.1)
 * from *p to end: empty elements and whitespace around them are
 * skipped, a comma inside a quoted-string does not end one.  Returns 1
 * with the element in *el and *ellen (*p moved past it), 0 at the end,
 * -1 when a quoted-string does not end.
 */
int	hcache_list_next(const char **p, const char *end, const char **el,
	    size_t *ellen);

/*
 * Whether an entity-tag etag (as a response's ETag field has it, W/
 * and quotes included) matches the If-None-Match field value list, by
 * the weak comparison (RFC 9110 section 13.1.2): "*" matches any, a W/
 * prefix on either side is not looked at.  Returns 1 for a match, 0
 * for none, -1 when the list or etag is malformed (the condition is
 * then not evaluated: the field is ignored).
 */
int	hcache_etag_match(const char *list, size_t listlen, const char *etag,
	    size_t etaglen);

/*
 * Whether an entity-tag is valid: ["W/"] DQUOTE *etagc DQUOTE.
 */
int	hcache_etag_valid(const char *etag, size_t len);

/*
 * RFC 9111 section 4.2.3: the corrected initial age of a response, in
 * milliseconds: the larger of its apparent age (received at resp_ms,
 * ms since the epoch, with Date date, seconds; 0 when Date is later)
 * and its Age field's age (seconds, -1: none) plus the time it took
 * since the request went at req_ms.  The current age is this plus the
 * time since resp_ms.  Never negative, never past HCACHE_DELTA_MAX
 * seconds.
 */
int64_t	hcache_initial_age(int64_t date, int64_t age, int64_t req_ms,
	    int64_t resp_ms);

/*
 * RFC 9111 section 4.2.1: a response's freshness lifetime for a shared
 * cache, in seconds: s-maxage, else max-age, else Expires minus Date
 * (expires and date in seconds; expires -2 when absent, -1 when
 * present but invalid, which means already stale; date the Date field
 * or when the response was received).  Returns -1 when the response
 * gives no explicit lifetime: a cache that uses no heuristics does not
 * store it.  HCC_CONFLICT gives 0.
 */
int64_t	hcache_lifetime(const struct hcache_cc *cc, int64_t expires,
	    int64_t date);

#endif
