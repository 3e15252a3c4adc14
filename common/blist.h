/* blist: backend lists, "ADDR [name=N] [weight=N] ...", one a line. */
#ifndef LB_BLIST_H
#define LB_BLIST_H

#include <stdint.h>
#include <stdio.h>

#include "table.h"

/* ble_set bits: which keys an entry gave */
#define BLIST_NAME	0x01
#define BLIST_WEIGHT	0x02
#define BLIST_MAXCONN	0x04
#define BLIST_STATE	0x08
#define BLIST_BACKUP	0x10
#define BLIST_ADDR	0x20

struct blist_entry {
	int		 ble_set;		/* BLIST_* */
	int		 ble_line;		/* in its list, 0: not from one */
	char		 ble_name[TABLE_NAME_MAX + 1];
	uint32_t	 ble_weight;
	uint32_t	 ble_maxconn;
	int		 ble_admin;		/* enum table_admin */
	int		 ble_backup;
	struct table_backend ble_be;		/* be_addr and resolved fields */
};

/* Check a backend name: 1 to 64 of A-Z a-z 0-9 _ . : / @ % + [ ] -. */
int	blist_name_check(const char *name, char *err, size_t errlen);

/*
 * Apply one "key=value" (name, weight, maxconn, state, backup, and addr
 * when allow_addr) to e.  Returns 0, or -1 with the reason in err.
 */
int	blist_kv(struct blist_entry *e, const char *kv, int allow_addr,
	    char *err, size_t errlen);

/*
 * Parse words[0..n) as "ADDR key=value..." into e (zeroed first):
 * syntax only, no lookup.  A missing name is the address.  Returns 0 or
 * -1 with the reason in err.
 */
int	blist_words(char *const *words, int n, struct blist_entry *e,
	    char *err, size_t errlen);

/*
 * Resolve e's address into e->ble_be (a host name is looked up now).
 * Returns 0, or -1 with the reason in err.
 */
int	blist_resolve(struct blist_entry *e, char *err, size_t errlen);

/*
 * Read a whole list from fp: blank lines and # comments skipped, names
 * unique.  Stores a malloc'd array in *v (caller frees) and its length
 * in *n.  Returns 0, or -1 with "line N: reason" in err.
 */
int	blist_read(FILE *fp, struct blist_entry **v, size_t *n, char *err,
	    size_t errlen);

/*
 * The rule for an empty list, one with no backend line (nothing at all,
 * or only blank lines and comments), for every program that makes a
 * table follow a list: such a list is refused unless the operator said
 * explicitly (allow) that it is meant, since an inventory that is down
 * or a file cut short empties a live table far more often than anyone
 * wants one empty.  n is the number of entries blist_read() gave.
 * Returns 0 when they may go on, -1 with "the list is empty" in err.
 */
int	blist_empty_check(size_t n, int allow, char *err, size_t errlen);

/*
 * Write the keys e gave (BLIST_*) into the table slot be, setting the
 * admin state's time when it changes.  BLIST_ADDR copies the resolved
 * address and makes health unknown again.
 */
void	blist_apply(struct table_backend *be, const struct blist_entry *e);

/*
 * Within a change begun with table_begin(), bring the backends v[0..n)
 * into t.  With sync the table holds exactly those afterwards, each key
 * a line omits at its default (what lb-ctl sync does).  Otherwise the
 * missing ones are added, those read from a list (ble_line > 0) updated,
 * and those given elsewhere left as the operator has them now; the
 * names in prev[0..nprev) (the list's backends the last time) that are
 * gone from v are removed.  Removals come first, so that their slots
 * may serve what is new.  Returns 0, or -1 when the table is full, with
 * the index of the backend that did not fit in *at (the change is left
 * open for the caller to abort).
 */
int	blist_load(struct table *t, struct blist_entry *v, size_t n, int sync,
	    char *const *prev, size_t nprev, size_t *at);

/* Print be as one list line (no newline) into buf; returns buf. */
char	*blist_fmt(const struct table_backend *be, char *buf, size_t len);

#endif
