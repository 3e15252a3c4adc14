/* http: -l: the Prometheus metrics over HTTP at /metrics. */
#include "lb-stat.h"

int
http_serve(const char *name, const char *listen, int print_addr)
{
	(void)name; (void)listen; (void)print_addr;
	return (1);
}
