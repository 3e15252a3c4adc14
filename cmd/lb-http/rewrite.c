/* rewrite: a rule's options beyond its table: rewrites, redirects, answers of its own. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "esc.h"
#include "lb-http.h"

#define LOC_MAX		1024		/* a redirect's target, as given */
#define TEXT_MAX	1024		/* return=CODE:TEXT, decoded */

static struct ruleopt *
opt_of(struct rule *r)
{
	if (r->ru_opt == NULL && (r->ru_opt = calloc(1,
	    sizeof(*r->ru_opt))) == NULL)
		return (NULL);
	return (r->ru_opt);
}

static int
visible(const char *s)
{
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return (0);
	return (1);
}

/* Visible ASCII and the blank: a field's value that needs no escape. */
static int
printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s >= 0x7f)
			return (0);
	return (1);
}

static int
name_char(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_');
}

/*
 * "name", "name:port", "[v6]", "[v6]:port", or with empty_ok "" and
 * ":port": the host and port parts, -1 when it is none of those.
 */
static int
host_port(const char *s, int empty_ok, size_t *hostlen, const char **port)
{
	const char	*p = s, *e;
	const char	*errstr;

	if (*p == '[') {
		if ((e = strchr(p, ']')) == NULL || e == p + 1)
			return (-1);
		for (p++; p < e; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' &&
			    *p != '.')
				return (-1);
		p = e + 1;
	} else
		for (; *p && *p != ':'; p++)
			if (!name_char(*p))
				return (-1);
	*hostlen = (size_t)(p - s);
	if (*hostlen == 0 && !empty_ok)
		return (-1);
	if (*hostlen > 253)
		return (-1);
	*port = p;
	if (*p == '\0')
		return (0);
	if (*p != ':')
		return (-1);
	(void)strtonum(p + 1, 1, 65535, &errstr);
	if (errstr != NULL || p[1] == '+' || p[1] == '0')
		return (-1);
	return (0);
}

/* %XX decoded in place; -1 for a bad one. */
static int
pct_decode(char *s, size_t *len)
{
	char	*r = s, *w = s, h[3] = { 0, 0, 0 };

	while (*r) {
		if (*r != '%') {
			*w++ = *r++;
			continue;
		}
		if (!isxdigit((unsigned char)r[1]) ||
		    !isxdigit((unsigned char)r[2]))
			return (-1);
		h[0] = r[1];
		h[1] = r[2];
		*w++ = (char)strtol(h, NULL, 16);
		r += 3;
	}
	*len = (size_t)(w - s);
	return (0);
}

static struct l7body *
body_new(const void *p, size_t n)
{
	struct l7body	*b;

	if ((b = malloc(sizeof(*b) + n)) == NULL)
		return (NULL);
	atomic_init(&b->bd_ref, 1);
	b->bd_len = n;
	memcpy(b->bd_data, p, n);
	return (b);
}

static void
body_drop(struct l7body *b)
{
	if (b != NULL && atomic_fetch_sub(&b->bd_ref, 1) == 1)
		free(b);
}

/* "redirect=[CODE:]TARGET" */
static int
redirect_parse(struct ruleopt *o, const char *v, char *err, size_t errlen)
{
	const char	*t = v, *auth, *port;
	size_t		 sl, hl, al;
	char		 m[160], a[LOC_MAX + 1];

	esc_msg(m, sizeof(m), v);
	o->ro_status = 302;
	if (isdigit((unsigned char)t[0]) && isdigit((unsigned char)t[1]) &&
	    isdigit((unsigned char)t[2]) && t[3] == ':') {
		o->ro_status = atoi(t);
		t += 4;
		if (o->ro_status != 301 && o->ro_status != 302 &&
		    o->ro_status != 303 && o->ro_status != 307 &&
		    o->ro_status != 308) {
			snprintf(err, errlen, "bad redirect '%s': the status is "
			    "301, 302, 303, 307 or 308", m);
			return (-1);
		}
	}
	if (*t == '\0' || strlen(t) > LOC_MAX || !visible(t))
		goto bad;
	if (t[0] == '/') {
		o->ro_redirect = L7_RD_FIXED;
		if ((o->ro_loc = strdup(t)) == NULL)
			goto nomem;
		return (0);
	}
	if (strncmp(t, "http://", 7) == 0)
		sl = 4;
	else if (strncmp(t, "https://", 8) == 0)
		sl = 5;
	else
		goto bad;
	auth = t + sl + 3;
	al = strcspn(auth, "/?#");
	if (auth[al] != '\0') {
		/* A path: every request goes there. */
		memcpy(a, auth, al);
		a[al] = '\0';
		if (al == 0 || host_port(a, 0, &hl, &port) == -1)
			goto bad;
		o->ro_redirect = L7_RD_FIXED;
		if ((o->ro_loc = strdup(t)) == NULL)
			goto nomem;
		return (0);
	}
	/* Scheme and authority alone: the request's path goes along. */
	if (host_port(auth, 1, &hl, &port) == -1)
		goto bad;
	o->ro_redirect = L7_RD_KEEP;
	if ((o->ro_scheme = strndup(t, sl)) == NULL ||
	    (o->ro_rhost = strndup(auth, hl)) == NULL ||
	    (o->ro_rport = strdup(port)) == NULL)
		goto nomem;
	return (0);
 nomem:
	snprintf(err, errlen, "%s", strerror(errno));
	return (-1);
 bad:
	snprintf(err, errlen, "bad redirect '%s': [CODE:]URL: a path (/x), "
	    "a URL (https://host/x), or a scheme and host alone (https://, "
	    "https://host, https://:8443) to keep the request's path", m);
	return (-1);
}

/* "return=CODE[:TEXT]" */
static int
return_parse(struct ruleopt *o, const char *v, char *err, size_t errlen)
{
	const char	*errstr;
	char		 m[160], code[4], *text;
	size_t		 n;

	esc_msg(m, sizeof(m), v);
	if (strlen(v) < 3 || (v[3] != '\0' && v[3] != ':'))
		goto bad;
	memcpy(code, v, 3);
	code[3] = '\0';
	o->ro_status = (int)strtonum(code, 200, 599, &errstr);
	if (errstr != NULL || !isdigit((unsigned char)code[0]) ||
	    o->ro_status == 304)
		goto bad;
	if (v[3] == '\0')
		return (0);
	if ((text = strdup(v + 4)) == NULL)
		goto nomem;
	if (pct_decode(text, &n) == -1 || n > TEXT_MAX) {
		free(text);
		goto bad;
	}
	/* A line of text, as lb-http's own answers are. */
	text[n] = '\n';
	o->ro_body = body_new(text, n + 1);
	free(text);
	if (o->ro_body != NULL)
		return (0);
 nomem:
	snprintf(err, errlen, "%s", strerror(errno));
	return (-1);
 bad:
	snprintf(err, errlen, "bad return '%s': CODE[:TEXT], CODE 200 to 599 "
	    "but 304, TEXT with %%XX for a blank, a comma or a byte (%d at "
	    "most)", m, TEXT_MAX);
	return (-1);
}

int
ruleopt_parse(struct rule *r, const char *opt, char *err, size_t errlen)
{
	struct ruleopt	*o;
	const char	*port;
	char		 m[160], e[300];
	size_t		 hl;

	esc_msg(m, sizeof(m), opt);
	if (strcmp(opt, "nosticky") != 0 && strncmp(opt, "hash-", 5) != 0 &&
	    strncmp(opt, "prefix=", 7) != 0 && strncmp(opt, "host=", 5) != 0 &&
	    strncmp(opt, "redirect=", 9) != 0 &&
	    strncmp(opt, "return=", 7) != 0 && strncmp(opt, "file=", 5) != 0 &&
	    strncmp(opt, "type=", 5) != 0)
		return (0);
	if ((o = opt_of(r)) == NULL)
		goto nomem;
	if (strcmp(opt, "nosticky") == 0) {
		o->ro_nosticky = 1;
	} else if (strncmp(opt, "hash-", 5) == 0) {
		if (hkey_parse(opt + 5, &o->ro_hkey, e, sizeof(e)) == -1) {
			snprintf(err, errlen, "bad hash key '%s': hash-%s", m,
			    e);
			return (-1);
		}
		if (cf.algo != BALANCE_SOURCE && cf.algo != BALANCE_MAGLEV) {
			snprintf(err, errlen, "'%s': a hash key goes with -a "
			    "source or -a maglev", m);
			return (-1);
		}
	} else if (strncmp(opt, "prefix=", 7) == 0) {
		const char *p = opt + 7;

		if (p[0] != '/' || !visible(p) || strpbrk(p, "?#") != NULL ||
		    strlen(p) > L7_PREFIX_MAX) {
			snprintf(err, errlen, "bad prefix '%s': a path (/v2), "
			    "no '?' or '#', %d bytes at most", m,
			    L7_PREFIX_MAX);
			return (-1);
		}
		free(o->ro_prefix);
		if ((o->ro_prefix = strdup(p)) == NULL)
			goto nomem;
		/* "/v2/" is "/v2", "/" is "", as rules' paths are */
		o->ro_prefixlen = strlen(p);
		while (o->ro_prefixlen > 0 &&
		    o->ro_prefix[o->ro_prefixlen - 1] == '/')
			o->ro_prefix[--o->ro_prefixlen] = '\0';
	} else if (strncmp(opt, "host=", 5) == 0) {
		if (host_port(opt + 5, 0, &hl, &port) == -1 ||
		    strlen(opt + 5) > L7_HOST_MAX) {
			snprintf(err, errlen, "bad host '%s': a name or "
			    "address, with a port or not (api.internal:8080)",
			    m);
			return (-1);
		}
		free(o->ro_host);
		if ((o->ro_host = strdup(opt + 5)) == NULL)
			goto nomem;
		o->ro_hostlen = strlen(o->ro_host);
	} else if (strncmp(opt, "redirect=", 9) == 0) {
		if (o->ro_status != 0)
			goto twice;
		if (redirect_parse(o, opt + 9, err, errlen) == -1)
			return (-1);
	} else if (strncmp(opt, "return=", 7) == 0) {
		if (o->ro_status != 0)
			goto twice;
		if (return_parse(o, opt + 7, err, errlen) == -1)
			return (-1);
	} else if (strncmp(opt, "file=", 5) == 0) {
		if (opt[5] == '\0') {
			snprintf(err, errlen, "bad file '%s': a path", m);
			return (-1);
		}
		free(o->ro_file);
		if ((o->ro_file = strdup(opt + 5)) == NULL)
			goto nomem;
	} else if (strncmp(opt, "type=", 5) == 0) {
		/* Written into the head as it is: no control byte. */
		if (opt[5] == '\0' || strchr(opt + 5, '/') == NULL ||
		    strlen(opt + 5) > 100 || !printable(opt + 5)) {
			snprintf(err, errlen, "bad type '%s': a media type "
			    "(text/html;charset=utf-8)", m);
			return (-1);
		}
		free(o->ro_type);
		if ((o->ro_type = strdup(opt + 5)) == NULL)
			goto nomem;
	}
	return (1);
 twice:
	snprintf(err, errlen, "'%s': one redirect= or return= a rule", m);
	return (-1);
 nomem:
	snprintf(err, errlen, "%s", strerror(errno));
	return (-1);
}

/* The Content-Type of a file by its name, as a web server would say. */
static const char *
type_of(const char *path)
{
	static const struct {
		const char	*ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".htm", "text/html; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".xml", "application/xml" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".jpg", "image/jpeg" },
		{ ".gif", "image/gif" },
		{ ".ico", "image/x-icon" },
	};
	size_t	 i, n = strlen(path), k;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		k = strlen(types[i].ext);
		if (n > k && strcasecmp(path + n - k, types[i].ext) == 0)
			return (types[i].type);
	}
	return ("application/octet-stream");
}

/* The file= body, read now (and again with the rules, on HUP). */
static int
file_body(struct ruleopt *o, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL, m[160];
	ssize_t		 r;
	size_t		 n = 0;
	int		 fd, ret = -1;

	esc_msg(m, sizeof(m), o->ro_file);
	if ((fd = open(o->ro_file, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "file '%s': %s", m, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > L7_BODY_MAX) {
		snprintf(err, errlen, "file '%s': a regular file of %d bytes "
		    "at most", m, L7_BODY_MAX);
		goto done;
	}
	if ((buf = malloc(L7_BODY_MAX + 1)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto done;
	}
	while ((r = read(fd, buf + n, L7_BODY_MAX + 1 - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "file '%s': %s", m,
			    strerror(errno));
			goto done;
		}
		if ((n += (size_t)r) > L7_BODY_MAX) {
			snprintf(err, errlen, "file '%s': %d bytes at most", m,
			    L7_BODY_MAX);
			goto done;
		}
	}
	body_drop(o->ro_body);
	if ((o->ro_body = body_new(buf, n)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto done;
	}
	ret = 0;
 done:
	free(buf);
	close(fd);
	return (ret);
}

int
ruleopt_check(struct rule *r, int table, char *err, size_t errlen)
{
	struct ruleopt	*o = r->ru_opt;

	if (o == NULL || o->ro_status == 0) {
		if (!table) {
			snprintf(err, errlen, "a rule without a table answers "
			    "itself: give redirect= or return=");
			return (-1);
		}
		if (o != NULL && (o->ro_file != NULL || o->ro_type != NULL)) {
			snprintf(err, errlen, "file= and type= go with "
			    "return=");
			return (-1);
		}
	}
	if (o == NULL)
		return (0);
	if (o->ro_prefix != NULL && r->ru_strip) {
		snprintf(err, errlen, "strip and prefix= are one rewrite: "
		    "give one");
		return (-1);
	}
	if (!table && (o->ro_prefix != NULL || o->ro_host != NULL ||
	    o->ro_hkey.hk_kind != HKEY_NONE || o->ro_nosticky ||
	    r->ru_strip || r->ru_tls)) {
		snprintf(err, errlen, "without a table, there is nothing to "
		    "rewrite, balance or reach over TLS");
		return (-1);
	}
	if (o->ro_redirect != L7_RD_NONE && (o->ro_file != NULL ||
	    o->ro_type != NULL)) {
		snprintf(err, errlen, "file= and type= go with return=, not "
		    "redirect=");
		return (-1);
	}
	if (o->ro_status == 0 || o->ro_redirect != L7_RD_NONE)
		return (0);
	if (o->ro_file != NULL && o->ro_body != NULL) {
		snprintf(err, errlen, "the body is return=CODE:TEXT or file=, "
		    "not both");
		return (-1);
	}
	if (o->ro_file != NULL && file_body(o, err, errlen) == -1)
		return (-1);
	if (o->ro_status == 204 && o->ro_body != NULL) {
		snprintf(err, errlen, "a 204 has no body");
		return (-1);
	}
	if (o->ro_body == NULL && o->ro_status != 204) {
		char	 t[64];
		int	 n;

		n = snprintf(t, sizeof(t), "%s\n", http1_reason(o->ro_status)[0] ?
		    http1_reason(o->ro_status) : "status");
		if ((o->ro_body = body_new(t, (size_t)n)) == NULL)
			goto nomem;
	}
	if (o->ro_type == NULL && (o->ro_type = strdup(o->ro_file != NULL ?
	    type_of(o->ro_file) : "text/plain; charset=utf-8")) == NULL)
		goto nomem;
	return (0);
 nomem:
	snprintf(err, errlen, "%s", strerror(errno));
	return (-1);
}

void
ruleopt_free(struct ruleopt *o)
{
	if (o == NULL)
		return;
	free(o->ro_prefix);
	free(o->ro_host);
	free(o->ro_loc);
	free(o->ro_scheme);
	free(o->ro_rhost);
	free(o->ro_rport);
	free(o->ro_type);
	free(o->ro_file);
	body_drop(o->ro_body);
	free(o);
}

/* The request's host without its port, or our own address for none. */
static size_t
req_host(struct hconn *h, char *buf, size_t len)
{
	const struct http1_req *rq = &h->h_tx->tx_req;
	struct sockaddr_storage ss;
	socklen_t	 sl = sizeof(ss);
	const char	*q;
	char		 a[INET6_ADDRSTRLEN];
	size_t		 n;

	if (rq->rq_host != NULL && rq->rq_hostlen > 0) {
		if (rq->rq_host[0] == '[') {
			q = memchr(rq->rq_host, ']', rq->rq_hostlen);
			n = q != NULL ? (size_t)(q - rq->rq_host) + 1 :
			    rq->rq_hostlen;
		} else {
			q = memchr(rq->rq_host, ':', rq->rq_hostlen);
			n = q != NULL ? (size_t)(q - rq->rq_host) :
			    rq->rq_hostlen;
		}
		if (n < len) {
			memcpy(buf, rq->rq_host, n);
			buf[n] = '\0';
			return (n);
		}
	}
	/* HTTP/1.0 without a Host: the address it came to. */
	buf[0] = '\0';
	if (getsockname(h->h_io.io_fd, (struct sockaddr *)&ss, &sl) == -1)
		return (0);
	if (ss.ss_family == AF_INET && inet_ntop(AF_INET,
	    &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a)) != NULL)
		snprintf(buf, len, "%s", a);
	else if (ss.ss_family == AF_INET6 && inet_ntop(AF_INET6,
	    &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof(a)) != NULL)
		snprintf(buf, len, "[%s]", a);
	return (strlen(buf));
}

/*
 * Would a redirect that keeps the path send the client where it is?
 * Its scheme, and its host when it names one, are the request's own.
 */
static int
redirect_self(struct hconn *h, const struct ruleopt *o, const char *host)
{
	if ((strcmp(o->ro_scheme, "https") == 0) != (h->h_tls != 0))
		return (0);
	return (o->ro_rhost[0] == '\0' || strcasecmp(o->ro_rhost, host) == 0);
}


/*
 * A rule that answers itself: a redirect or a fixed response, built in
 * tx_l7b.lb_head and written as lb-http's errors are, on a connection
 * that stays open when the request's body (if any) is all in hand.
 * Returns 1 when answered, 0 to go on with the rule, 2 to go on as if
 * no rule had matched (a redirect to where the request is, on a rule
 * with no table).
 */
int
l7_answer(struct hconn *h, const struct rule *ru)
{
	struct htx	*tx = h->h_tx;
	struct http1_req *rq = &tx->tx_req;
	struct iovb	*b = &tx->tx_dn.fl_out;
	const struct ruleopt *o;
	struct l7body	*body;
	char		*head = tx->tx_l7b.lb_head, host[300];
	const char	*path;
	size_t		 hl = sizeof(tx->tx_l7b.lb_head), n = 0, mark = 0, pl;
	size_t		 inbuf, edit;
	int		 close;

	if (ru == NULL || (o = ru->ru_opt) == NULL || o->ro_status == 0)
		return (0);
	req_host(h, host, sizeof(host));
	if (o->ro_redirect == L7_RD_KEEP && redirect_self(h, o, host))
		return (ru->ru_tab == RULE_NO_TABLE ? 2 : 0);
	/* The request's body: skipped when it is all here, else we close. */
	inbuf = h->h_inlen - h->h_off - tx->tx_headlen;
	close = tx->tx_close || worker_stopping(h->h_w->w_worker);
	if (tx->tx_up.fl_mode == FL_CLEN && inbuf >= tx->tx_up.fl_left) {
		tx->tx_bodyin = tx->tx_up.fl_left;
		h->h_off += tx->tx_headlen + (size_t)tx->tx_up.fl_left;
		tx->tx_up.fl_left = 0;
		tx->tx_up.fl_done = 1;
	} else if (tx->tx_up.fl_mode != FL_NONE && !tx->tx_up.fl_done) {
		close = 1;
		h->h_off = h->h_inlen;
	} else
		h->h_off += tx->tx_headlen;
	tx->tx_up.fl_mode = FL_NONE;
	tx->tx_up.fl_done = 1;
	tx->tx_close = close;
	snprintf(tx->tx_route, sizeof(tx->tx_route), "%s", ru->ru_text);
	body = o->ro_redirect == L7_RD_NONE ? o->ro_body : NULL;
	iovb_init(b, tx->tx_dn.fl_iov, LH_IOV_MAX);
	if (lh_addf(head, hl, &n, "HTTP/1.1 %d %s\r\n", o->ro_status,
	    http1_reason(o->ro_status)) == -1)
		goto fail;
	if (o->ro_redirect == L7_RD_FIXED &&
	    lh_addf(head, hl, &n, "Location: %s\r\n", o->ro_loc) == -1)
		goto fail;
	if (o->ro_redirect == L7_RD_KEEP) {
		if (lh_addf(head, hl, &n, "Location: %s://%s%s", o->ro_scheme,
		    o->ro_rhost[0] ? o->ro_rhost : host, o->ro_rport) == -1)
			goto fail;
		/* the path and query as they came: not copied */
		path = rq->rq_path;
		pl = rq->rq_pathlen;
		iovb_add(b, head, n);
		/* "http://host?q" (absolute-form): "/?q"; "*": "/" */
		if (path == NULL || pl == 0 || path[0] != '/')
			iovb_add(b, "/", 1);
		if (path != NULL && pl > 0 && (path[0] == '/' ||
		    path[0] == '?'))
			iovb_add(b, path, pl);
		mark = n;
		if (lh_addf(head, hl, &n, "\r\n") == -1)
			goto fail;
	}
	if (body != NULL && lh_addf(head, hl, &n, "Content-Type: %s\r\n",
	    o->ro_type) == -1)
		goto fail;
	if (o->ro_status != 204 && lh_addf(head, hl, &n, "Content-Length: %zu"
	    "\r\n", body != NULL ? body->bd_len : 0) == -1)
		goto fail;
	if ((close && lh_addf(head, hl, &n, "Connection: close\r\n") == -1) ||
	    (!close && !tx->tx_client11 && lh_addf(head, hl, &n,
	    "Connection: keep-alive\r\n") == -1))
		goto fail;
	/* The edits of responses: HSTS, say, goes on a redirect too. */
	edit = n;
	if (add_edits(1, head, hl - 2, &n) == -1)
		n = edit;
	if (lh_addf(head, hl, &n, "\r\n") == -1)
		goto fail;
	iovb_add(b, head + mark, n - mark);
	if (body != NULL && !tx->tx_head && body->bd_len > 0) {
		atomic_fetch_add(&body->bd_ref, 1);
		tx->tx_l7.lt_body = body;
		iovb_add(b, body->bd_data, body->bd_len);
	}
	tx_answered(h, o->ro_status);
	return (1);
 fail:
	/* Only a target and host at their limits get here. */
	iovb_init(b, tx->tx_dn.fl_iov, LH_IOV_MAX);
	n = (size_t)snprintf(head, hl, "HTTP/1.1 500 Internal Server Error\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	iovb_add(b, head, n);
	tx->tx_close = 1;
	tx_answered(h, 500);
	return (1);
}

/* The rule's rewrites, copied for the exchange (the rules may change). */
void
rewrite_begin(struct hconn *h, const struct rule *ru)
{
	struct htx	*tx = h->h_tx;
	const struct ruleopt *o;

	if (ru == NULL || (o = ru->ru_opt) == NULL)
		return;
	if (o->ro_prefix != NULL) {
		tx->tx_strip = ru->ru_pathlen;
		memcpy(tx->tx_l7b.lb_prefix, o->ro_prefix, o->ro_prefixlen);
		tx->tx_l7.lt_prefixlen = o->ro_prefixlen;
	}
	if (o->ro_host != NULL) {
		memcpy(tx->tx_l7b.lb_host, o->ro_host, o->ro_hostlen);
		tx->tx_l7.lt_hostlen = o->ro_hostlen;
	}
}

/* The exchange is over: what it held of a rule goes. */
void
l7_finish(struct hconn *h)
{
	struct l7tx	*lt = &h->h_tx->tx_l7;

	body_drop(lt->lt_body);
	lt->lt_body = NULL;
}
