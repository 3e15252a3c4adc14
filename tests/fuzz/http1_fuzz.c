/* http1_fuzz: libFuzzer target for http1_parse_request. */
#include <stdint.h>
#include <stdlib.h>

#include "http1.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct http1_header hdr[16];
	struct http1_req req;
	const char	*buf = (const char *)data;
	size_t		 i;
	int		 r, p;

	req.rq_hdr = hdr;
	req.rq_nhdr = 16;
	r = http1_parse_request(buf, len, &req);
	if (r < -2 || r == 0 || (r > 0 && (size_t)r > len) ||
	    (r == -1 && req.rq_error == HTTP1_E_NONE))
		abort();
	if (r > 0) {
		/* Every pointer lies inside the head. */
		if (req.rq_target < buf || req.rq_target + req.rq_targetlen >
		    buf + r)
			abort();
		for (i = 0; i < req.rq_nhdr; i++)
			if (hdr[i].hh_value < buf || hdr[i].hh_value +
			    hdr[i].hh_valuelen > buf + r)
				abort();
		/* A valid head: every strict prefix of it asks for more. */
		for (i = 0; i < (size_t)r && i < 2000; i++) {
			req.rq_nhdr = 16;
			if ((p = http1_parse_request(buf, i, &req)) != -2)
				abort();
		}
	}
	return (0);
}
