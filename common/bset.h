/* bset: a proxy's own backends: its command line's and its -f file's. */
#ifndef LB_BSET_H
#define LB_BSET_H

#include <stddef.h>

#include "blist.h"
#include "table.h"

/*
 * The backends a proxy (lb-tcp, lb-http) is given for its default table:
 * those named on its command line, then those of its -f file, a backend
 * list (lb-table(5)).  They are loaded into the table once the table is
 * attached; on SIGHUP the file is read again and the table brought to
 * it: the file's backends that left it are removed, those of the
 * command line and those an operator added with lb-ctl stay.  A file
 * that cannot be read, holds an error or has become empty (see
 * blist_empty_check()) leaves the table as it was.
 *
 * The messages put in err are plain text: the caller escapes them.
 */
struct bset {
	struct blist_entry *bs_v;		/* the command line's, the file's */
	size_t		 bs_nargs, bs_n;
	const char	*bs_file;		/* NULL: none */
	char		**bs_fnames;		/* the file's names, last load */
	size_t		 bs_nfnames;
};

/*
 * Parse and resolve the backends argv[0..argc), then read file (NULL:
 * none).  Returns 0; 2 for bad usage (a backend that does not parse, a
 * name given twice); 1 when a name does not resolve or the file cannot
 * be read or holds an error.  The message is in err.
 */
int	bset_init(struct bset *bs, char *const argv[], size_t argc,
	    const char *file, char *err, size_t errlen);

/* How many backends the command line and the file gave. */
size_t	bset_count(const struct bset *bs);

/*
 * Bring the backends into t (an own table: exactly these, synced; else
 * added or updated).  Returns 0, or -1 with err (the table is full: the
 * message says how to make a larger one).
 */
int	bset_load(struct bset *bs, struct table *t, int own, char *err,
	    size_t errlen);

/*
 * SIGHUP: read the file again and bring t to it, as above.  Returns the
 * number of backends the file now gives, or -1 with err and the table as
 * it was; with no file, -1 and err says so.
 */
int	bset_reload(struct bset *bs, struct table *t, int own, char *err,
	    size_t errlen);

void	bset_free(struct bset *bs);

#endif
