/* cols: the fields of a program's rows: chosen with -o, written as TSV or JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cols.h"
#include "esc.h"

int
cols_find(const struct cols_field *f, size_t nf, const char *name)
{
	size_t	 i;

	for (i = 0; i < nf; i++)
		if (strcmp(f[i].cf_name, name) == 0)
			return ((int)i);
	return (-1);
}

char *
cols_names(const struct cols_field *f, size_t nf, char *buf, size_t len)
{
	size_t	 i, o = 0;
	int	 n;

	if (len == 0)
		return (buf);
	buf[0] = '\0';
	for (i = 0; i < nf && o < len; i++) {
		n = snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
		    f[i].cf_name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	return (buf);
}

int
cols_parse(struct cols *c, const struct cols_field *f, size_t nf,
    const char *spec, char *err, size_t errlen)
{
	char		 name[64], shown[64 * 4], all[1024];
	const char	*p = spec, *e;
	size_t		 n;
	int		 i;

	memset(c, 0, sizeof(*c));
	c->cs_f = f;
	c->cs_nf = nf;
	if (nf > 64) {
		snprintf(err, errlen, "more than 64 fields");
		return (-1);
	}
	if (*spec == '\0') {
		snprintf(err, errlen, "no field named: give some of %s",
		    cols_names(f, nf, all, sizeof(all)));
		return (-1);
	}
	for (;;) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, p, n);
		name[n] = '\0';
		if ((i = cols_find(f, nf, name)) == -1) {
			snprintf(err, errlen, "unknown field '%s': the fields "
			    "are %s", esc_msg(shown, sizeof(shown), name),
			    cols_names(f, nf, all, sizeof(all)));
			return (-1);
		}
		if (cols_has(c, (size_t)i)) {
			snprintf(err, errlen, "field '%s' named twice", name);
			return (-1);
		}
		c->cs_sel[c->cs_n++] = (uint8_t)i;
		c->cs_has |= 1ULL << i;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return (0);
}

ssize_t
cols_header(const struct cols *c, char *buf, size_t len)
{
	size_t	 k, o = 0, n;

	for (k = 0; k < c->cs_n; k++) {
		n = strlen(c->cs_f[c->cs_sel[k]].cf_name);
		if (o + n + 3 >= len)
			return (-1);
		memcpy(buf + o, k ? "\t" : "# ", k ? 1 : 2);
		o += k ? 1 : 2;
		memcpy(buf + o, c->cs_f[c->cs_sel[k]].cf_name, n);
		o += n;
	}
	if (o + 2 > len)
		return (-1);
	buf[o++] = '\n';
	buf[o] = '\0';
	return ((ssize_t)o);
}

/* n in decimal at buf + o; returns the new offset, or 0 when full. */
static size_t
put_u64(char *buf, size_t o, size_t len, uint64_t n)
{
	char	 d[20];
	int	 k = 0;

	do {
		d[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	if (o + (size_t)k >= len)
		return (0);
	while (k > 0)
		buf[o++] = d[--k];
	return (o);
}

static size_t
put(char *buf, size_t o, size_t len, const char *s, size_t n)
{
	if (o + n >= len)
		return (0);
	memcpy(buf + o, s, n);
	return (o + n);
}

ssize_t
cols_line(const struct cols *c, const struct cols_val *v, int json,
    char *buf, size_t len)
{
	const struct cols_field *f;
	const struct cols_val *x;
	size_t		 k, o = 0, n;
	int		 r;

	if (len < 4)
		return (-1);
	if (json)
		buf[o++] = '{';
	for (k = 0; k < c->cs_n; k++) {
		f = &c->cs_f[c->cs_sel[k]];
		x = &v[c->cs_sel[k]];
		if (k && (o = put(buf, o, len, json ? "," : "\t", 1)) == 0)
			return (-1);
		if (json) {
			n = strlen(f->cf_name);
			if ((o = put(buf, o, len, "\"", 1)) == 0 ||
			    (o = put(buf, o, len, f->cf_name, n)) == 0 ||
			    (o = put(buf, o, len, "\":", 2)) == 0)
				return (-1);
		}
		if (x->cv_s == NULL && x->cv_null)
			o = json ? put(buf, o, len, "null", 4) :
			    put(buf, o, len, "-", 1);
		else if (x->cv_s == NULL)
			o = put_u64(buf, o, len, x->cv_n);
		else if (f->cf_kind == COLS_NUM)
			o = x->cv_len == 0 ? (json ? put(buf, o, len, "null",
			    4) : put(buf, o, len, "-", 1)) : put(buf, o, len,
			    x->cv_s, x->cv_len);
		else if (!json && x->cv_len == 0)
			o = put(buf, o, len, "-", 1);
		else if (!json) {
			if ((r = esc_tsv(buf + o, len - o, x->cv_s,
			    x->cv_len)) < 0)
				return (-1);
			o += (size_t)r;
		} else {
			if ((o = put(buf, o, len, "\"", 1)) == 0 ||
			    (r = esc_json(buf + o, len - o, x->cv_s,
			    x->cv_len)) < 0)
				return (-1);
			o += (size_t)r;
			o = put(buf, o, len, "\"", 1);
		}
		if (o == 0)
			return (-1);
	}
	if (json && (o = put(buf, o, len, "}", 1)) == 0)
		return (-1);
	if ((o = put(buf, o, len, "\n", 1)) == 0)
		return (-1);
	buf[o] = '\0';
	return ((ssize_t)o);
}

int
cols_print_header(FILE *fp, const struct cols *c)
{
	char	 buf[COLS_MAX * 64 + 8];
	ssize_t	 n;

	if ((n = cols_header(c, buf, sizeof(buf))) < 0) {
		errno = ENOBUFS;
		return (-1);
	}
	return (fwrite(buf, 1, (size_t)n, fp) == (size_t)n ? 0 : -1);
}

int
cols_print(FILE *fp, const struct cols *c, const struct cols_val *v, int json)
{
	char	 sbuf[8192], *buf = sbuf, *nb;
	size_t	 len = sizeof(sbuf);
	ssize_t	 n;
	int	 ret = -1;

	/* Rarely: a row of long values, each escaped to four times its size. */
	while ((n = cols_line(c, v, json, buf, len)) < 0) {
		if (len >= (1U << 24)) {
			errno = ENOBUFS;
			goto done;
		}
		len *= 4;
		if ((nb = realloc(buf == sbuf ? NULL : buf, len)) == NULL)
			goto done;
		buf = nb;
	}
	ret = fwrite(buf, 1, (size_t)n, fp) == (size_t)n ? 0 : -1;
 done:
	if (buf != sbuf)
		free(buf);
	return (ret);
}
