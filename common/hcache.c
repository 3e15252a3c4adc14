/* hcache: what RFC 9111 reads in a message: Cache-Control, dates, ages, validators. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hcache.h"

static int
is_ows(char c)
{
	return (c == ' ' || c == '\t');
}

static int
is_digit(char c)
{
	return (c >= '0' && c <= '9');
}

static int
is_tchar(unsigned char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL));
}

void
hcache_cc_init(struct hcache_cc *cc)
{
	cc->cc_flags = 0;
	cc->cc_max_age = cc->cc_s_maxage = cc->cc_max_stale = -1;
	cc->cc_min_fresh = cc->cc_swr = cc->cc_sie = -1;
}

int
hcache_delta(const char *s, size_t len, int64_t *v)
{
	int64_t	 n = 0;
	size_t	 i;

	if (len == 0)
		return (-1);
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return (-1);
		if (n < HCACHE_DELTA_MAX)
			n = n * 10 + (s[i] - '0');
	}
	*v = n > HCACHE_DELTA_MAX ? HCACHE_DELTA_MAX : n;
	return (0);
}

/*
 * The list walker of both: with escapes, a backslash in quotes takes the
 * next byte (a quoted-string's quoted-pair); without, '"' always closes
 * (an entity-tag has no escapes, RFC 9110 8.8.3).
 */
static int
list_walk(const char **p, const char *end, const char **el, size_t *ellen,
    int escapes)
{
	const char	*s = *p, *e;
	int		 q = 0;

	while (s < end && (is_ows(*s) || *s == ','))
		s++;
	if (s == end) {
		*p = s;
		return (0);
	}
	for (e = s; e < end; e++) {
		if (q && escapes && *e == '\\' && e + 1 < end)
			e++;
		else if (*e == '"')
			q = !q;
		else if (*e == ',' && !q)
			break;
	}
	if (q) {
		*p = end;
		return (-1);
	}
	*p = e;
	while (e > s && is_ows(e[-1]))
		e--;
	*el = s;
	*ellen = (size_t)(e - s);
	return (1);
}

int
hcache_list_next(const char **p, const char *end, const char **el,
    size_t *ellen)
{
	return (list_walk(p, end, el, ellen, 1));
}

/*
 * A directive's value: a token as it is, a quoted-string without its
 * quotes (with escapes, which delta-seconds never has, left in: then
 * not a number).
 */
static void
unquote(const char **v, size_t *vl)
{
	if (*vl >= 2 && (*v)[0] == '"' && (*v)[*vl - 1] == '"') {
		(*v)++;
		*vl -= 2;
	}
}

/* A freshness directive: another value than before is a conflict. */
static void
set_fresh(struct hcache_cc *cc, int64_t *field, const char *v, size_t vl,
    int has)
{
	int64_t	 n;

	if (!has || hcache_delta(v, vl, &n) == -1) {
		cc->cc_flags |= HCC_CONFLICT;
		return;
	}
	if (*field != -1 && *field != n)
		cc->cc_flags |= HCC_CONFLICT;
	if (*field == -1)
		*field = n;
}

/* A directive that allows staleness: given twice, the less is kept. */
static void
set_stale(int64_t *field, const char *v, size_t vl, int has)
{
	int64_t	 n;

	if (!has || hcache_delta(v, vl, &n) == -1)
		return;
	if (*field == -1 || n < *field)
		*field = n;
}

int
hcache_cc_parse(const char *value, size_t len, struct hcache_cc *cc)
{
	static const struct {
		const char	*name;
		unsigned	 flag;
	} flags[] = {
		{ "no-store", HCC_NO_STORE }, { "no-cache", HCC_NO_CACHE },
		{ "private", HCC_PRIVATE }, { "public", HCC_PUBLIC },
		{ "must-revalidate", HCC_MUST_REVALIDATE },
		{ "proxy-revalidate", HCC_PROXY_REVALIDATE },
		{ "only-if-cached", HCC_ONLY_IF_CACHED },
		{ "no-transform", HCC_NO_TRANSFORM },
		{ "immutable", HCC_IMMUTABLE },
		{ "must-understand", HCC_MUST_UNDERSTAND },
	};
	const char	*p = value, *end = value + len, *el, *v;
	size_t		 ellen, nl, vl, i;
	int		 r, has;

	while ((r = hcache_list_next(&p, end, &el, &ellen)) == 1) {
		for (nl = 0; nl < ellen && is_tchar((unsigned char)el[nl]);
		    nl++)
			;
		if (nl == 0)
			continue;	/* not a directive: ignored */
		v = el + nl;
		vl = ellen - nl;
		while (vl > 0 && is_ows(*v)) {
			v++;
			vl--;
		}
		has = vl > 0 && *v == '=';
		if (has) {
			v++;
			vl--;
			while (vl > 0 && is_ows(*v)) {
				v++;
				vl--;
			}
			unquote(&v, &vl);
		} else if (vl > 0)
			continue;	/* "name junk": not a directive */
		for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (strlen(flags[i].name) == nl &&
			    strncasecmp(el, flags[i].name, nl) == 0)
				break;
		if (i < sizeof(flags) / sizeof(flags[0])) {
			cc->cc_flags |= flags[i].flag;
			continue;
		}
#define IS(s)	(nl == sizeof(s) - 1 && strncasecmp(el, s, nl) == 0)
		if (IS("max-age"))
			set_fresh(cc, &cc->cc_max_age, v, vl, has);
		else if (IS("s-maxage"))
			set_fresh(cc, &cc->cc_s_maxage, v, vl, has);
		else if (IS("min-fresh"))
			set_fresh(cc, &cc->cc_min_fresh, v, vl, has);
		else if (IS("stale-while-revalidate"))
			set_stale(&cc->cc_swr, v, vl, has);
		else if (IS("stale-if-error"))
			set_stale(&cc->cc_sie, v, vl, has);
		else if (IS("max-stale")) {
			if (!has)
				cc->cc_flags |= HCC_MAX_STALE_ANY;
			else
				set_stale(&cc->cc_max_stale, v, vl, has);
		}
#undef IS
	}
	if (r == -1) {
		cc->cc_flags |= HCC_CONFLICT;
		return (-1);
	}
	return (0);
}

/* ---- dates ---- */

static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May",
    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
    "Fri", "Sat" };
static const char *const longdays[] = { "Sunday", "Monday", "Tuesday",
    "Wednesday", "Thursday", "Friday", "Saturday" };

/* Days from 1970-01-01 to y-m-d (m 1..12), for any year of ours. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t	 era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y += *m <= 2;
}

static int
mdays(int64_t y, int m)
{
	static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return (29);
	return (n[m - 1]);
}

/* A cursor over the date's bytes. */
struct dcur {
	const char	*p, *end;
};

static int
lit(struct dcur *c, const char *s)
{
	size_t	 n = strlen(s);

	if ((size_t)(c->end - c->p) < n || strncasecmp(c->p, s, n) != 0)
		return (-1);
	c->p += n;
	return (0);
}

/* Exactly n digits. */
static int
digits(struct dcur *c, int n, int *v)
{
	int	 i;

	if (c->end - c->p < n)
		return (-1);
	*v = 0;
	for (i = 0; i < n; i++) {
		if (!is_digit(c->p[i]))
			return (-1);
		*v = *v * 10 + (c->p[i] - '0');
	}
	c->p += n;
	return (0);
}

static int
month(struct dcur *c, int *m)
{
	int	 i;

	for (i = 0; i < 12; i++)
		if (lit(c, months[i]) == 0) {
			*m = i + 1;
			return (0);
		}
	return (-1);
}

/* "HH:MM:SS", 23:59:60 allowed (a leap second). */
static int
tod(struct dcur *c, int *h, int *mi, int *s)
{
	if (digits(c, 2, h) == -1 || lit(c, ":") == -1 ||
	    digits(c, 2, mi) == -1 || lit(c, ":") == -1 ||
	    digits(c, 2, s) == -1)
		return (-1);
	return (*h > 23 || *mi > 59 || *s > 60 ? -1 : 0);
}

static int
dayname(struct dcur *c, const char *const *names)
{
	int	 i;

	for (i = 0; i < 7; i++)
		if (lit(c, names[i]) == 0)
			return (0);
	return (-1);
}

int
hcache_date_parse(const char *s, size_t len, int64_t now, int64_t *t)
{
	struct dcur	 c = { s, s + len };
	int		 d, m, y, h, mi, sec, y2;
	int64_t		 year, nowy;
	int		 nm, nd;

	while (c.p < c.end && is_ows(*c.p))
		c.p++;
	while (c.end > c.p && is_ows(c.end[-1]))
		c.end--;
	if (dayname(&c, longdays) == 0) {
		/* rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT */
		if (lit(&c, ", ") == -1 || digits(&c, 2, &d) == -1 ||
		    lit(&c, "-") == -1 || month(&c, &m) == -1 ||
		    lit(&c, "-") == -1 || digits(&c, 2, &y2) == -1 ||
		    lit(&c, " ") == -1 || tod(&c, &h, &mi, &sec) == -1 ||
		    lit(&c, " GMT") == -1)
			return (-1);
		civil_from_days(now / 86400, &nowy, &nm, &nd);
		year = nowy - nowy % 100 + y2;
		if (year > nowy + 50)
			year -= 100;
	} else {
		if (dayname(&c, days) == -1)
			return (-1);
		if (lit(&c, ", ") == 0) {
			/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
			if (digits(&c, 2, &d) == -1 || lit(&c, " ") == -1 ||
			    month(&c, &m) == -1 || lit(&c, " ") == -1 ||
			    digits(&c, 4, &y) == -1 || lit(&c, " ") == -1 ||
			    tod(&c, &h, &mi, &sec) == -1 ||
			    lit(&c, " GMT") == -1)
				return (-1);
		} else {
			/* asctime-date: Sun Nov  6 08:49:37 1994 */
			if (lit(&c, " ") == -1 || month(&c, &m) == -1 ||
			    lit(&c, " ") == -1)
				return (-1);
			if (lit(&c, " ") == 0) {
				if (digits(&c, 1, &d) == -1)
					return (-1);
			} else if (digits(&c, 2, &d) == -1)
				return (-1);
			if (lit(&c, " ") == -1 ||
			    tod(&c, &h, &mi, &sec) == -1 ||
			    lit(&c, " ") == -1 || digits(&c, 4, &y) == -1)
				return (-1);
		}
		year = y;
	}
	if (c.p != c.end || d < 1 || d > mdays(year, m))
		return (-1);
	if (sec == 60)
		sec = 59;
	*t = days_from_civil(year, m, d) * 86400 + h * 3600 + mi * 60 + sec;
	return (0);
}

void
hcache_date_fmt(int64_t t, char *buf)
{
	int64_t	 y, z;
	int	 m, d, s;

	/* Before the epoch, or past year 9999: the nearest we can say. */
	if (t < 0)
		t = 0;
	if (t > 253402300799LL)
		t = 253402300799LL;
	z = t / 86400;
	s = (int)(t % 86400);
	civil_from_days(z, &y, &m, &d);
	snprintf(buf, HCACHE_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[(z + 4) % 7], d, months[m - 1], (int)y, s / 3600,
	    s / 60 % 60, s % 60);
}

/* ---- validators ---- */

int
hcache_etag_valid(const char *etag, size_t len)
{
	size_t	 i;

	if (len >= 2 && etag[0] == 'W' && etag[1] == '/') {
		etag += 2;
		len -= 2;
	}
	if (len < 2 || etag[0] != '"' || etag[len - 1] != '"')
		return (0);
	for (i = 1; i + 1 < len; i++) {
		unsigned char c = (unsigned char)etag[i];

		if (!(c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80))
			return (0);
	}
	return (1);
}

/* The opaque-tag: the entity-tag without W/. */
static void
opaque(const char **e, size_t *n)
{
	if (*n >= 2 && (*e)[0] == 'W' && (*e)[1] == '/') {
		*e += 2;
		*n -= 2;
	}
}

int
hcache_etag_match(const char *list, size_t listlen, const char *etag,
    size_t etaglen)
{
	const char	*p = list, *end = list + listlen, *el;
	size_t		 ellen;
	int		 r, match = 0, any = 0;

	if (!hcache_etag_valid(etag, etaglen))
		return (-1);
	opaque(&etag, &etaglen);
	while ((r = list_walk(&p, end, &el, &ellen, 0)) == 1) {
		any = 1;
		if (ellen == 1 && el[0] == '*') {
			match = 1;
			continue;
		}
		if (!hcache_etag_valid(el, ellen))
			return (-1);
		opaque(&el, &ellen);
		if (ellen == etaglen && memcmp(el, etag, ellen) == 0)
			match = 1;
	}
	if (r == -1 || !any)
		return (-1);
	return (match);
}

/* ---- age and freshness ---- */

int64_t
hcache_initial_age(int64_t date, int64_t age, int64_t req_ms,
    int64_t resp_ms)
{
	int64_t	 apparent, corrected, delay, cap = HCACHE_DELTA_MAX * 1000;

	/* Date has a second's precision: so has the clock it is set by. */
	apparent = resp_ms / 1000 - date;
	if (apparent < 0)
		apparent = 0;
	if (apparent > HCACHE_DELTA_MAX)
		apparent = HCACHE_DELTA_MAX;
	apparent *= 1000;
	delay = resp_ms - req_ms;
	if (delay < 0)
		delay = 0;
	if (delay > cap)
		delay = cap;
	if (age < 0)
		age = 0;
	if (age > HCACHE_DELTA_MAX)
		age = HCACHE_DELTA_MAX;
	corrected = age * 1000 + delay;
	if (corrected > cap)
		corrected = cap;
	return (apparent > corrected ? apparent : corrected);
}

int64_t
hcache_lifetime(const struct hcache_cc *cc, int64_t expires, int64_t date)
{
	if (cc->cc_flags & HCC_CONFLICT)
		return (0);
	if (cc->cc_s_maxage >= 0)
		return (cc->cc_s_maxage);
	if (cc->cc_max_age >= 0)
		return (cc->cc_max_age);
	if (expires == -1)
		return (0);
	if (expires >= 0) {
		if (expires <= date)
			return (0);
		return (expires - date > HCACHE_DELTA_MAX ? HCACHE_DELTA_MAX :
		    expires - date);
	}
	return (-1);
}
