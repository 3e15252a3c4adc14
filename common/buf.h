/* buf: per-worker pooled buffers, and iovecs built up for writev. */
#ifndef LB_BUF_H
#define LB_BUF_H

#include <sys/uio.h>
#include <stddef.h>

#include "slab.h"

/*
 * Buffers of one size, per worker thread: a connection holds one only
 * while it has bytes in it, so that idle connections cost none.
 */
struct bufpool {
	struct slab	 bp_slab;
	size_t		 bp_size;
};

void	 bufpool_init(struct bufpool *bp, size_t size, size_t perchunk);
/* A buffer of bp_size bytes, or NULL when memory ran out. */
char	*buf_get(struct bufpool *bp);
void	 buf_put(struct bufpool *bp, char *p);
void	 bufpool_free(struct bufpool *bp);

/*
 * An iovec array being filled: iovb_add() appends n bytes at p, into
 * the last entry when they follow it in memory.  Returns 0, or -1 when
 * the array is full (nothing added).
 */
struct iovb {
	struct iovec	*ib_v;
	int		 ib_n;
	int		 ib_max;
	size_t		 ib_len;		/* bytes in all */
};

void	 iovb_init(struct iovb *b, struct iovec *v, int max);
int	 iovb_add(struct iovb *b, const void *p, size_t n);

/*
 * After a write of done bytes from b, drop what was written (the rest
 * moves to the front).
 */
void	 iovb_consume(struct iovb *b, size_t done);

#endif
