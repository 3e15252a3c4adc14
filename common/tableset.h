/* tableset: the tables a proxy balances over, followed while it runs. */
#ifndef LB_TABLESET_H
#define LB_TABLESET_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "table.h"

/*
 * A proxy attaches to its tables through a tableset: the default table
 * (-t, or one of its own) and those of its routes, each opened once and
 * registered, so that its live connections are counted as its own.
 *
 * Its own table (no -t) is named after the listener and made
 * exclusively: a name that is taken by a table with live processes is
 * never attached to; the next of NAME.2 ... NAME.9 is made instead (a
 * second instance on the same port, during a restart).  A table of our
 * own left behind by a process that died is removed and made afresh.
 * The own table is removed when the proxy exits, also by errx(3) after
 * set-up, unless another process still uses it.
 *
 * Once a second (tableset_tick(), from the main thread) dead processes'
 * connections are taken off the counts and each table's name is looked
 * up again: a table that was destroyed and made again under its name is
 * attached anew, its version bumped, and workers move their balancers to
 * it (tableset_table()); the old handle stays mapped while a worker
 * still holds it (tableset_hold() / tableset_drop()).  A table destroyed
 * and not made again is balanced over as it was last seen.
 */
struct tableset;

/*
 * A set whose tables are made with mode, and accepted up to mode when
 * attaching (see table_open(); 0: 0600).  NULL on no memory.
 */
struct tableset	*tableset_new(mode_t mode);

/*
 * Attach to name (made when missing).  Returns its index, or -1 and
 * err.  The main thread may add tables while workers run (a rule file
 * read again): a worker sees them once tableset_count() counts them.
 * At most 256.
 */
int	tableset_add(struct tableset *ts, const char *name, char *err,
	    size_t errlen);

/*
 * Make the proxy's own table for the listener spec (as given) bound at
 * bound: PREFIX-HOST-PORT ("tcp-127.0.0.1-8080"), PREFIX-PORT for
 * ":PORT", PREFIX-unix-PATH for a unix socket, with every byte that a
 * table name may not hold made '_' ("tcp-__1-8080" for [::1]:8080).
 * Returns its index, or -1 and err.
 */
int	tableset_own(struct tableset *ts, const char *prefix,
	    const char *spec, const struct addr *bound, char *err,
	    size_t errlen);

/* How many tables, a table's name (as given), its current handle. */
size_t	 tableset_count(const struct tableset *ts);
const char *tableset_name(const struct tableset *ts, size_t i);
struct table *tableset_table(struct tableset *ts, size_t i);
int	 tableset_is_own(const struct tableset *ts, size_t i);

/*
 * Bumped each time a handle changes: a worker that keeps the last value
 * it saw knows, with one atomic load, when to look again.
 */
uint64_t tableset_version(const struct tableset *ts);

/* A worker takes or lets go of a handle it balances over. */
void	tableset_hold(struct tableset *ts, struct table *t);
void	tableset_drop(struct tableset *ts, struct table *t);

/* The main thread, once a second: reclaim, follow, free old handles. */
void	tableset_tick(struct tableset *ts);

/*
 * Detach from every table; an own table that no other live process
 * uses is removed.  Workers must be done.
 */
void	tableset_free(struct tableset *ts);

#endif
