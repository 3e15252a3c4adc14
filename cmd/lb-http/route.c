/* route: lb-http's rules (-r, -R), header edits (-e) and trusted proxies (-X). */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esc.h"
#include "lb-http.h"
#include "table.h"

#define RULE_LINE_MAX	1024

static int
host_char(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_');
}

/*
 * Where a rule's table begins: after the first '=' whose next word (up
 * to a ',' or the end) holds no '='.  A path may hold '=' ("/a=b=t" is
 * "/a=b" and "t"), and options may too ("/x=t,sni=name" is "/x" and
 * "t,sni=name"): neither the first nor the last '=' alone tells them
 * apart.
 */
static const char *
rule_eq(const char *spec)
{
	const char	*eq, *end;

	for (eq = strchr(spec, '='); eq != NULL; eq = strchr(eq + 1, '=')) {
		end = eq + 1 + strcspn(eq + 1, ",");
		if (memchr(eq + 1, '=', (size_t)(end - eq - 1)) == NULL)
			return (eq);
	}
	return (NULL);
}

/*
 * "HOST/PATH=TABLE[,strip]", "HOST=TABLE", "/PATH=TABLE": fills r, its
 * strings malloc'd.  The table is attached here (made if missing).
 */
int
rule_parse(const char *spec, struct rule *r, char *err, size_t errlen)
{
	char		 e[600], m[160];
	const char	*eq, *slash, *opt, *h;
	char		*tab = NULL, *o, *save = NULL, *p;
	size_t		 hl, pl, i;
	int		 k;

	memset(r, 0, sizeof(*r));
	esc_msg(m, sizeof(m), spec);
	if ((eq = rule_eq(spec)) == NULL || eq == spec) {
		snprintf(err, errlen, "bad rule '%s': HOST/PATH=TABLE", m);
		return (-1);
	}
	if ((slash = memchr(spec, '/', (size_t)(eq - spec))) == NULL)
		slash = eq;
	/* the host: "", a name, or "*." and a name */
	h = spec;
	hl = (size_t)(slash - spec);
	if (hl > 2 && h[0] == '*' && h[1] == '.') {
		r->ru_wild = 1;
		h += 1;			/* keep the dot: ".example.com" */
		hl -= 1;
	}
	for (i = r->ru_wild; i < hl; i++)
		if (!host_char(h[i])) {
			snprintf(err, errlen, "bad rule '%s': the host must be "
			    "a name, *.name or nothing (no port)", m);
			return (-1);
		}
	if (hl > 253) {
		snprintf(err, errlen, "bad rule '%s': the host is too long", m);
		return (-1);
	}
	/* the path: up to the '=', visible ASCII */
	pl = (size_t)(eq - slash);
	for (i = 0; i < pl; i++)
		if (slash[i] <= 0x20 || slash[i] >= 0x7f || slash[i] == '?' ||
		    slash[i] == '#') {
			snprintf(err, errlen, "bad rule '%s': a path holds no "
			    "blank, control, '?' or '#'", m);
			return (-1);
		}
	while (pl > 0 && slash[pl - 1] == '/')
		pl--;			/* "/api/" is "/api"; "/" is "" */
	if ((r->ru_text = strdup(spec)) == NULL ||
	    (r->ru_host = strndup(h, hl)) == NULL ||
	    (r->ru_path = strndup(slash, pl)) == NULL ||
	    (tab = strdup(eq + 1)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	/* The log shows the rule without its table: what it matched. */
	r->ru_text[eq - spec] = '\0';
	for (p = r->ru_host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	r->ru_hostlen = hl;
	r->ru_pathlen = pl;
	/* TABLE[,opt...] */
	if ((opt = strchr(tab, ',')) != NULL)
		tab[opt - tab] = '\0';
	/* No table: the rule answers itself (rewrite.c checks it does). */
	if (*tab != '\0' && table_name_check(tab, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "bad rule '%s': %s", m, e);
		goto fail;
	}
	for (o = opt != NULL ? strtok_r(tab + (opt - tab) + 1, ",", &save) :
	    NULL; o != NULL; o = strtok_r(NULL, ",", &save)) {
		if (strcmp(o, "strip") == 0)
			r->ru_strip = 1;
		else if (strcmp(o, "tls") == 0)
			r->ru_tls = 1;
		else if (strcmp(o, "noverify") == 0)
			r->ru_noverify = 1;
		else if (strcmp(o, "nocache") == 0)
			r->ru_nocache = 1;
		else if (strncmp(o, "sni=", 4) == 0 && o[4] != '\0' &&
		    strlen(o + 4) < 254 && strspn(o + 4, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == strlen(o + 4)) {
			free(r->ru_sni);
			if ((r->ru_sni = strdup(o + 4)) == NULL) {
				snprintf(err, errlen, "%s", strerror(errno));
				goto fail;
			}
		} else if (strncmp(o, "sni=", 4) == 0) {
			snprintf(err, errlen, "bad rule '%s': sni= takes a "
			    "host name (letters, digits, '.', '-')", m);
			goto fail;
		} else if ((k = ruleopt_parse(r, o, e, sizeof(e))) != 0) {
			if (k == -1) {
				snprintf(err, errlen, "bad rule '%s': %s", m, e);
				goto fail;
			}
		} else {
			snprintf(err, errlen, "bad rule '%s': unknown option "
			    "'%.40s' (strip, tls, noverify, nocache, sni=NAME, "
			    "prefix=, host=, redirect=, return=, file=, type=, "
			    "nosticky, hash-KEY)", m, o);
			goto fail;
		}
	}
	if (!r->ru_tls && (r->ru_noverify || r->ru_sni != NULL)) {
		snprintf(err, errlen, "bad rule '%s': noverify and sni= are "
		    "for HTTPS to the backends: add tls", m);
		goto fail;
	}
	if (ruleopt_check(r, *tab != '\0', e, sizeof(e)) == -1) {
		snprintf(err, errlen, "bad rule '%s': %s", m, e);
		goto fail;
	}
	r->ru_tab = RULE_NO_TABLE;
	if (*tab != '\0') {
		if ((k = tableset_add(cf.ts, tab, e, sizeof(e))) == -1) {
			snprintf(err, errlen, "rule '%s': %s", m, e);
			goto fail;
		}
		r->ru_tab = (size_t)k;
	}
	free(tab);
	return (0);
 fail:
	free(tab);
	free(r->ru_text);
	free(r->ru_host);
	free(r->ru_path);
	free(r->ru_sni);
	ruleopt_free(r->ru_opt);
	memset(r, 0, sizeof(*r));
	return (-1);
}

void
rules_free(struct rules *rs)
{
	size_t	 i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->rs_n; i++) {
		free(rs->rs_v[i].ru_text);
		free(rs->rs_v[i].ru_host);
		free(rs->rs_v[i].ru_path);
		free(rs->rs_v[i].ru_sni);
		ruleopt_free(rs->rs_v[i].ru_opt);
	}
	free(rs->rs_v);
	free(rs);
}

static int
rules_add(struct rules *rs, const char *spec, char *err, size_t errlen)
{
	struct rule	*nv;
	size_t		 i;

	if ((nv = reallocarray(rs->rs_v, rs->rs_n + 1, sizeof(*nv))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (-1);
	}
	rs->rs_v = nv;
	if (rule_parse(spec, &nv[rs->rs_n], err, errlen) == -1)
		return (-1);
	for (i = 0; i < rs->rs_n; i++)
		if (nv[i].ru_wild == nv[rs->rs_n].ru_wild &&
		    strcmp(nv[i].ru_host, nv[rs->rs_n].ru_host) == 0 &&
		    strcmp(nv[i].ru_path, nv[rs->rs_n].ru_path) == 0) {
			snprintf(err, errlen, "rule '%s' given twice",
			    nv[i].ru_text);
			rs->rs_n++;
			return (-1);
		}
	rs->rs_n++;
	return (0);
}

/*
 * The rules of the command line (extra) and of the file path (NULL:
 * none), one a line, '#' comments.  Returns a set, or NULL with err.
 */
struct rules *
rules_read(const char *path, char *const *extra, size_t nextra, char *err,
    size_t errlen)
{
	struct rules	*rs;
	FILE		*fp = NULL;
	char		*line = NULL, *p, *end, why[600];
	size_t		 cap = 0, i;
	ssize_t		 len;
	int		 lineno = 0;

	if ((rs = calloc(1, sizeof(*rs))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (NULL);
	}
	for (i = 0; i < nextra; i++)
		if (rules_add(rs, extra[i], err, errlen) == -1)
			goto fail;
	if (path == NULL)
		return (rs);
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (len > RULE_LINE_MAX || strlen(line) != (size_t)len) {
			snprintf(err, errlen, "%s: line %d: too long or holds "
			    "a NUL", path, lineno);
			goto fail;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		for (end = p + strlen(p); end > p && isspace((unsigned char)
		    end[-1]); end--)
			;
		*end = '\0';
		if (*p == '\0')
			continue;
		if (strpbrk(p, " \t") != NULL) {
			snprintf(err, errlen, "%s: line %d: one rule a line, "
			    "no blanks", path, lineno);
			goto fail;
		}
		if (rules_add(rs, p, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: line %d: %s", path, lineno,
			    why);
			goto fail;
		}
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(fp);
	free(line);
	return (rs);
 fail:
	if (fp != NULL)
		fclose(fp);
	free(line);
	rules_free(rs);
	return (NULL);
}

/* Does the request's host (lower case, no port) match r's? */
static int
host_match(const struct rule *r, const char *h, size_t hl)
{
	if (r->ru_hostlen == 0)
		return (1);
	if (!r->ru_wild)
		return (hl == r->ru_hostlen && memcmp(h, r->ru_host, hl) == 0);
	/* ".example.com": a name under it, not the name itself */
	return (hl > r->ru_hostlen && memcmp(h + hl - r->ru_hostlen,
	    r->ru_host, r->ru_hostlen) == 0);
}

/* A path prefix, on a segment boundary: /auth is /auth and /auth/x. */
static int
path_match(const struct rule *r, const char *p, size_t pl)
{
	if (r->ru_pathlen == 0)
		return (1);
	if (pl < r->ru_pathlen || memcmp(p, r->ru_path, r->ru_pathlen) != 0)
		return (0);
	return (pl == r->ru_pathlen || p[r->ru_pathlen] == '/');
}

/*
 * The most specific rule for host (as sent: case and port are dropped
 * here) and path (the query is not looked at): the longest host, an
 * exact one before a wildcard, then the longest path; NULL for none.
 */
const struct rule *
rules_match(const struct rules *rs, const char *host, size_t hostlen,
    const char *path, size_t pathlen)
{
	const struct rule *r, *best = NULL;
	char		 h[256];
	const char	*q;
	size_t		 i, hl = 0;

	if (rs == NULL)
		return (NULL);
	/* host: lower case, without a port; [v6] kept bracketed */
	if (host != NULL) {
		if (hostlen > 0 && host[0] == '[') {
			q = memchr(host, ']', hostlen);
			hl = q != NULL ? (size_t)(q - host) + 1 : hostlen;
		} else {
			q = memchr(host, ':', hostlen);
			hl = q != NULL ? (size_t)(q - host) : hostlen;
		}
		if (hl >= sizeof(h))
			hl = 0;
		for (i = 0; i < hl; i++)
			h[i] = (char)tolower((unsigned char)host[i]);
		/* a trailing dot names the same host */
		if (hl > 1 && h[hl - 1] == '.')
			hl--;
	}
	if ((q = memchr(path, '?', pathlen)) != NULL)
		pathlen = (size_t)(q - path);
	for (i = 0; i < rs->rs_n; i++) {
		r = &rs->rs_v[i];
		if (!host_match(r, h, hl) || !path_match(r, path, pathlen))
			continue;
		if (best == NULL || r->ru_hostlen > best->ru_hostlen ||
		    (r->ru_hostlen == best->ru_hostlen && best->ru_wild &&
		    !r->ru_wild) || (r->ru_hostlen == best->ru_hostlen &&
		    r->ru_wild == best->ru_wild &&
		    r->ru_pathlen > best->ru_pathlen))
			best = r;
	}
	return (best);
}

/* "req|resp set|add NAME: VALUE", "req|resp del NAME" */
int
edit_parse(const char *spec, struct edit *e, char *err, size_t errlen)
{
	const char	*p = spec, *n, *v;
	char		 m[160];
	size_t		 nl, vl;

	memset(e, 0, sizeof(*e));
	esc_msg(m, sizeof(m), spec);
	if (strncmp(p, "req ", 4) == 0)
		p += 4;
	else if (strncmp(p, "resp ", 5) == 0) {
		e->ed_resp = 1;
		p += 5;
	} else
		goto bad;
	if (strncmp(p, "set ", 4) == 0)
		e->ed_op = EDIT_SET;
	else if (strncmp(p, "add ", 4) == 0)
		e->ed_op = EDIT_ADD;
	else if (strncmp(p, "del ", 4) == 0)
		e->ed_op = EDIT_DEL;
	else
		goto bad;
	for (n = p += 4; http1_tchar((unsigned char)*p); p++)
		;
	nl = (size_t)(p - n);
	if (nl == 0 || nl > 64)
		goto bad;
	if (e->ed_op == EDIT_DEL) {
		if (*p != '\0')
			goto bad;
		v = p;
		vl = 0;
	} else {
		if (*p++ != ':')
			goto bad;
		while (*p == ' ')
			p++;
		for (v = p; *p; p++)
			if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
				goto bad;
		vl = (size_t)(p - v);
		if (vl > 1024)
			goto bad;
	}
	if ((e->ed_name = strndup(n, nl)) == NULL)
		goto nomem;
	e->ed_namelen = nl;
	if (e->ed_op != EDIT_DEL) {
		if (asprintf(&e->ed_line, "%.*s: %.*s\r\n", (int)nl, n,
		    (int)vl, v) == -1)
			goto nomem;
		e->ed_linelen = strlen(e->ed_line);
	}
	return (0);
 bad:
	snprintf(err, errlen, "bad edit '%s': req|resp set|add NAME: VALUE, "
	    "or req|resp del NAME", m);
	return (-1);
 nomem:
	free(e->ed_name);
	snprintf(err, errlen, "%s", strerror(errno));
	return (-1);
}

int
trust_parse(const char *spec, struct trust *t, char *err, size_t errlen)
{
	char		 a[INET6_ADDRSTRLEN + 8], m[160];
	const char	*slash, *e;
	int		 max;

	memset(t, 0, sizeof(*t));
	esc_msg(m, sizeof(m), spec);
	slash = strchr(spec, '/');
	if ((size_t)(slash ? slash - spec : (ptrdiff_t)strlen(spec)) >=
	    sizeof(a))
		goto bad;
	snprintf(a, sizeof(a), "%.*s", (int)(slash ? slash - spec :
	    (ptrdiff_t)strlen(spec)), spec);
	if (inet_pton(AF_INET, a, t->tr_addr) == 1) {
		t->tr_family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, a, t->tr_addr) == 1) {
		t->tr_family = AF_INET6;
		max = 128;
	} else
		goto bad;
	t->tr_bits = max;
	if (slash != NULL) {
		t->tr_bits = (int)strtonum(slash + 1, 0, max, &e);
		if (e != NULL)
			goto bad;
	}
	return (0);
 bad:
	snprintf(err, errlen, "bad trusted address '%s': ADDR or ADDR/BITS, "
	    "IPv4 or IPv6", m);
	return (-1);
}

/* Is a (a client, as it connected) one of the trusted proxies? */
int
trusted(const struct addr *a)
{
	const uint8_t	*b;
	const struct trust *t;
	size_t		 i;
	int		 fam = a->a_ss.ss_family, full, rest;

	if (fam == AF_INET)
		b = (const uint8_t *)&((const struct sockaddr_in *)
		    &a->a_ss)->sin_addr;
	else if (fam == AF_INET6)
		b = (const uint8_t *)&((const struct sockaddr_in6 *)
		    &a->a_ss)->sin6_addr;
	else
		return (0);
	for (i = 0; i < cf.ntrust; i++) {
		t = &cf.trust[i];
		if (t->tr_family != fam)
			continue;
		full = t->tr_bits / 8;
		rest = t->tr_bits % 8;
		if (memcmp(b, t->tr_addr, (size_t)full) != 0)
			continue;
		if (rest && ((b[full] ^ t->tr_addr[full]) &
		    (0xff << (8 - rest))) != 0)
			continue;
		return (1);
	}
	return (0);
}
