/* hcache_test: Cache-Control, HTTP dates, lists, entity-tags, age and lifetime. */
#include <stdio.h>
#include <string.h>

#include "hcache.h"
#include "unit.h"

/* Each input ends right before a PROT_NONE page: no read past it. */
static int
cc(const char *s, struct hcache_cc *c)
{
	size_t	 n = strlen(s);

	hcache_cc_init(c);
	return (hcache_cc_parse(unit_place(s, n), n, c));
}

static void
test_cc(void)
{
	struct hcache_cc c;

	CHECK(cc("", &c) == 0 && c.cc_flags == 0 && c.cc_max_age == -1);
	CHECK(cc("max-age=60", &c) == 0 && c.cc_max_age == 60);
	CHECK(cc("MAX-AGE=60, Public", &c) == 0 && c.cc_max_age == 60 &&
	    c.cc_flags == HCC_PUBLIC);
	CHECK(cc("max-age=\"60\"", &c) == 0 && c.cc_max_age == 60);
	CHECK(cc("s-maxage=10,max-age=5", &c) == 0 && c.cc_s_maxage == 10 &&
	    c.cc_max_age == 5);
	CHECK(cc("no-store", &c) == 0 && c.cc_flags == HCC_NO_STORE);
	CHECK(cc("no-cache=\"Set-Cookie, X\", private=\"a\"", &c) == 0 &&
	    c.cc_flags == (HCC_NO_CACHE | HCC_PRIVATE));
	CHECK(cc("must-revalidate,proxy-revalidate,immutable", &c) == 0 &&
	    c.cc_flags == (HCC_MUST_REVALIDATE | HCC_PROXY_REVALIDATE |
	    HCC_IMMUTABLE));
	CHECK(cc("only-if-cached, no-transform, must-understand", &c) == 0 &&
	    c.cc_flags == (HCC_ONLY_IF_CACHED | HCC_NO_TRANSFORM |
	    HCC_MUST_UNDERSTAND));
	CHECK(cc("stale-while-revalidate=30, stale-if-error=600", &c) == 0 &&
	    c.cc_swr == 30 && c.cc_sie == 600);
	/* twice: the less staleness is allowed */
	CHECK(cc("stale-if-error=600, stale-if-error=5", &c) == 0 &&
	    c.cc_sie == 5);
	CHECK(cc("stale-if-error=x", &c) == 0 && c.cc_sie == -1);
	CHECK(cc("max-stale", &c) == 0 && c.cc_flags == HCC_MAX_STALE_ANY &&
	    c.cc_max_stale == -1);
	CHECK(cc("max-stale=9, min-fresh=3", &c) == 0 && c.cc_max_stale == 9 &&
	    c.cc_min_fresh == 3);
	/* two different max-age, or a bad one: stale (RFC 9111 4.2.1) */
	CHECK(cc("max-age=60, max-age=61", &c) == 0 &&
	    (c.cc_flags & HCC_CONFLICT));
	CHECK(cc("max-age=60, max-age=60", &c) == 0 &&
	    !(c.cc_flags & HCC_CONFLICT));
	CHECK(cc("max-age=-1", &c) == 0 && (c.cc_flags & HCC_CONFLICT));
	CHECK(cc("max-age", &c) == 0 && (c.cc_flags & HCC_CONFLICT));
	CHECK(cc("max-age=1e3", &c) == 0 && (c.cc_flags & HCC_CONFLICT));
	/* too large: 2^31 */
	CHECK(cc("max-age=99999999999999999999999", &c) == 0 &&
	    c.cc_max_age == HCACHE_DELTA_MAX);
	/* whitespace, empty elements, unknown ones, quoted commas */
	CHECK(cc(" ,, max-age = 7 ,\tx-y=\"a,no-store\", ,public,", &c) == 0 &&
	    c.cc_max_age == 7 && c.cc_flags == HCC_PUBLIC);
	CHECK(cc("nostore, no-store-please, private junk", &c) == 0 &&
	    c.cc_flags == 0);
	/* a quote that never ends: what came before is kept */
	CHECK(cc("public, x=\"abc", &c) == -1 && (c.cc_flags & HCC_PUBLIC) &&
	    (c.cc_flags & HCC_CONFLICT));
	/* several field lines add up */
	hcache_cc_init(&c);
	CHECK(hcache_cc_parse("public", 6, &c) == 0);
	CHECK(hcache_cc_parse("max-age=3", 9, &c) == 0);
	CHECK(c.cc_flags == HCC_PUBLIC && c.cc_max_age == 3);
}

static int
date(const char *s, int64_t *t)
{
	/* now: 2026-06-01 */
	return (hcache_date_parse(unit_place(s, strlen(s)), strlen(s),
	    1780272000, t));
}

static void
test_dates(void)
{
	char	 buf[HCACHE_DATE_LEN];
	int64_t	 t, u;

	CHECK(date("Sun, 06 Nov 1994 08:49:37 GMT", &t) == 0 &&
	    t == 784111777);
	CHECK(date("Sunday, 06-Nov-94 08:49:37 GMT", &t) == 0 &&
	    t == 784111777);
	CHECK(date("Sun Nov  6 08:49:37 1994", &t) == 0 && t == 784111777);
	CHECK(date("Sun Nov 16 08:49:37 1994", &t) == 0 &&
	    t == 784111777 + 10 * 86400);
	CHECK(date("Thu, 01 Jan 1970 00:00:00 GMT", &t) == 0 && t == 0);
	CHECK(date("Tue, 29 Feb 2028 23:59:59 GMT", &t) == 0);
	CHECK(date("Wed, 29 Feb 2027 00:00:00 GMT", &t) == -1);
	CHECK(date("Thu, 31 Apr 2026 00:00:00 GMT", &t) == -1);
	CHECK(date("Thu, 01 Jan 2026 24:00:00 GMT", &t) == -1);
	CHECK(date("Thu, 01 Jan 2026 23:60:00 GMT", &t) == -1);
	/* a leap second is the second before */
	CHECK(date("Wed, 31 Dec 2025 23:59:60 GMT", &t) == 0 &&
	    date("Wed, 31 Dec 2025 23:59:59 GMT", &u) == 0 && t == u);
	/* two-digit years: within 50 years from now, else a century back */
	CHECK(date("Saturday, 01-Jan-77 00:00:00 GMT", &t) == 0 &&
	    t == 220924800);
	CHECK(date("Wednesday, 01-Jan-70 00:00:00 GMT", &t) == 0 &&
	    t == 3155760000LL);
	CHECK(date("Friday, 01-Jan-30 00:00:00 GMT", &t) == 0 &&
	    t == 1893456000);
	CHECK(date("Monday, 01-Jan-80 00:00:00 GMT", &t) == 0 &&
	    t == 315532800);
	/* what is not a date, the value "0" of Expires first */
	CHECK(date("0", &t) == -1);
	CHECK(date("-1", &t) == -1);
	CHECK(date("", &t) == -1);
	CHECK(date("Sun, 06 Nov 1994 08:49:37 UTC", &t) == -1);
	CHECK(date("Sun, 06 Nov 1994 08:49:37 GMT junk", &t) == -1);
	CHECK(date("Sun, 6 Nov 1994 08:49:37 GMT", &t) == -1);
	CHECK(date("Sun, 06 Nov 94 08:49:37 GMT", &t) == -1);
	CHECK(date("Sun, 06 Nov 1994 08:49 GMT", &t) == -1);
	CHECK(date("Sun, 06 Nox 1994 08:49:37 GMT", &t) == -1);
	CHECK(date("Sun, 00 Nov 1994 08:49:37 GMT", &t) == -1);
	CHECK(date("Sun, 06 Nov 1994 08:49:37 GM", &t) == -1);
	CHECK(date("Sun", &t) == -1);
	CHECK(date("Sun Nov  6 08:49:37 94", &t) == -1);
	/* names ignore case; blanks around are no part of it */
	CHECK(date("  sun, 06 NOV 1994 08:49:37 gmt ", &t) == 0 &&
	    t == 784111777);
	/* written back */
	hcache_date_fmt(784111777, buf);
	CHECK(strcmp(buf, "Sun, 06 Nov 1994 08:49:37 GMT") == 0);
	hcache_date_fmt(0, buf);
	CHECK(strcmp(buf, "Thu, 01 Jan 1970 00:00:00 GMT") == 0);
	hcache_date_fmt(-5, buf);
	CHECK(strcmp(buf, "Thu, 01 Jan 1970 00:00:00 GMT") == 0);
	hcache_date_fmt(1780272000 + 86399, buf);
	CHECK(strcmp(buf, "Mon, 01 Jun 2026 23:59:59 GMT") == 0);
	for (t = 0; t < 4102444800LL; t += 86400 * 37 + 3611) {
		hcache_date_fmt(t, buf);
		if (!ok(hcache_date_parse(buf, strlen(buf), 0, &u) == 0 &&
		    u == t, "round trip of %lld: %s", (long long)t, buf))
			break;
	}
}

static int
list(const char *s, const char **want, int n)
{
	const char	*p = unit_place(s, strlen(s)), *end = p + strlen(s), *el;
	size_t		 ellen;
	int		 k = 0, r;

	while ((r = hcache_list_next(&p, end, &el, &ellen)) == 1) {
		if (k >= n || strlen(want[k]) != ellen ||
		    memcmp(want[k], el, ellen) != 0)
			return (0);
		k++;
	}
	return (r == 0 && k == n);
}

static void
test_lists(void)
{
	const char	*a[] = { "a", "b c", "\"x,y\"", "d=\"\\\",\"" };
	const char	*p, *el, *s = "\"open";
	size_t		 ellen;

	CHECK(list("a, b c ,\"x,y\",,\t d=\"\\\",\" ,", a, 4));
	CHECK(list("", a, 0));
	CHECK(list(" , ,", a, 0));
	p = unit_place(s, strlen(s));
	CHECK(hcache_list_next(&p, p + 5, &el, &ellen) == -1);
}

static int
inm(const char *list_, const char *etag)
{
	return (hcache_etag_match(unit_place(list_, strlen(list_)),
	    strlen(list_), etag, strlen(etag)));
}

static void
test_etags(void)
{
	int64_t	 v;

	CHECK(hcache_etag_valid("\"abc\"", 5));
	CHECK(hcache_etag_valid("W/\"abc\"", 7));
	CHECK(hcache_etag_valid("\"\"", 2));
	CHECK(!hcache_etag_valid("abc", 3));
	CHECK(!hcache_etag_valid("\"a\"b\"", 5));
	CHECK(!hcache_etag_valid("\"a b\"", 5));
	CHECK(!hcache_etag_valid("w/\"a\"", 5));
	CHECK(!hcache_etag_valid("\"", 1));
	CHECK(inm("\"abc\"", "\"abc\"") == 1);
	CHECK(inm("\"x\", \"abc\"", "\"abc\"") == 1);
	/* the weak comparison: W/ on either side does not matter */
	CHECK(inm("W/\"abc\"", "\"abc\"") == 1);
	CHECK(inm("\"abc\"", "W/\"abc\"") == 1);
	CHECK(inm("\"abd\"", "\"abc\"") == 0);
	CHECK(inm("*", "\"abc\"") == 1);
	CHECK(inm("abc", "\"abc\"") == -1);
	CHECK(inm("", "\"abc\"") == -1);
	CHECK(inm("\"abc\"", "abc") == -1);
	CHECK(inm("\"abc", "\"abc\"") == -1);
	/* a backslash is an etagc, no escape: the tag ends at the quote */
	CHECK(inm("\"a\\\"", "\"a\\\"") == 1);
	CHECK(inm("\"a\\\", \"b\"", "\"b\"") == 1);
	CHECK(hcache_delta("0", 1, &v) == 0 && v == 0);
	CHECK(hcache_delta("42", 2, &v) == 0 && v == 42);
	CHECK(hcache_delta("", 0, &v) == -1);
	CHECK(hcache_delta("4 2", 3, &v) == -1);
	CHECK(hcache_delta("2147483649", 10, &v) == 0 &&
	    v == HCACHE_DELTA_MAX);
}

static void
test_age(void)
{
	struct hcache_cc c;

	/* received at 1000.5 s, asked at 1000.2 s, Date 990: 10 s old */
	CHECK(hcache_initial_age(990, -1, 1000200, 1000500) == 10000);
	/* Age 30, and 300 ms on the way: more than the Date says */
	CHECK(hcache_initial_age(990, 30, 1000200, 1000500) == 30300);
	/* a Date from the future is age 0, not less */
	CHECK(hcache_initial_age(2000, -1, 1000000, 1000000) == 0);
	/* a Date in the same second: 0 whatever the milliseconds */
	CHECK(hcache_initial_age(1000, -1, 1000900, 1000999) == 99);
	/* clocks that went back are no negative delay */
	CHECK(hcache_initial_age(1000, 5, 2000000, 1000000) == 5000);
	CHECK(hcache_initial_age(0, HCACHE_DELTA_MAX + 5, 0, 5000) ==
	    HCACHE_DELTA_MAX * 1000);
	hcache_cc_init(&c);
	CHECK(hcache_lifetime(&c, -2, 100) == -1);
	CHECK(hcache_lifetime(&c, 160, 100) == 60);
	CHECK(hcache_lifetime(&c, 90, 100) == 0);
	CHECK(hcache_lifetime(&c, -1, 100) == 0);
	c.cc_max_age = 5;
	CHECK(hcache_lifetime(&c, 160, 100) == 5);
	c.cc_s_maxage = 7;
	CHECK(hcache_lifetime(&c, 160, 100) == 7);
	c.cc_flags |= HCC_CONFLICT;
	CHECK(hcache_lifetime(&c, 160, 100) == 0);
}

int
main(void)
{
	unit_init();
	test_cc();
	test_dates();
	test_lists();
	test_etags();
	test_age();
	return (unit_done("hcache_test"));
}
