/* cols: the fields of a program's rows: chosen with -o, written as TSV or JSON. */
#ifndef LB_COLS_H
#define LB_COLS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define COLS_MAX	64		/* fields one selection may hold */

/* How a field's value is written. */
enum cols_kind {
	COLS_TEXT,			/* escaped (esc_tsv), or a JSON string */
	COLS_NUM			/* as given, a JSON number */
};

/* A field that a program's rows have: its word, and its kind. */
struct cols_field {
	const char	*cf_name;
	int		 cf_kind;		/* enum cols_kind */
};

/* Which fields a program writes, in their order. */
struct cols {
	const struct cols_field *cs_f;		/* every field the rows have */
	size_t		 cs_nf;
	uint8_t		 cs_sel[COLS_MAX];	/* indices into cs_f */
	size_t		 cs_n;
	uint64_t	 cs_has;		/* bit i: field i is selected */
};

/*
 * One value of a row, indexed like the fields.  Text of cv_len bytes
 * (a COLS_NUM field's text must be a JSON number), or with cv_s NULL
 * the number cv_n, or missing ("-" in TSV, null in JSON) with cv_null.
 * Empty text is "-" in TSV and "" in JSON.  Only the selected fields'
 * values are read: the others need not be filled.
 */
struct cols_val {
	const char	*cv_s;
	size_t		 cv_len;
	uint64_t	 cv_n;
	int		 cv_null;
};

static inline void
cols_text(struct cols_val *v, const char *s, size_t len)
{
	v->cv_s = s;
	v->cv_len = len;
	v->cv_null = 0;
}

static inline void
cols_num(struct cols_val *v, uint64_t n)
{
	v->cv_s = NULL;
	v->cv_n = n;
	v->cv_null = 0;
}

static inline void
cols_null(struct cols_val *v)
{
	v->cv_s = NULL;
	v->cv_null = 1;
}

/*
 * Select the fields named in spec, a comma-separated list of names of
 * f[0..nf) (nf at most 64), in that order.  Returns 0, or -1 with the
 * reason in err: an empty list, a name given twice, or a name that is
 * not a field, named (escaped) with the list of valid ones.
 */
int	cols_parse(struct cols *c, const struct cols_field *f, size_t nf,
	    const char *spec, char *err, size_t errlen);

/* The index of the field name in f[0..nf), or -1. */
int	cols_find(const struct cols_field *f, size_t nf, const char *name);

/* Whether field i is selected: its value must be filled. */
static inline int
cols_has(const struct cols *c, size_t i)
{
	return (i < 64 && (c->cs_has >> i) & 1);
}

/* The names of f[0..nf), comma-separated, into buf; returns buf. */
char	*cols_names(const struct cols_field *f, size_t nf, char *buf,
	    size_t len);

/*
 * Write the TSV header line ("# " and the selected names, tab-separated,
 * newline) into buf of len bytes.  Returns its length, or -1 when it
 * does not fit.
 */
ssize_t	cols_header(const struct cols *c, char *buf, size_t len);

/*
 * Write one row, the selected values of v, into buf of len bytes: a TSV
 * line, or with json one JSON object and a newline.  No allocation; the
 * cost is that of copying the bytes.  Returns the length, or -1 when it
 * does not fit (nothing useful is left in buf then).
 */
ssize_t	cols_line(const struct cols *c, const struct cols_val *v, int json,
	    char *buf, size_t len);

/* cols_header() and cols_line() to a stdio stream; 0, or -1 (errno). */
int	cols_print_header(FILE *fp, const struct cols *c);
int	cols_print(FILE *fp, const struct cols *c, const struct cols_val *v,
	    int json);

#endif
