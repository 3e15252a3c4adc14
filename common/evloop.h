/* evloop: one epoll event loop per thread, handlers by fd, a timer heap. */
#ifndef LB_EVLOOP_H
#define LB_EVLOOP_H

#include <stddef.h>
#include <stdint.h>

#define EVLOOP_READ	0x01
#define EVLOOP_WRITE	0x02
#define EVLOOP_HUP	0x04		/* given to handlers: the peer closed or erred: read to see which */

struct evloop;

/* Called with the fd, what happened (EVLOOP_*) and the registered arg. */
typedef void	(*evloop_fn)(struct evloop *ev, int fd, int what, void *arg);
typedef void	(*evtimer_fn)(struct evloop *ev, void *arg);

/*
 * A timer lives inside its owner's struct (no allocation): zero it, then
 * evtimer_set() it.  et_idx is the heap position, 0 when not armed.
 */
struct evtimer {
	uint64_t	 et_at;			/* evloop_now() ms when it fires */
	size_t		 et_idx;
	evtimer_fn	 et_fn;
	void		*et_arg;
};

/* A new loop, or NULL (errno set). */
struct evloop	*evloop_new(void);
void	evloop_free(struct evloop *ev);

/*
 * Watch fd for what (EVLOOP_READ | EVLOOP_WRITE), edge-triggered: a
 * handler reads or writes until EAGAIN.  One handler per fd.  All return
 * 0, or -1 with errno set.
 */
int	evloop_add(struct evloop *ev, int fd, int what, evloop_fn fn,
	    void *arg);
/* Stop watching fd; call before close(fd).  Pending events are dropped. */
int	evloop_del(struct evloop *ev, int fd);
/*
 * The same without a system call, for an fd the caller closes right
 * after and whose file no other descriptor shares (no dup, no fork):
 * the close takes it off epoll.
 */
void	evloop_forget(struct evloop *ev, int fd);

/*
 * Hand fd's events to another handler, without a system call (the
 * interest stays what evloop_add() set).  Returns 0, or -1 when fd is
 * not watched.
 */
int	evloop_handler(struct evloop *ev, int fd, evloop_fn fn, void *arg);

/*
 * Deferred work: a call made at the end of the loop's current round,
 * after the events of the round are handled and before it waits again.
 * For work that must not run inside the handler that wants it (a
 * teardown that is not re-entrant), and for bytes already in memory that
 * no event will announce (a TLS library's buffered records, pipelined
 * requests).  An evdefer lives in its owner's struct, like a timer: zero
 * it once.  Deferring one already queued does nothing; a deferred call
 * may defer again (it runs in the next round, not in this one).
 */
typedef void	(*evdefer_fn)(struct evloop *ev, void *arg);
struct evdefer {
	struct evdefer	*ed_next;
	evdefer_fn	 ed_fn;
	void		*ed_arg;
	int		 ed_on;
};
void	evloop_defer(struct evloop *ev, struct evdefer *d, evdefer_fn fn,
	    void *arg);
void	evloop_undefer(struct evloop *ev, struct evdefer *d);

/*
 * Arm t to call fn(arg) after ms milliseconds (re-arming moves it).
 * Returns 0, or -1 when memory ran out (t is then not armed).
 */
int	evtimer_set(struct evloop *ev, struct evtimer *t, uint64_t ms,
	    evtimer_fn fn, void *arg);
void	evtimer_cancel(struct evloop *ev, struct evtimer *t);

/*
 * Run until evloop_stop().  Returns 0, or -1 when epoll fails.
 * evloop_now() is a monotonic clock in ms, read once per iteration.
 */
int	evloop_run(struct evloop *ev);
void	evloop_stop(struct evloop *ev);
uint64_t evloop_now(struct evloop *ev);
/* A monotonic clock in ms, read now. */
uint64_t evloop_clock(void);

#endif
