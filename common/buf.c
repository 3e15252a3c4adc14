/* buf: per-worker pooled buffers, and iovecs built up for writev. */
#include <stdint.h>
#include <string.h>

#include "buf.h"

void
bufpool_init(struct bufpool *bp, size_t size, size_t perchunk)
{
	bp->bp_size = size;
	slab_init(&bp->bp_slab, size, perchunk);
}

char *
buf_get(struct bufpool *bp)
{
	return (slab_get(&bp->bp_slab));
}

void
buf_put(struct bufpool *bp, char *p)
{
	slab_put(&bp->bp_slab, p);
}

void
bufpool_free(struct bufpool *bp)
{
	slab_free(&bp->bp_slab);
}

void
iovb_init(struct iovb *b, struct iovec *v, int max)
{
	b->ib_v = v;
	b->ib_n = 0;
	b->ib_max = max;
	b->ib_len = 0;
}

int
iovb_add(struct iovb *b, const void *p, size_t n)
{
	struct iovec	*last;

	if (n == 0)
		return (0);
	if (b->ib_n > 0) {
		last = &b->ib_v[b->ib_n - 1];
		if ((const char *)last->iov_base + last->iov_len == p) {
			last->iov_len += n;
			b->ib_len += n;
			return (0);
		}
	}
	if (b->ib_n == b->ib_max)
		return (-1);
	b->ib_v[b->ib_n].iov_base = (void *)(uintptr_t)p;
	b->ib_v[b->ib_n].iov_len = n;
	b->ib_n++;
	b->ib_len += n;
	return (0);
}

void
iovb_consume(struct iovb *b, size_t done)
{
	int	 i = 0;

	b->ib_len -= done;
	while (i < b->ib_n && done >= b->ib_v[i].iov_len)
		done -= b->ib_v[i++].iov_len;
	if (i < b->ib_n) {
		b->ib_v[i].iov_base = (char *)b->ib_v[i].iov_base + done;
		b->ib_v[i].iov_len -= done;
	}
	if (i > 0) {
		memmove(b->ib_v, b->ib_v + i, (size_t)(b->ib_n - i) *
		    sizeof(*b->ib_v));
		b->ib_n -= i;
	}
}
