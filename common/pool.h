/* pool: a worker's idle backend connections, by slot and incarnation. */
#ifndef LB_POOL_H
#define LB_POOL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Idle connections to the backends of one table, kept by one worker for
 * the next request to any client.  Found by the backend's slot in O(1),
 * checked against its incarnation (a slot taken by another backend
 * makes its old connections stale), most recently used first so that
 * the fewest stay warm, and aged out oldest first.  The owner embeds a
 * pool_item in its connection and learns which to close from
 * pool_get() and pool_expire().
 */
struct pool_item {
	struct pool_item *pi_next, *pi_prev;	/* in its slot, newest first */
	struct pool_item *pi_lnext, *pi_lprev;	/* in the pool, oldest first */
	uint64_t	 pi_uid;
	uint32_t	 pi_slot;
	uint64_t	 pi_since;		/* idle since, the caller's clock */
	int		 pi_in;			/* in a pool */
};

struct pool_slot {
	struct pool_item *ps_head;
	uint32_t	 ps_n;
};

struct pool {
	struct pool_slot *po_slot;
	uint32_t	 po_nslot;
	struct pool_item *po_old, *po_new;	/* the whole pool, by age */
	uint32_t	 po_n;
	uint32_t	 po_max_slot;		/* idle connections a backend */
};

void	 pool_init(struct pool *p, uint32_t max_per_backend);
void	 pool_fini(struct pool *p);

/*
 * Keep it idle for slot of incarnation uid, since now.  Returns 0, or
 * -1 when the backend has its share already (close it instead).
 */
int	 pool_put(struct pool *p, struct pool_item *it, uint32_t slot,
	    uint64_t uid, uint64_t now);

/*
 * The most recent idle connection to slot's backend uid, taken out of
 * the pool, or NULL.  Those of another incarnation found on the way are
 * taken out and handed to stale(it, arg) to be closed.
 */
struct pool_item *pool_get(struct pool *p, uint32_t slot, uint64_t uid,
	    void (*stale)(struct pool_item *, void *), void *arg);

/* Take it out (it closed while idle). */
void	 pool_del(struct pool *p, struct pool_item *it);

/*
 * Take out every connection idle since before now - idle_ms and hand
 * each to old(it, arg).
 */
void	 pool_expire(struct pool *p, uint64_t now, uint64_t idle_ms,
	    void (*old)(struct pool_item *, void *), void *arg);

/* Idle connections in the pool now. */
uint32_t pool_count(const struct pool *p);

#endif
