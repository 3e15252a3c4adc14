/* live: -w on a terminal: a view redrawn in place, like top(1). */
#include "lb-stat.h"

int
live_run(const char *name, uint64_t interval, long long count)
{
	return (watch_lines(name, interval, count));
}
