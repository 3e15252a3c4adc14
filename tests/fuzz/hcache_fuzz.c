/* hcache_fuzz: libFuzzer target for Cache-Control, HTTP dates, lists and entity-tags. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hcache.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
delta_ok(int64_t v)
{
	return (v >= -1 && v <= HCACHE_DELTA_MAX);
}

static void
cc(const char *buf, size_t len)
{
	struct hcache_cc c, d;
	size_t		 half = len / 2;

	hcache_cc_init(&c);
	if (hcache_cc_parse(buf, len, &c) == -1 &&
	    !(c.cc_flags & HCC_CONFLICT))
		abort();
	if (!delta_ok(c.cc_max_age) || !delta_ok(c.cc_s_maxage) ||
	    !delta_ok(c.cc_max_stale) || !delta_ok(c.cc_min_fresh) ||
	    !delta_ok(c.cc_swr) || !delta_ok(c.cc_sie))
		abort();
	if (hcache_lifetime(&c, -2, 0) < -1 ||
	    hcache_lifetime(&c, -2, 0) > HCACHE_DELTA_MAX)
		abort();
	/* Two field lines hold at least what one of them holds. */
	hcache_cc_init(&d);
	(void)hcache_cc_parse(buf, half, &d);
	(void)hcache_cc_parse(buf + half, len - half, &d);
	if (!delta_ok(d.cc_max_age) || !delta_ok(d.cc_sie))
		abort();
}

static void
date(const char *buf, size_t len)
{
	char	 out[HCACHE_DATE_LEN];
	int64_t	 t, u;

	if (hcache_date_parse(buf, len, 1780272000, &t) == -1)
		return;
	if (t < -62167219200LL || t > 253402300799LL)
		abort();
	if (t < 0)
		return;
	/* What it reads, written back, reads the same. */
	hcache_date_fmt(t, out);
	if (strlen(out) != 29 || hcache_date_parse(out, 29, 0, &u) == -1 ||
	    u != t)
		abort();
}

static void
lists(const char *buf, size_t len)
{
	const char	*p = buf, *end = buf + len, *el, *last = buf;
	size_t		 ellen;
	int		 r, n = 0;

	while ((r = hcache_list_next(&p, end, &el, &ellen)) == 1) {
		if (el < last || el + ellen > end || ellen == 0 || p < el ||
		    p > end || ++n > 100000)
			abort();
		last = el + ellen;
	}
	if (r != 0 && r != -1)
		abort();
}

static void
etags(const char *buf, size_t len)
{
	const char	*nl = memchr(buf, '\n', len);
	size_t		 a;
	int		 r;

	if (nl == NULL)
		return;
	a = (size_t)(nl - buf);
	r = hcache_etag_match(buf, a, nl + 1, len - a - 1);
	if (r < -1 || r > 1)
		abort();
	if (r >= 0 && !hcache_etag_valid(nl + 1, len - a - 1))
		abort();
	/* A valid tag matches itself. */
	if (hcache_etag_valid(buf, a) && hcache_etag_match(buf, a, buf, a) !=
	    1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char	*buf;
	int64_t		 v;

	if (len < 1)
		return (0);
	buf = (const char *)data + 1;
	len--;
	switch (data[0] % 4) {
	case 0:
		cc(buf, len);
		break;
	case 1:
		date(buf, len);
		break;
	case 2:
		lists(buf, len);
		break;
	default:
		etags(buf, len);
		break;
	}
	if (hcache_delta(buf, len, &v) == 0 && (v < 0 || v > HCACHE_DELTA_MAX))
		abort();
	return (0);
}
