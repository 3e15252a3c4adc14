/* proxyproto_fuzz: libFuzzer target for proxyproto_parse and _write. */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct proxyproto	 pp, pp2;
	char			 out[PROXYPROTO_WRITE_MAX];
	ssize_t			 w;
	size_t			 i;
	int			 r, v;

	r = proxyproto_parse((const char *)data, len, &pp);
	if (r != -1 && r != -2 && (r <= 0 || (size_t)r > len))
		abort();
	if (r <= 0)
		return (0);
	/* A valid header: every strict prefix of it asks for more. */
	for (i = 0; i < (size_t)r && i < 300; i++)
		if (proxyproto_parse((const char *)data, i, &pp2) != -2)
			abort();
	/* What it said can be written and read back the same. */
	for (v = 1; v <= 2; v++) {
		w = proxyproto_write(v, (struct sockaddr *)&pp.pp_src,
		    (struct sockaddr *)&pp.pp_dst, out, sizeof(out));
		if (w <= 0)
			abort();
		if (proxyproto_parse(out, (size_t)w, &pp2) != w)
			abort();
		if ((pp.pp_src.ss_family == AF_INET ||
		    pp.pp_src.ss_family == AF_INET6) &&
		    (memcmp(&pp.pp_src, &pp2.pp_src, sizeof(pp.pp_src)) != 0 ||
		    memcmp(&pp.pp_dst, &pp2.pp_dst, sizeof(pp.pp_dst)) != 0))
			abort();
	}
	return (0);
}
