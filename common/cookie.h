/* cookie: the pairs of a Cookie field (RFC 6265 section 5.4), read in place. */
#ifndef LB_COOKIE_H
#define LB_COOKIE_H

#include <stddef.h>

#define COOKIE_NAME_MAX	64		/* the longest name cookie_name_ok() takes */

/* One pair: pointers into the field's value, no copies. */
struct cookie_pair {
	const char	*cp_name;
	size_t		 cp_namelen;
	const char	*cp_value;		/* without its DQUOTEs, if any */
	size_t		 cp_valuelen;
	size_t		 cp_start, cp_end;	/* the pair's bytes in the value */
};

/*
 * The next pair of a Cookie field's value v (len bytes) from *off (0
 * at first).  As browsers send them and servers read them: pairs are
 * split at ';', blanks around a pair and its '=' are skipped, a pair
 * without '=' is a value with an empty name, empty pairs are skipped.
 * Returns 1 with p filled and *off moved past it, 0 at the end.
 */
int	cookie_next(const char *v, size_t len, size_t *off,
	    struct cookie_pair *p);

/*
 * The value of the first pair named name (namelen bytes, case counts)
 * in v: 1 with *val, *vallen pointing into v, or 0 when there is none.
 */
int	cookie_get(const char *v, size_t len, const char *name, size_t namelen,
	    const char **val, size_t *vallen);

/* A stretch of v left by cookie_cut(): v[cr_start, cr_end). */
struct cookie_run {
	size_t		 cr_start, cr_end;
};

/*
 * The next stretch of v (len bytes) from *off (0 at first) that is left
 * once every pair named name is cut out: a maximal run of the other
 * pairs, as they came.  Joined with "; ", the stretches make the field
 * without those pairs.  Returns 1 with r filled and *off moved past it,
 * 0 when nothing is left; each pair cut on the way adds 1 to *cut.
 */
int	cookie_cut_next(const char *v, size_t len, const char *name,
	    size_t namelen, size_t *off, struct cookie_run *r, int *cut);

/*
 * The same, every stretch at once, in order, into runs[0..max).
 * Returns how many stretches (0: nothing is left), or -1 when more than
 * max are needed.  *cut says how many pairs were cut.
 */
int	cookie_cut(const char *v, size_t len, const char *name, size_t namelen,
	    struct cookie_run *runs, int max, int *cut);

/* Whether s is a cookie name (a token, RFC 9110), 1 to COOKIE_NAME_MAX bytes. */
int	cookie_name_ok(const char *s);

#endif
