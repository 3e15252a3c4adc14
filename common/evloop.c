/* evloop: one epoll event loop per thread, handlers by fd, a timer heap. */
#include <sys/epoll.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"

#define EVLOOP_BATCH	256

struct evhandler {
	evloop_fn	 h_fn;
	void		*h_arg;
	uint32_t	 h_gen;		/* bumped on del: stale events are dropped */
	int		 h_on;
};

struct evloop {
	int		 ev_epfd;
	int		 ev_stop;
	uint64_t	 ev_now;
	struct evhandler *ev_h;		/* indexed by fd */
	size_t		 ev_nh;
	struct evtimer	**ev_heap;	/* 1-based min-heap on et_at */
	size_t		 ev_nheap, ev_heapcap;
	struct evdefer	*ev_dhead, **ev_dtail;	/* deferred calls, in order */
};

uint64_t
evloop_clock(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

struct evloop *
evloop_new(void)
{
	struct evloop	*ev;

	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return (NULL);
	if ((ev->ev_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(ev);
		return (NULL);
	}
	ev->ev_now = evloop_clock();
	ev->ev_dtail = &ev->ev_dhead;
	return (ev);
}

void
evloop_free(struct evloop *ev)
{
	if (ev == NULL)
		return;
	close(ev->ev_epfd);
	free(ev->ev_h);
	free(ev->ev_heap);
	free(ev);
}

static uint32_t
to_epoll(int what)
{
	uint32_t	 e = EPOLLET | EPOLLRDHUP;

	if (what & EVLOOP_READ)
		e |= EPOLLIN;
	if (what & EVLOOP_WRITE)
		e |= EPOLLOUT;
	return (e);
}

/* The epoll data: fd in the low half, the handler's generation above. */
static uint64_t
pack(int fd, uint32_t gen)
{
	return ((uint64_t)gen << 32 | (uint32_t)fd);
}

int
evloop_add(struct evloop *ev, int fd, int what, evloop_fn fn, void *arg)
{
	struct epoll_event e;
	struct evhandler *nh;
	size_t		 n;

	if (fd < 0) {
		errno = EBADF;
		return (-1);
	}
	if ((size_t)fd >= ev->ev_nh) {
		n = ev->ev_nh ? ev->ev_nh : 64;
		while (n <= (size_t)fd)
			n *= 2;
		if ((nh = reallocarray(ev->ev_h, n, sizeof(*nh))) == NULL)
			return (-1);
		memset(nh + ev->ev_nh, 0, (n - ev->ev_nh) * sizeof(*nh));
		ev->ev_h = nh;
		ev->ev_nh = n;
	}
	memset(&e, 0, sizeof(e));
	e.events = to_epoll(what);
	e.data.u64 = pack(fd, ev->ev_h[fd].h_gen);
	if (epoll_ctl(ev->ev_epfd, EPOLL_CTL_ADD, fd, &e) == -1)
		return (-1);
	ev->ev_h[fd].h_fn = fn;
	ev->ev_h[fd].h_arg = arg;
	ev->ev_h[fd].h_on = 1;
	return (0);
}

int
evloop_del(struct evloop *ev, int fd)
{
	if (fd < 0 || (size_t)fd >= ev->ev_nh || !ev->ev_h[fd].h_on) {
		errno = ENOENT;
		return (-1);
	}
	ev->ev_h[fd].h_on = 0;
	ev->ev_h[fd].h_gen++;
	return (epoll_ctl(ev->ev_epfd, EPOLL_CTL_DEL, fd, NULL));
}

int
evloop_handler(struct evloop *ev, int fd, evloop_fn fn, void *arg)
{
	if (fd < 0 || (size_t)fd >= ev->ev_nh || !ev->ev_h[fd].h_on) {
		errno = ENOENT;
		return (-1);
	}
	ev->ev_h[fd].h_fn = fn;
	ev->ev_h[fd].h_arg = arg;
	return (0);
}

void
evloop_defer(struct evloop *ev, struct evdefer *d, evdefer_fn fn, void *arg)
{
	if (d->ed_on)
		return;
	d->ed_on = 1;
	d->ed_fn = fn;
	d->ed_arg = arg;
	d->ed_next = NULL;
	*ev->ev_dtail = d;
	ev->ev_dtail = &d->ed_next;
}

void
evloop_undefer(struct evloop *ev, struct evdefer *d)
{
	struct evdefer	**pp;

	if (!d->ed_on)
		return;
	for (pp = &ev->ev_dhead; *pp != NULL; pp = &(*pp)->ed_next)
		if (*pp == d) {
			*pp = d->ed_next;
			if (ev->ev_dtail == &d->ed_next)
				ev->ev_dtail = pp;
			break;
		}
	d->ed_on = 0;
	d->ed_next = NULL;
}

/*
 * Run the calls deferred so far; those they defer wait for the next
 * round, so that one that re-defers itself cannot starve the loop.
 */
static void
run_deferred(struct evloop *ev)
{
	struct evdefer	*d, *batch;

	batch = ev->ev_dhead;
	ev->ev_dhead = NULL;
	ev->ev_dtail = &ev->ev_dhead;
	while ((d = batch) != NULL && !ev->ev_stop) {
		batch = d->ed_next;
		d->ed_next = NULL;
		d->ed_on = 0;
		d->ed_fn(ev, d->ed_arg);
	}
	/* Stopped part way: what is left goes back in front, in order. */
	if (batch != NULL) {
		struct evdefer **tail = &batch;

		while (*tail != NULL)
			tail = &(*tail)->ed_next;
		*tail = ev->ev_dhead;
		if (ev->ev_dhead == NULL)
			ev->ev_dtail = tail;
		ev->ev_dhead = batch;
	}
}

void
evloop_forget(struct evloop *ev, int fd)
{
	if (fd < 0 || (size_t)fd >= ev->ev_nh || !ev->ev_h[fd].h_on)
		return;
	ev->ev_h[fd].h_on = 0;
	ev->ev_h[fd].h_gen++;
}

static void
heap_swap(struct evloop *ev, size_t a, size_t b)
{
	struct evtimer	*t = ev->ev_heap[a];

	ev->ev_heap[a] = ev->ev_heap[b];
	ev->ev_heap[b] = t;
	ev->ev_heap[a]->et_idx = a;
	ev->ev_heap[b]->et_idx = b;
}

static void
heap_up(struct evloop *ev, size_t i)
{
	while (i > 1 && ev->ev_heap[i / 2]->et_at > ev->ev_heap[i]->et_at) {
		heap_swap(ev, i, i / 2);
		i /= 2;
	}
}

static void
heap_down(struct evloop *ev, size_t i)
{
	size_t	 c;

	for (;;) {
		c = 2 * i;
		if (c > ev->ev_nheap)
			break;
		if (c + 1 <= ev->ev_nheap &&
		    ev->ev_heap[c + 1]->et_at < ev->ev_heap[c]->et_at)
			c++;
		if (ev->ev_heap[i]->et_at <= ev->ev_heap[c]->et_at)
			break;
		heap_swap(ev, i, c);
		i = c;
	}
}

void
evtimer_cancel(struct evloop *ev, struct evtimer *t)
{
	size_t	 i = t->et_idx;

	if (i == 0)
		return;
	t->et_idx = 0;
	if (i != ev->ev_nheap) {
		ev->ev_heap[i] = ev->ev_heap[ev->ev_nheap];
		ev->ev_heap[i]->et_idx = i;
		ev->ev_nheap--;
		heap_down(ev, i);
		heap_up(ev, i);
	} else
		ev->ev_nheap--;
}

int
evtimer_set(struct evloop *ev, struct evtimer *t, uint64_t ms, evtimer_fn fn,
    void *arg)
{
	struct evtimer	**nh;
	size_t		 n;

	evtimer_cancel(ev, t);
	t->et_at = ev->ev_now + ms;
	t->et_fn = fn;
	t->et_arg = arg;
	if (ev->ev_nheap + 1 >= ev->ev_heapcap) {
		n = ev->ev_heapcap ? ev->ev_heapcap * 2 : 256;
		if ((nh = reallocarray(ev->ev_heap, n, sizeof(*nh))) == NULL)
			return (-1);
		ev->ev_heap = nh;
		ev->ev_heapcap = n;
	}
	ev->ev_heap[++ev->ev_nheap] = t;
	t->et_idx = ev->ev_nheap;
	heap_up(ev, ev->ev_nheap);
	return (0);
}

uint64_t
evloop_now(struct evloop *ev)
{
	return (ev->ev_now);
}

void
evloop_stop(struct evloop *ev)
{
	ev->ev_stop = 1;
}

int
evloop_run(struct evloop *ev)
{
	struct epoll_event events[EVLOOP_BATCH];
	struct evhandler *h;
	struct evtimer	*t;
	size_t		 due;
	int		 n, i, fd, what, timeout;
	uint32_t	 gen;

	ev->ev_stop = 0;
	while (!ev->ev_stop) {
		ev->ev_now = evloop_clock();
		/*
		 * At most the timers there are now: one that re-arms itself
		 * for 0 ms waits for the next turn instead of spinning here.
		 */
		for (due = ev->ev_nheap; due > 0 && ev->ev_nheap > 0 &&
		    ev->ev_heap[1]->et_at <= ev->ev_now; due--) {
			t = ev->ev_heap[1];
			evtimer_cancel(ev, t);
			t->et_fn(ev, t->et_arg);
			if (ev->ev_stop)
				return (0);
		}
		run_deferred(ev);
		if (ev->ev_stop)
			return (0);
		timeout = ev->ev_dhead != NULL ? 0 : -1;
		if (timeout == -1 && ev->ev_nheap > 0) {
			uint64_t at = ev->ev_heap[1]->et_at, d;

			d = at > ev->ev_now ? at - ev->ev_now : 0;
			timeout = d > 60000 ? 60000 : (int)d;
		}
		n = epoll_wait(ev->ev_epfd, events, EVLOOP_BATCH, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		ev->ev_now = evloop_clock();
		for (i = 0; i < n && !ev->ev_stop; i++) {
			fd = (int)(uint32_t)events[i].data.u64;
			gen = (uint32_t)(events[i].data.u64 >> 32);
			if ((size_t)fd >= ev->ev_nh)
				continue;
			h = &ev->ev_h[fd];
			/* Closed (and maybe reused) by an earlier handler. */
			if (!h->h_on || h->h_gen != gen)
				continue;
			what = 0;
			if (events[i].events & EPOLLIN)
				what |= EVLOOP_READ;
			if (events[i].events & EPOLLOUT)
				what |= EVLOOP_WRITE;
			if (events[i].events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
				what |= EVLOOP_HUP;
			h->h_fn(ev, fd, what, h->h_arg);
		}
		run_deferred(ev);
	}
	return (0);
}
