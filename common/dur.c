/* dur: durations as operators type them: 250ms, 1.5s, 2m, 1h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dur.h"

int
dur_parse(const char *s, uint64_t *ms)
{
	uint64_t	 n = 0, frac = 0, scale = 1, mul;
	const char	*p = s;

	if ((*p < '0' || *p > '9') && !(*p == '.' && p[1] >= '0' &&
	    p[1] <= '9'))
		return (-1);
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > DUR_MAX_MS)
			return (-1);
	}
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return (-1);
		/* Up to 9 digits kept: more is finer than any unit's ms. */
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (scale >= 1000000000) {
				if (*p != '0')
					return (-1);
				continue;
			}
			frac = frac * 10 + (uint64_t)(*p - '0');
			scale *= 10;
		}
	}
	if (*p == '\0' || strcmp(p, "s") == 0)
		mul = 1000;
	else if (strcmp(p, "ms") == 0)
		mul = 1;
	else if (strcmp(p, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(p, "h") == 0)
		mul = 3600 * 1000;
	else
		return (-1);
	if (n * mul > DUR_MAX_MS)
		return (-1);
	/* The fraction must come to whole milliseconds. */
	if ((frac * mul) % scale != 0)
		return (-1);
	n = n * mul + frac * mul / scale;
	if (n > DUR_MAX_MS)
		return (-1);
	*ms = n;
	return (0);
}

char *
dur_fmt(char *buf, size_t len, uint64_t ms)
{
	static const struct {
		uint64_t	 u;
		const char	*name;
	} units[] = { { 24ULL * 3600 * 1000, "d" }, { 3600 * 1000, "h" },
	    { 60 * 1000, "m" }, { 1000, "s" } };
	size_t	 i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms < units[i].u)
			continue;
		if (ms % units[i].u == 0) {
			snprintf(buf, len, "%llu%s",
			    (unsigned long long)(ms / units[i].u), units[i].name);
			return (buf);
		}
		/* Seconds with a fraction read well: 1.5s, 0.25s. */
		if (units[i].u == 1000) {
			snprintf(buf, len, "%llu.%03llu", (unsigned long long)
			    (ms / 1000), (unsigned long long)(ms % 1000));
			/* no trailing zeros */
			for (size_t k = strlen(buf); buf[k - 1] == '0'; k--)
				buf[k - 1] = '\0';
			strlcat(buf, "s", len);
			return (buf);
		}
	}
	snprintf(buf, len, "%llums", (unsigned long long)ms);
	return (buf);
}

int
dur_range(const char *s, uint64_t min, uint64_t max, uint64_t *ms,
    char *why, size_t whylen)
{
	char		 a[32], b[32];
	uint64_t	 v;

	if (dur_parse(s, &v) == 0 && v >= min && v <= max) {
		*ms = v;
		return (0);
	}
	snprintf(why, whylen, "a duration from %s to %s, as 250ms, 1.5s or 2m",
	    dur_fmt(a, sizeof(a), min), dur_fmt(b, sizeof(b), max));
	return (-1);
}
