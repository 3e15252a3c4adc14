/* dur: durations as operators type them: 250ms, 2s, 1m, 1h. */
#include <stdint.h>
#include <string.h>

#include "dur.h"

#define DUR_MAX_MS	(30ULL * 24 * 3600 * 1000)

int
dur_parse(const char *s, uint64_t *ms)
{
	uint64_t	 n = 0, mul;
	const char	*p = s;

	if (*p < '0' || *p > '9')
		return (-1);
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > DUR_MAX_MS)
			return (-1);
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
	*ms = n * mul;
	return (0);
}
