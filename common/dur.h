/* dur: durations as operators type them: 250ms, 1.5s, 2m, 1h. */
#ifndef LB_DUR_H
#define LB_DUR_H

#include <stddef.h>
#include <stdint.h>

#define DUR_MAX_MS	(30ULL * 24 * 3600 * 1000)	/* 30 days */

/*
 * Parse a duration: a number, whole or with a decimal point ("0.5",
 * "1.25s"), followed by ms, s, m or h; a bare number means seconds.
 * Stores milliseconds in *ms.  Returns 0, or -1 when s is not a
 * duration, is finer than a millisecond ("1.5ms", "0.0001s") or exceeds
 * 30 days.
 */
int	dur_parse(const char *s, uint64_t *ms);

/*
 * dur_parse(), and the value within [min, max] ms.  Returns 0, or -1
 * with what was expected, the range included, in why ("a duration from
 * 1ms to 30d, as 250ms, 1.5s or 2m"), for a message that names the
 * option and the value.
 */
int	dur_range(const char *s, uint64_t min, uint64_t max, uint64_t *ms,
	    char *why, size_t whylen);

/* ms as the shortest exact form of "250ms", "1.5s", "2m", "1h", "30d". */
char	*dur_fmt(char *buf, size_t len, uint64_t ms);

#endif
