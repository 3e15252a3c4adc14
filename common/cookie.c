/* cookie: the pairs of a Cookie field (RFC 6265 section 5.4), read in place. */
#include <string.h>

#include "cookie.h"

static int
blank(char c)
{
	return (c == ' ' || c == '\t');
}

int
cookie_next(const char *v, size_t len, size_t *off, struct cookie_pair *p)
{
	size_t		 i = *off, s, e, eq;

	for (;;) {
		while (i < len && (blank(v[i]) || v[i] == ';'))
			i++;
		if (i >= len) {
			*off = len;
			return (0);
		}
		s = i;
		while (i < len && v[i] != ';')
			i++;
		e = i;
		while (e > s && blank(v[e - 1]))
			e--;
		if (e > s)
			break;
	}
	p->cp_start = s;
	p->cp_end = e;
	for (eq = s; eq < e && v[eq] != '='; eq++)
		;
	if (eq == e) {
		/* No '=': a value alone, as RFC 6265 section 5.2 reads it. */
		p->cp_name = v + s;
		p->cp_namelen = 0;
		p->cp_value = v + s;
		p->cp_valuelen = e - s;
	} else {
		size_t	 ne = eq, vs = eq + 1;

		while (ne > s && blank(v[ne - 1]))
			ne--;
		while (vs < e && blank(v[vs]))
			vs++;
		p->cp_name = v + s;
		p->cp_namelen = ne - s;
		p->cp_value = v + vs;
		p->cp_valuelen = e - vs;
	}
	if (p->cp_valuelen >= 2 && p->cp_value[0] == '"' &&
	    p->cp_value[p->cp_valuelen - 1] == '"') {
		p->cp_value++;
		p->cp_valuelen -= 2;
	}
	*off = i;
	return (1);
}

static int
named(const struct cookie_pair *p, const char *name, size_t namelen)
{
	return (p->cp_namelen == namelen && namelen > 0 &&
	    memcmp(p->cp_name, name, namelen) == 0);
}

int
cookie_get(const char *v, size_t len, const char *name, size_t namelen,
    const char **val, size_t *vallen)
{
	struct cookie_pair p;
	size_t		 off = 0;

	while (cookie_next(v, len, &off, &p))
		if (named(&p, name, namelen)) {
			*val = p.cp_value;
			*vallen = p.cp_valuelen;
			return (1);
		}
	return (0);
}

int
cookie_cut_next(const char *v, size_t len, const char *name, size_t namelen,
    size_t *off, struct cookie_run *r, int *cut)
{
	struct cookie_pair p;
	int		 open = 0;

	while (cookie_next(v, len, off, &p)) {
		if (named(&p, name, namelen)) {
			(*cut)++;
			if (open)
				return (1);
			continue;
		}
		if (!open) {
			r->cr_start = p.cp_start;
			open = 1;
		}
		r->cr_end = p.cp_end;
	}
	return (open);
}

int
cookie_cut(const char *v, size_t len, const char *name, size_t namelen,
    struct cookie_run *runs, int max, int *cut)
{
	struct cookie_run r;
	size_t		 off = 0;
	int		 n = 0;

	*cut = 0;
	while (cookie_cut_next(v, len, name, namelen, &off, &r, cut)) {
		if (n == max)
			return (-1);
		runs[n++] = r;
	}
	return (n);
}

int
cookie_name_ok(const char *s)
{
	size_t	 n = strlen(s), i;

	if (n == 0 || n > COOKIE_NAME_MAX)
		return (0);
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    strchr("!#$%&'*+-.^_`|~", s[i]) != NULL))
			return (0);
	return (1);
}
