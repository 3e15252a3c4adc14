/* pool: a worker's idle backend connections, by slot and incarnation. */
#include <stdlib.h>
#include <string.h>

#include "pool.h"

void
pool_init(struct pool *p, uint32_t max_per_backend)
{
	memset(p, 0, sizeof(*p));
	p->po_max_slot = max_per_backend;
}

void
pool_fini(struct pool *p)
{
	free(p->po_slot);
	memset(p, 0, sizeof(*p));
}

static int
grow(struct pool *p, uint32_t slot)
{
	struct pool_slot *ns;
	uint32_t	 n = p->po_nslot ? p->po_nslot : 16;

	while (n <= slot)
		n *= 2;
	if ((ns = reallocarray(p->po_slot, n, sizeof(*ns))) == NULL)
		return (-1);
	memset(ns + p->po_nslot, 0, (size_t)(n - p->po_nslot) * sizeof(*ns));
	p->po_slot = ns;
	p->po_nslot = n;
	return (0);
}

int
pool_put(struct pool *p, struct pool_item *it, uint32_t slot, uint64_t uid,
    uint64_t now)
{
	struct pool_slot *s;

	if (slot >= p->po_nslot && grow(p, slot) == -1)
		return (-1);
	s = &p->po_slot[slot];
	if (s->ps_n >= p->po_max_slot)
		return (-1);
	it->pi_uid = uid;
	it->pi_slot = slot;
	it->pi_since = now;
	it->pi_in = 1;
	it->pi_prev = NULL;
	it->pi_next = s->ps_head;
	if (s->ps_head != NULL)
		s->ps_head->pi_prev = it;
	s->ps_head = it;
	s->ps_n++;
	it->pi_lnext = NULL;
	it->pi_lprev = p->po_new;
	if (p->po_new != NULL)
		p->po_new->pi_lnext = it;
	else
		p->po_old = it;
	p->po_new = it;
	p->po_n++;
	return (0);
}

void
pool_del(struct pool *p, struct pool_item *it)
{
	struct pool_slot *s;

	if (!it->pi_in)
		return;
	s = &p->po_slot[it->pi_slot];
	if (it->pi_prev != NULL)
		it->pi_prev->pi_next = it->pi_next;
	else
		s->ps_head = it->pi_next;
	if (it->pi_next != NULL)
		it->pi_next->pi_prev = it->pi_prev;
	s->ps_n--;
	if (it->pi_lprev != NULL)
		it->pi_lprev->pi_lnext = it->pi_lnext;
	else
		p->po_old = it->pi_lnext;
	if (it->pi_lnext != NULL)
		it->pi_lnext->pi_lprev = it->pi_lprev;
	else
		p->po_new = it->pi_lprev;
	p->po_n--;
	it->pi_in = 0;
	it->pi_next = it->pi_prev = it->pi_lnext = it->pi_lprev = NULL;
}

struct pool_item *
pool_get(struct pool *p, uint32_t slot, uint64_t uid,
    void (*stale)(struct pool_item *, void *), void *arg)
{
	struct pool_item *it;

	if (slot >= p->po_nslot)
		return (NULL);
	while ((it = p->po_slot[slot].ps_head) != NULL) {
		pool_del(p, it);
		if (it->pi_uid == uid)
			return (it);
		stale(it, arg);
	}
	return (NULL);
}

void
pool_expire(struct pool *p, uint64_t now, uint64_t idle_ms,
    void (*old)(struct pool_item *, void *), void *arg)
{
	struct pool_item *it;

	while ((it = p->po_old) != NULL && it->pi_since + idle_ms <= now) {
		pool_del(p, it);
		old(it, arg);
	}
}

uint32_t
pool_count(const struct pool *p)
{
	return (p->po_n);
}
