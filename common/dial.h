/* dial: pick a backend and connect to it: retries, timeouts, the queue. */
#ifndef LB_DIAL_H
#define LB_DIAL_H

#include <stddef.h>
#include <stdint.h>

#include "balance.h"
#include "evloop.h"

/*
 * A dial picks a backend of a balancer and connects a non-blocking
 * socket to it.  A refused or timed-out connect counts a failure against
 * that backend and tries the next one, up to dc_retries more; when every
 * candidate is at its maxconn, the dial waits in its balancer's queue
 * (bounded in length and time), in order, for a slot to come free here
 * or in another process.  The result comes to the owner's d_done; it may
 * come from within dial_start() itself (a connect that succeeds or fails
 * at once), so the owner must be ready for it there.
 *
 * While connecting the dial owns the socket and its handler on the
 * loop.  On DIAL_OK the owner takes d_fd (still on the loop: hand it to
 * its own handler with evloop_handler()) and the pick, and ends the pick
 * with dial_release() when its work on that backend is over.
 */

enum dial_result {
	DIAL_OK,			/* connected: d_fd, d_pick */
	DIAL_NO_BACKEND,		/* none takes work */
	DIAL_QUEUE_FULL,		/* all at maxconn, no room to wait */
	DIAL_QUEUE_TIMEOUT,		/* waited its time in the queue */
	DIAL_CONNECT_FAIL,		/* every try failed */
	DIAL_ERROR			/* out of descriptors or memory */
};

struct dial_conf {
	int		 dc_retries;		/* more tries after the first */
	uint64_t	 dc_conn_ms;		/* a connect's time */
	uint32_t	 dc_queue_len;		/* 0: no waiting */
	uint64_t	 dc_queue_ms;
};

struct dial;

/* The dials waiting for one balancer of one worker. */
struct dial_queue {
	struct evloop	*dq_ev;
	struct balance	*dq_bal;
	const struct dial_conf *dq_conf;
	struct dial	*dq_head, *dq_tail;
	uint32_t	 dq_n;
	struct evtimer	 dq_poll;		/* slots freed elsewhere */
	struct evdefer	 dq_kick;		/* slots freed here */
	int		 dq_running;
};

struct dial {
	struct dial_queue *d_q;
	struct dial	*d_next, *d_prev;	/* in the queue */
	void		(*d_done)(struct dial *d, int result);
	/*
	 * Optional: called after each pick, before a connect; returns 1
	 * when the owner has an idle connection to d_pick's backend (a
	 * pool), so that the dial ends with DIAL_OK, d_reused set and no
	 * socket of its own (d_fd -1).
	 */
	int		(*d_reuse)(struct dial *d);
	/*
	 * Optional: the backend a session is pinned to (a sticky cookie),
	 * by slot and incarnation; 0: none.  The first pick takes it when
	 * balance_pick_pinned() does, else the balancer picks as for any
	 * dial; after a failed connect to it, the next pick is the
	 * balancer's too.  Set by the owner before dial_start().
	 */
	uint64_t	 d_pin_uid;
	uint32_t	 d_pin_slot;
	int		 d_pin_tried;
	void		*d_arg;			/* the owner's */
	int		 d_reused;
	int		 d_state;
	int		 d_fd;
	int		 d_picked;		/* d_pick is counted in the table */
	int		 d_attempts;
	uint8_t		 d_seen;		/* events on d_fd since evloop_add */
	uint8_t		 d_known;		/* d_seen is all there was */
	uint64_t	 d_hash;		/* the client's key, hashed */
	struct balance_tried d_tried;
	struct balance_pick d_pick;
	struct evtimer	 d_timer;
};

/* Set up q for dials over b on loop ev; conf must outlive q. */
void	dial_queue_init(struct dial_queue *q, struct evloop *ev,
	    struct balance *b, const struct dial_conf *conf);
/* Dials waiting in q now (for the table's queued count). */
uint32_t dial_queued(const struct dial_queue *q);
/* Stop q's timers; its dials must have been cancelled first. */
void	dial_queue_fini(struct dial_queue *q);

/*
 * Start d (zeroed by the caller, or used before and now idle) on q for
 * a client whose key (address bytes, a header: see balance_hash()) is
 * key/keylen (NULL, 0: none).  done(d, result) is called once.
 */
void	dial_start(struct dial *d, struct dial_queue *q, const void *key,
	    size_t keylen, void (*done)(struct dial *, int));

/*
 * After DIAL_OK, the connection broke before the backend said a word:
 * dial again, another backend first, as after a refused connect (with
 * failed, counted against the backend; a pooled connection that the
 * backend had closed while idle is not its failure).  The owner has
 * closed its connection.  done is called again.
 */
void	dial_again(struct dial *d, int failed);

/* Stop d wherever it is: nothing more is called; its pick is let go. */
void	dial_cancel(struct dial *d);

/* The owner is done with d's pick: let it go, and wake the queue. */
void	dial_release(struct dial *d);

/* The word of a result for a log: "connect-fail", "no-backend", ... */
const char *dial_result_str(int result);

#endif
