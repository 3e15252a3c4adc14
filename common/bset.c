/* bset: a proxy's own backends: its command line's and its -f file's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bset.h"

/* Read the file and resolve it, appending to *v (n entries); -1: err. */
static int
file_read(const char *file, struct blist_entry **v, size_t *n, char *err,
    size_t errlen)
{
	struct blist_entry *fv = NULL, *nv;
	FILE		*fp;
	char		 why[300];
	size_t		 fn, k;

	if ((fp = fopen(file, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return (-1);
	}
	if (blist_read(fp, &fv, &fn, why, sizeof(why)) == -1) {
		fclose(fp);
		snprintf(err, errlen, "%s: %s", file, why);
		return (-1);
	}
	fclose(fp);
	for (k = 0; k < fn; k++)
		if (blist_resolve(&fv[k], why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: line %d: %s", file,
			    fv[k].ble_line, why);
			free(fv);
			return (-1);
		}
	if (fn == 0) {
		free(fv);
		return (0);
	}
	if ((nv = reallocarray(*v, *n + fn, sizeof(**v))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		free(fv);
		return (-1);
	}
	memcpy(nv + *n, fv, fn * sizeof(*fv));
	*v = nv;
	*n += fn;
	free(fv);
	return (0);
}

/* Remember the names the file gave, to remove them when they go. */
static int
file_names(struct bset *bs)
{
	char	**nv;
	size_t	 k;

	for (k = 0; k < bs->bs_nfnames; k++)
		free(bs->bs_fnames[k]);
	bs->bs_nfnames = 0;
	if (bs->bs_n == bs->bs_nargs)
		return (0);
	if ((nv = reallocarray(bs->bs_fnames, bs->bs_n - bs->bs_nargs,
	    sizeof(*nv))) == NULL)
		return (-1);
	bs->bs_fnames = nv;
	for (k = bs->bs_nargs; k < bs->bs_n; k++) {
		if ((nv[bs->bs_nfnames] = strdup(bs->bs_v[k].ble_name)) ==
		    NULL)
			return (-1);
		bs->bs_nfnames++;
	}
	return (0);
}

int
bset_init(struct bset *bs, char *const argv[], size_t argc,
    const char *file, char *err, size_t errlen)
{
	char	 why[300];
	size_t	 k, i;

	memset(bs, 0, sizeof(*bs));
	bs->bs_file = file;
	if (argc > 0 && (bs->bs_v = calloc(argc, sizeof(*bs->bs_v))) ==
	    NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (1);
	}
	for (k = 0; k < argc; k++) {
		if (blist_words(&argv[k], 1, &bs->bs_v[k], why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "bad backend '%s': %s", argv[k],
			    why);
			return (2);
		}
		for (i = 0; i < k; i++)
			if (strcmp(bs->bs_v[i].ble_name,
			    bs->bs_v[k].ble_name) == 0) {
				snprintf(err, errlen, "backend '%s' named "
				    "twice", argv[k]);
				return (2);
			}
	}
	for (k = 0; k < argc; k++)
		if (blist_resolve(&bs->bs_v[k], err, errlen) == -1)
			return (1);
	bs->bs_nargs = bs->bs_n = argc;
	if (file != NULL && file_read(file, &bs->bs_v, &bs->bs_n, err,
	    errlen) == -1)
		return (1);
	return (0);
}

size_t
bset_count(const struct bset *bs)
{
	return (bs->bs_n);
}

/* Bring v[0..n) into t, prev naming the file's the last time. */
static int
load(struct bset *bs, struct table *t, size_t n, int own, char **prev,
    size_t nprev, char *err, size_t errlen)
{
	size_t	 at;

	if (table_begin(t, err, errlen) == -1)
		return (-1);
	if (blist_load(t, bs->bs_v, n, own, prev, nprev, &at) == -1) {
		table_abort(t);
		snprintf(err, errlen, "table %s: full (%u slots): cannot add "
		    "'%s': %s", table_name(t), table_capacity(t),
		    bs->bs_v[at].ble_name, own ? "give -t TABLE, a table made "
		    "with lb-ctl create -n SLOTS" : "its slots are fixed when "
		    "it is made: make it again with lb-ctl create -n SLOTS");
		return (-1);
	}
	table_commit(t);
	return (0);
}

int
bset_load(struct bset *bs, struct table *t, int own, char *err,
    size_t errlen)
{
	if (load(bs, t, bs->bs_n, own, NULL, 0, err, errlen) == -1)
		return (-1);
	if (file_names(bs) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (-1);
	}
	return (0);
}

int
bset_reload(struct bset *bs, struct table *t, int own, char *err,
    size_t errlen)
{
	char	 why[200];
	size_t	 n = bs->bs_nargs;

	if (bs->bs_file == NULL) {
		snprintf(err, errlen, "no -f file to read");
		return (-1);
	}
	/* Read past the command line's: those stay as they are. */
	if (file_read(bs->bs_file, &bs->bs_v, &n, err, errlen) == -1)
		return (-1);
	if (blist_empty_check(n - bs->bs_nargs, bs->bs_nfnames == 0, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s: the table is left as it was "
		    "(lb-ctl empties it)", bs->bs_file, why);
		return (-1);
	}
	if (load(bs, t, n, own, bs->bs_fnames, bs->bs_nfnames, err,
	    errlen) == -1)
		return (-1);
	bs->bs_n = n;
	if (file_names(bs) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (-1);
	}
	return ((int)(n - bs->bs_nargs));
}

void
bset_free(struct bset *bs)
{
	size_t	 k;

	for (k = 0; k < bs->bs_nfnames; k++)
		free(bs->bs_fnames[k]);
	free(bs->bs_fnames);
	free(bs->bs_v);
	memset(bs, 0, sizeof(*bs));
}
