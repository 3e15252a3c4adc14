/* worker: a proxy's threads, listeners, accept, signals, restart and grace. */
#ifndef LB_WORKER_H
#define LB_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/*
 * A proxy runs one worker thread per core, each with its own event loop
 * and its own SO_REUSEPORT listener per listen address (a unix listener
 * is one socket that the workers share), so that no lock is shared on
 * the hot path.  The main thread does no I/O: it waits for signals, and
 * once a second calls the proxy's tick.
 *
 * Descriptors: every accepted connection reserves wc_fds descriptors of
 * a budget made from the open-files limit (re-read each second, so that
 * prlimit(1) takes effect), and gives them back with worker_conn_end().
 * While the budget is short a worker stops accepting and clients wait
 * in the kernel's backlog: none is accepted only to fail for want of a
 * descriptor for its backend.
 *
 * TERM or INT: the listeners are steered to a new instance on the same
 * port, if one started (a BPF program on the reuseport group), the
 * workers keep accepting for 200 ms for the clients already on their
 * way, then close their listeners and let open connections finish for
 * the grace period; what is left then is cut (wo_cut).  HUP calls wo_hup.
 */

struct worker;

struct worker_ops {
	/* In the worker's thread, before its loop runs: 0 or -1. */
	int	(*wo_init)(struct worker *w);
	/*
	 * A connection accepted on listener li (an index of wc_listen)
	 * from peer: the proxy owns fd from now on, and calls
	 * worker_conn_end() when it is closed.
	 */
	void	(*wo_accept)(struct worker *w, int li, int fd,
		    const struct addr *peer);
	/* The grace period is over: end every open connection now. */
	void	(*wo_cut)(struct worker *w);
	/* In the worker's thread, after its loop stopped. */
	void	(*wo_fini)(struct worker *w);
	/* In the main thread: once a second, and on HUP (may be NULL). */
	void	(*wo_tick)(void *arg);
	void	(*wo_hup)(void *arg);
};

struct worker_conf {
	const struct worker_ops *wc_ops;
	void		*wc_arg;		/* given to wo_tick and wo_hup */
	int		 wc_nworkers;
	const struct addr *wc_listen;		/* addresses, resolved */
	size_t		 wc_nlisten;
	uint64_t	 wc_grace_ms;
	int		 wc_fds;		/* descriptors per connection */
	int		 wc_fds_spare;		/* kept aside for the rest */
	int		 wc_verbose;
};

/*
 * Block the signals the main thread will wait for (TERM, INT, HUP) and
 * ignore SIGPIPE.  Call first thing in main(): a signal that comes
 * during set-up waits, and is acted on once worker_run() begins.
 */
void	worker_signals(void);

/*
 * Bind every listener of c for every worker (port 0 is settled by the
 * first, and the others bind the port it got).  Returns 0, or -1 with
 * the reason in err.  After it, worker_bound() tells where each listens.
 */
int	worker_listen(const struct worker_conf *c, char *err, size_t errlen);
const struct addr *worker_bound(size_t li);

/*
 * Start the workers and wait for signals until stopped; returns when
 * every worker has ended (0), or -1 with the reason in err when a worker
 * could not start.
 */
int	worker_run(const struct worker_conf *c, char *err, size_t errlen);

/* The calling worker's loop, index, and a pointer of the proxy's own. */
struct evloop	*worker_loop(struct worker *w);
int	worker_id(const struct worker *w);
void	*worker_data(const struct worker *w);
void	worker_set_data(struct worker *w, void *data);

/*
 * A connection of w ended and its descriptors are closed: give its
 * budget back, accept again if w had paused, and let a stopping worker
 * end once nothing is open.
 */
void	worker_conn_end(struct worker *w);

/*
 * Descriptors beyond a connection's own (an idle backend connection
 * kept in a pool, say): take n from the budget (0, or -1 when there is
 * no room: do without), give them back.
 */
int	worker_fds_take(int n);
void	worker_fds_give(int n);

/* 1 once w stopped accepting (TERM). */
int	worker_stopping(const struct worker *w);

/* Descriptors of the budget in use, and the budget's size (for -v). */
long	worker_fds_used(void);
long	worker_fds_max(void);

#endif
