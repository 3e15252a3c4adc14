/* http1_fuzz: libFuzzer target for the request, response and chunked parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t	 fed;

static void
count(void *arg, const char *p, size_t n)
{
	const char	*buf = arg;

	(void)p;
	fed += n;
	(void)buf;
}

static void
request(const char *buf, size_t len)
{
	struct http1_header hdr[16];
	struct http1_req req;
	size_t		 i, scanned = 0;
	int		 r, p, hl;

	req.rq_hdr = hdr;
	req.rq_nhdr = 16;
	r = http1_parse_request(buf, len, &req);
	if (r < -2 || r == 0 || (r > 0 && (size_t)r > len) ||
	    (r == -1 && req.rq_error == HTTP1_E_NONE))
		abort();
	if (r > 0) {
		/* Every pointer lies inside the head. */
		if (req.rq_target < buf || req.rq_target + req.rq_targetlen >
		    buf + r || req.rq_path < buf || req.rq_path +
		    req.rq_pathlen > buf + r)
			abort();
		for (i = 0; i < req.rq_nhdr; i++)
			if (hdr[i].hh_value < buf || hdr[i].hh_value +
			    hdr[i].hh_valuelen > buf + r || hdr[i].hh_line <
			    buf || hdr[i].hh_line + hdr[i].hh_linelen >
			    buf + r)
				abort();
		/* The end a valid head has is where head_len finds it. */
		if ((hl = http1_head_len(buf, len, &scanned)) != r)
			abort();
		/* A valid head: every strict prefix of it asks for more. */
		for (i = 0; i < (size_t)r && i < 2000; i++) {
			req.rq_nhdr = 16;
			if ((p = http1_parse_request(buf, i, &req)) != -2)
				abort();
		}
	}
}

static void
response(const char *buf, size_t len)
{
	struct http1_header hdr[16];
	struct http1_resp rs;
	int		 r;
	size_t		 i;

	rs.rs_hdr = hdr;
	rs.rs_nhdr = 16;
	r = http1_parse_response(buf, len, &rs);
	if (r < -2 || r == 0 || (r > 0 && (size_t)r > len) ||
	    (r == -1 && rs.rs_error == HTTP1_E_NONE))
		abort();
	if (r > 0) {
		if (rs.rs_status < 100 || rs.rs_status > 999)
			abort();
		for (i = 0; i < (size_t)r && i < 2000; i++) {
			rs.rs_nhdr = 16;
			if (http1_parse_response(buf, i, &rs) != -2)
				abort();
		}
	}
}

/* Fed whole, or a byte at a time: the same end, the same data. */
static void
chunked(const char *buf, size_t len)
{
	struct http1_chunk a, b;
	ssize_t		 r, q;
	size_t		 i, fa, off = 0;

	memset(&a, 0, sizeof(a));
	fed = 0;
	r = http1_chunk_feed(&a, buf, len, count, (void *)buf);
	fa = fed;
	if (r > (ssize_t)len || r < -1)
		abort();
	memset(&b, 0, sizeof(b));
	fed = 0;
	for (i = 0; i < len && !b.ck_done; i++) {
		if ((q = http1_chunk_feed(&b, buf + i, 1, count,
		    (void *)buf)) == -1)
			break;
		off += (size_t)q;
	}
	if (r == -1) {
		if (b.ck_done)
			abort();
		return;
	}
	if (a.ck_done != b.ck_done || (a.ck_done && (size_t)r != off) ||
	    fa != fed)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char	*buf;

	if (len < 1)
		return (0);
	buf = (const char *)data + 1;
	switch (data[0] % 3) {
	case 0:
		request(buf, len - 1);
		break;
	case 1:
		response(buf, len - 1);
		break;
	default:
		chunked(buf, len - 1);
		break;
	}
	return (0);
}
