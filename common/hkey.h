/* hkey: what the hash balancers hash: the client's address, or a request's header, cookie or path. */
#ifndef LB_HKEY_H
#define LB_HKEY_H

#include <stddef.h>

#include "addr.h"
#include "http1.h"

enum hkey_kind {
	HKEY_NONE,			/* not given: whoever holds it decides */
	HKEY_ADDR,			/* the client's address, no port */
	HKEY_HDR,			/* a header field's value */
	HKEY_COOKIE,			/* a cookie's value */
	HKEY_PATH			/* the path, without the query */
};

#define HKEY_NAME_MAX	64

struct hkey {
	int		 hk_kind;
	size_t		 hk_namelen;
	char		 hk_name[HKEY_NAME_MAX + 1];	/* hdr, cookie */
};

/*
 * Parse "addr", "path", "hdr=NAME" or "cookie=NAME" into k.  Returns 0,
 * or -1 with what would be right in err.
 */
int	hkey_parse(const char *s, struct hkey *k, char *err, size_t errlen);

/* The words of k, as hkey_parse() reads them, into buf. */
const char *hkey_str(const struct hkey *k, char *buf, size_t len);

/*
 * The bytes of a's IP address, no port (4 or 16 in *len), or NULL and
 * 0 for another family: the key of a connection, for lb-tcp and lb-http.
 */
const void *hkey_addr(const struct addr *a, size_t *len);

/*
 * The key of a request per k: the first field's value, the first
 * cookie's value or the path, pointing into the request's buffer.  When
 * the request has none (or it is empty), or k is HKEY_ADDR or
 * HKEY_NONE, the client's address instead.  Returns the key (NULL with
 * *len 0 for none) and sets *fell when the address stood in for a key
 * the request did not have.
 */
const void *hkey_req(const struct hkey *k, const struct http1_req *req,
	    const struct addr *client, size_t *len, int *fell);

#endif
