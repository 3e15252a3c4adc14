/* slab: objects of one size from chunks, on a free list, never per use. */
#include <stdlib.h>
#include <string.h>

#include "slab.h"

void
slab_init(struct slab *s, size_t size, size_t perchunk)
{
	memset(s, 0, sizeof(*s));
	if (size < sizeof(void *))
		size = sizeof(void *);
	/* Keep every object aligned as malloc() would. */
	s->sl_size = (size + 15) & ~(size_t)15;
	s->sl_per = perchunk ? perchunk : 64;
}

static int
grow(struct slab *s)
{
	char	*c;
	void	**nc;
	size_t	 i;

	if ((c = calloc(s->sl_per, s->sl_size)) == NULL)
		return (-1);
	if ((nc = reallocarray(s->sl_chunks, s->sl_nchunks + 1,
	    sizeof(*nc))) == NULL) {
		free(c);
		return (-1);
	}
	s->sl_chunks = nc;
	s->sl_chunks[s->sl_nchunks++] = c;
	/* Pushed backwards, so the first get takes the chunk's first. */
	for (i = s->sl_per; i-- > 0; ) {
		*(void **)(c + i * s->sl_size) = s->sl_free;
		s->sl_free = c + i * s->sl_size;
	}
	return (0);
}

void *
slab_get(struct slab *s)
{
	void	*p;

	if (s->sl_free == NULL && grow(s) == -1)
		return (NULL);
	p = s->sl_free;
	s->sl_free = *(void **)p;
	*(void **)p = NULL;
	s->sl_used++;
	return (p);
}

void
slab_put(struct slab *s, void *p)
{
	if (p == NULL)
		return;
	*(void **)p = s->sl_free;
	s->sl_free = p;
	s->sl_used--;
}

void
slab_walk(struct slab *s, void (*fn)(void *, void *), void *arg)
{
	size_t	 i, k;

	for (i = 0; i < s->sl_nchunks; i++)
		for (k = 0; k < s->sl_per; k++)
			fn((char *)s->sl_chunks[i] + k * s->sl_size, arg);
}

void
slab_free(struct slab *s)
{
	size_t	 i;

	for (i = 0; i < s->sl_nchunks; i++)
		free(s->sl_chunks[i]);
	free(s->sl_chunks);
	memset(s, 0, sizeof(*s));
}
