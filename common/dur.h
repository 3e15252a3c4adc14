/* dur: durations as operators type them: 250ms, 2s, 1m, 1h. */
#ifndef LB_DUR_H
#define LB_DUR_H

#include <stdint.h>

/*
 * Parse a duration: a whole number followed by ms, s, m or h; a bare
 * number means seconds.  Stores milliseconds in *ms.  Returns 0, or -1
 * when s is not a duration or exceeds 30 days.
 */
int	dur_parse(const char *s, uint64_t *ms);

#endif
