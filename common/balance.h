/* balance: pick a backend from a table: rr, lc, p2c, source, maglev. */
#ifndef LB_BALANCE_H
#define LB_BALANCE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "table.h"

enum balance_algo {
	BALANCE_RR,			/* smooth weighted round robin */
	BALANCE_LC,			/* weighted least connections */
	BALANCE_P2C,			/* random with two choices */
	BALANCE_SOURCE,			/* hash of the client's address */
	BALANCE_MAGLEV,			/* consistent hash (Maglev) */
	BALANCE_NALGOS
};

/* balance_pick() failures, in b_why after -1 */
#define BALANCE_NONE	1		/* no backend takes work */
#define BALANCE_FULL	2		/* some would, but all are at maxconn */

#define BALANCE_TRIED_MAX	16
#define BALANCE_MAGLEV_SIZE	65537	/* a prime, >> backends */

/* Backends already tried for one connection, by incarnation (be_uid). */
struct balance_tried {
	uint32_t	 bt_n;
	uint64_t	 bt_uid[BALANCE_TRIED_MAX];
};

/* What balance_pick() chose: the caller's copy, valid after rebuilds. */
struct balance_pick {
	uint32_t	 bp_cand;		/* the balancer's own index (a hint) */
	uint32_t	 bp_slot;
	uint64_t	 bp_uid;
	struct addr	 bp_addr;
	char		 bp_name[TABLE_NAME_MAX + 1];
	char		 bp_host[TABLE_ADDR_MAX];	/* of its address, as given */
};

struct balance;

/* Parse an algorithm name ("rr", "lc", ...); returns it or -1. */
int	balance_algo_parse(const char *s);
const char *balance_algo_str(int algo);

/*
 * A balancer over table t for one thread (it holds private state and no
 * lock).  slowstart_ms: a backend whose health turned up ramps from 5% to
 * its full weight over that time (0: none).  Returns NULL (errno set).
 * t stays the caller's and must outlive the balancer.
 */
struct balance *balance_new(struct table *t, int algo, uint64_t slowstart_ms);
void	balance_free(struct balance *b);

/* Work of ours waiting for a backend of b's table, up or down by delta. */
void	balance_queue(struct balance *b, int delta);

/*
 * Choose a backend for a connection whose client key (its address bytes,
 * for the hash algorithms; may be NULL with keylen 0) is given, skipping
 * those in tried (may be NULL).  Candidates are backends enabled by the
 * operator, with health up or unknown, a weight above zero and below
 * their maxconn; backup backends are taken only when no other candidate
 * is left.  On success the connection is counted in the table
 * (table_conn_begin()), the choice is copied to out and added to tried,
 * and 0 is returned; the caller ends it with balance_done().  Returns -1
 * with BALANCE_NONE or BALANCE_FULL from balance_why() otherwise.
 */
int	balance_pick(struct balance *b, const void *key, size_t keylen,
	    struct balance_tried *tried, struct balance_pick *out);
int	balance_why(const struct balance *b);

/*
 * The hash of a client's key (0 for none), and a pick by it: what
 * balance_pick() does in two steps, for a caller that keeps the hash.
 */
uint64_t balance_hash(const void *key, size_t keylen);
int	balance_pick_hash(struct balance *b, uint64_t hash,
	    struct balance_tried *tried, struct balance_pick *out);

/*
 * Passive health, local to this balancer: after fails connect failures
 * in a row, a backend is skipped for ms milliseconds (then tried again;
 * one more failure skips it again at once), as nginx's max_fails and
 * fail_timeout do.  The table's health is not touched: that is the
 * checker's.  When every candidate is being skipped they are all tried
 * anyway: a chance beats a certain failure.  fails 0 turns it off (the
 * default).
 */
void	balance_eject(struct balance *b, uint32_t fails, uint64_t ms);

/*
 * "FAILS/TIME" (as 3/10s: FAILS 1 to 1000, a TIME above 0) or "0" (off)
 * into fails and ms.  Returns 0, or -1 with what was expected in why.
 */
int	balance_eject_parse(const char *s, uint32_t *fails, uint64_t *ms,
	    char *why, size_t whylen);

/* The connection of p ended: take it off the table's live count. */
void	balance_done(struct balance *b, const struct balance_pick *p);

/*
 * A connect to p failed (counts c_fail and the run of them) or
 * succeeded (ends the run).
 */
void	balance_fail(struct balance *b, const struct balance_pick *p);
void	balance_ok(struct balance *b, const struct balance_pick *p);

#endif
