/* slab: objects of one size from chunks, on a free list, never per use. */
#ifndef LB_SLAB_H
#define LB_SLAB_H

#include <stddef.h>

/*
 * A slab hands out zeroed-once objects of sz bytes, allocated per chunk
 * of n and never returned to the system while the slab lives: in steady
 * state a get and a put are a few pointer moves.  One thread only.
 * Objects must be at least a pointer in size (the free list lives in
 * them while they are free).
 */
struct slab {
	size_t		 sl_size;		/* of an object */
	size_t		 sl_per;		/* objects a chunk */
	void		*sl_free;
	void		**sl_chunks;
	size_t		 sl_nchunks;
	size_t		 sl_used;		/* objects handed out */
};

/* Set s up for objects of size bytes, perchunk at a time. */
void	 slab_init(struct slab *s, size_t size, size_t perchunk);

/*
 * An object, or NULL when memory ran out.  Its bytes are what its last
 * user left (zero the first time): the caller sets what it needs.
 */
void	*slab_get(struct slab *s);
void	 slab_put(struct slab *s, void *p);

/*
 * Call fn(p, arg) on every object of every chunk, free or not: the
 * caller tells them apart by a field of its own (which slab_put() does
 * not touch past the first pointer).  For a walk at shutdown.
 */
void	 slab_walk(struct slab *s, void (*fn)(void *p, void *arg), void *arg);

/* Free every chunk. */
void	 slab_free(struct slab *s);

#endif
