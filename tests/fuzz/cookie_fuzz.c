/* cookie_fuzz: libFuzzer target for the Cookie field's pairs and their cut. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define RUNS	16

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct cookie_pair p;
	struct cookie_run r[RUNS];
	const char	*v = (const char *)data, *name, *val;
	char		*joined;
	size_t		 off = 0, last = 0, namelen, vl, o = 0;
	int		 n, cut, i, pairs = 0, named = 0, cut2;

	/* The first byte says how long the name cut out is. */
	if (len < 1)
		return (0);
	namelen = data[0] % 8;
	if (namelen + 1 > len)
		return (0);
	name = v + 1;
	v += 1 + namelen;
	len -= 1 + namelen;
	while (cookie_next(v, len, &off, &p)) {
		/* Every pair lies inside, in order, and the scan moves on. */
		if (p.cp_start < last || p.cp_start >= p.cp_end ||
		    p.cp_end > len || off > len || off < p.cp_end ||
		    p.cp_name < v + p.cp_start || p.cp_value < v ||
		    p.cp_value + p.cp_valuelen > v + p.cp_end ||
		    p.cp_name + p.cp_namelen > v + p.cp_end)
			abort();
		last = p.cp_end;
		pairs++;
		if (namelen > 0 && p.cp_namelen == namelen &&
		    memcmp(p.cp_name, name, namelen) == 0)
			named++;
	}
	if (off != len)
		abort();
	if (namelen > 0 && named > 0 && !cookie_get(v, len, name, namelen,
	    &val, &vl))
		abort();
	n = cookie_cut(v, len, name, namelen, r, RUNS, &cut);
	if (n == -1)
		return (0);
	if (n < 0 || n > RUNS || cut != (namelen > 0 ? named : 0))
		abort();
	/* What is left, joined, holds the other pairs and none of name. */
	if ((joined = malloc(len + 2 * RUNS + 1)) == NULL)
		return (0);
	for (i = 0; i < n; i++) {
		if (r[i].cr_start >= r[i].cr_end || r[i].cr_end > len ||
		    (i > 0 && r[i].cr_start < r[i - 1].cr_end))
			abort();
		if (i > 0) {
			memcpy(joined + o, "; ", 2);
			o += 2;
		}
		memcpy(joined + o, v + r[i].cr_start, r[i].cr_end -
		    r[i].cr_start);
		o += r[i].cr_end - r[i].cr_start;
	}
	if (namelen > 0 && cookie_get(joined, o, name, namelen, &val, &vl))
		abort();
	off = 0;
	i = 0;
	while (cookie_next(joined, o, &off, &p))
		i++;
	if (i != pairs - cut)
		abort();
	n = cookie_cut(joined, o, name, namelen, r, RUNS, &cut2);
	if (cut2 != 0 || n > 1)
		abort();
	free(joined);
	return (0);
}
