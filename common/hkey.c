/* hkey: what the hash balancers hash: the client's address, or a request's header, cookie or path. */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "cookie.h"
#include "http1.h"
#include "hkey.h"

int
hkey_parse(const char *s, struct hkey *k, char *err, size_t errlen)
{
	const char	*n = NULL;
	size_t		 i;

	memset(k, 0, sizeof(*k));
	if (strcmp(s, "addr") == 0)
		k->hk_kind = HKEY_ADDR;
	else if (strcmp(s, "path") == 0)
		k->hk_kind = HKEY_PATH;
	else if (strncmp(s, "hdr=", 4) == 0) {
		k->hk_kind = HKEY_HDR;
		n = s + 4;
	} else if (strncmp(s, "cookie=", 7) == 0) {
		k->hk_kind = HKEY_COOKIE;
		n = s + 7;
	} else
		goto bad;
	if (n == NULL)
		return (0);
	k->hk_namelen = strlen(n);
	if (k->hk_namelen == 0 || k->hk_namelen > HKEY_NAME_MAX)
		goto bad;
	for (i = 0; i < k->hk_namelen; i++)
		if (!http1_tchar((unsigned char)n[i]))
			goto bad;
	memcpy(k->hk_name, n, k->hk_namelen + 1);
	return (0);
 bad:
	snprintf(err, errlen, "addr, path, hdr=NAME or cookie=NAME (a token "
	    "of %d bytes at most)", HKEY_NAME_MAX);
	memset(k, 0, sizeof(*k));
	return (-1);
}

const char *
hkey_str(const struct hkey *k, char *buf, size_t len)
{
	switch (k->hk_kind) {
	case HKEY_PATH:
		snprintf(buf, len, "path");
		break;
	case HKEY_HDR:
		snprintf(buf, len, "hdr=%s", k->hk_name);
		break;
	case HKEY_COOKIE:
		snprintf(buf, len, "cookie=%s", k->hk_name);
		break;
	default:
		snprintf(buf, len, "addr");
		break;
	}
	return (buf);
}

const void *
hkey_addr(const struct addr *a, size_t *len)
{
	const struct sockaddr *sa = (const struct sockaddr *)&a->a_ss;

	if (sa->sa_family == AF_INET) {
		*len = 4;
		return (&((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		*len = 16;
		return (&((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr);
	}
	*len = 0;
	return (NULL);
}

const void *
hkey_req(const struct hkey *k, const struct http1_req *req,
    const struct addr *client, size_t *len, int *fell)
{
	const struct http1_header *h;
	const char	*v, *q;
	size_t		 vl, i;
	int		 at;

	*fell = 0;
	switch (k->hk_kind) {
	case HKEY_HDR:
		if ((at = http1_find(req, k->hk_name, 0)) != -1 &&
		    req->rq_hdr[at].hh_valuelen > 0) {
			*len = req->rq_hdr[at].hh_valuelen;
			return (req->rq_hdr[at].hh_value);
		}
		break;
	case HKEY_COOKIE:
		for (i = 0; i < req->rq_nhdr; i++) {
			h = &req->rq_hdr[i];
			if (http1_is(h, "cookie") && cookie_get(h->hh_value,
			    h->hh_valuelen, k->hk_name, k->hk_namelen, &v,
			    &vl) && vl > 0) {
				*len = vl;
				return (v);
			}
		}
		break;
	case HKEY_PATH:
		if (req->rq_path != NULL && req->rq_pathlen > 0) {
			vl = req->rq_pathlen;
			if ((q = memchr(req->rq_path, '?', vl)) != NULL)
				vl = (size_t)(q - req->rq_path);
			if (vl > 0) {
				*len = vl;
				return (req->rq_path);
			}
		}
		break;
	default:
		return (hkey_addr(client, len));
	}
	*fell = 1;
	return (hkey_addr(client, len));
}
