/* dial: pick a backend and connect to it: retries, timeouts, the queue. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "dial.h"
#include "log.h"
#include "sock.h"

#define QUEUE_POLL_MS	20		/* a queued dial looks again */

enum dial_state {
	D_IDLE,
	D_QUEUED,
	D_CONNECTING,
	D_DONE
};

static const char *const result_names[] = {
	"ok", "no-backend", "queue-full", "queue-timeout", "connect-fail",
	"error"
};

static void	dial_try(struct dial *);

const char *
dial_result_str(int result)
{
	if (result < 0 || result > DIAL_ERROR)
		return ("?");
	return (result_names[result]);
}

static void
q_del(struct dial *d)
{
	struct dial_queue *q = d->d_q;

	if (d->d_prev != NULL)
		d->d_prev->d_next = d->d_next;
	else
		q->dq_head = d->d_next;
	if (d->d_next != NULL)
		d->d_next->d_prev = d->d_prev;
	else
		q->dq_tail = d->d_prev;
	d->d_next = d->d_prev = NULL;
	q->dq_n--;
	balance_queue(q->dq_bal, -1);
}

/* Run the queue in order, stopping at the first that must wait on. */
static void
q_run(struct dial_queue *q)
{
	struct dial	*d;
	uint32_t	 before;

	if (q->dq_running)
		return;
	q->dq_running = 1;
	while ((d = q->dq_head) != NULL) {
		before = q->dq_n;
		q_del(d);
		dial_try(d);
		if (q->dq_n >= before)
			break;
	}
	q->dq_running = 0;
}

static void
on_kick(struct evloop *ev, void *arg)
{
	(void)ev;
	q_run(arg);
}

static void
on_poll(struct evloop *ev, void *arg)
{
	struct dial_queue *q = arg;

	q_run(q);
	if (q->dq_head != NULL)
		evtimer_set(ev, &q->dq_poll, QUEUE_POLL_MS, on_poll, q);
}

void
dial_queue_init(struct dial_queue *q, struct evloop *ev, struct balance *b,
    const struct dial_conf *conf)
{
	memset(q, 0, sizeof(*q));
	q->dq_ev = ev;
	q->dq_bal = b;
	q->dq_conf = conf;
}

uint32_t
dial_queued(const struct dial_queue *q)
{
	return (q->dq_n);
}

void
dial_queue_fini(struct dial_queue *q)
{
	evtimer_cancel(q->dq_ev, &q->dq_poll);
	evloop_undefer(q->dq_ev, &q->dq_kick);
}

/* The result is known: nothing of d's own is left running. */
static void
finish(struct dial *d, int result)
{
	struct evloop	*ev = d->d_q->dq_ev;

	evtimer_cancel(ev, &d->d_timer);
	if (result != DIAL_OK && d->d_fd != -1) {
		evloop_forget(ev, d->d_fd);
		close(d->d_fd);
		d->d_fd = -1;
	}
	d->d_state = D_DONE;
	if (result == DIAL_OK)
		balance_ok(d->d_q->dq_bal, &d->d_pick);
	d->d_done(d, result);
}

/* The backend picked did not connect: count it failed, let it go. */
static void
unpick_failed(struct dial *d)
{
	struct dial_queue *q = d->d_q;
	int		 saved = errno;

	balance_fail(q->dq_bal, &d->d_pick);
	balance_done(q->dq_bal, &d->d_pick);
	d->d_picked = 0;
	if (d->d_fd != -1) {
		evloop_forget(q->dq_ev, d->d_fd);
		close(d->d_fd);
		d->d_fd = -1;
	}
	/* A slot of ours came free: a waiting dial may take it. */
	if (q->dq_head != NULL)
		evloop_defer(q->dq_ev, &q->dq_kick, on_kick, q);
	errno = saved;
}

static void
on_timer(struct evloop *ev, void *arg)
{
	struct dial	*d = arg;

	(void)ev;
	if (d->d_state == D_QUEUED) {
		q_del(d);
		finish(d, DIAL_QUEUE_TIMEOUT);
	} else if (d->d_state == D_CONNECTING) {
		/* A silent backend: count it failed and try the next. */
		log_info("%s: connect timed out", d->d_pick.bp_name);
		unpick_failed(d);
		dial_try(d);
	}
}

static void
on_event(struct evloop *ev, int fd, int what, void *arg)
{
	struct dial	*d = arg;

	(void)ev;
	d->d_seen |= (uint8_t)what;
	if (d->d_state != D_CONNECTING || fd != d->d_fd ||
	    !(what & (EVLOOP_WRITE | EVLOOP_HUP)))
		return;
	/* Writable with no error or hang-up: no SO_ERROR to ask. */
	if ((what & EVLOOP_HUP) && sock_connected(fd) == -1) {
		log_info("%s: connect: %s", d->d_pick.bp_name,
		    strerror(errno));
		evtimer_cancel(d->d_q->dq_ev, &d->d_timer);
		unpick_failed(d);
		dial_try(d);
		return;
	}
	finish(d, DIAL_OK);
}

static void
enqueue(struct dial *d)
{
	struct dial_queue *q = d->d_q;

	/* Back in line, at the head if it was there. */
	if (d->d_state != D_QUEUED) {
		d->d_state = D_QUEUED;
		evtimer_set(q->dq_ev, &d->d_timer, q->dq_conf->dc_queue_ms,
		    on_timer, d);
		d->d_prev = q->dq_tail;
		d->d_next = NULL;
		if (q->dq_tail != NULL)
			q->dq_tail->d_next = d;
		else
			q->dq_head = d;
		q->dq_tail = d;
	} else {
		d->d_prev = NULL;
		d->d_next = q->dq_head;
		if (q->dq_head != NULL)
			q->dq_head->d_prev = d;
		else
			q->dq_tail = d;
		q->dq_head = d;
	}
	q->dq_n++;
	balance_queue(q->dq_bal, 1);
	if (q->dq_poll.et_idx == 0)
		evtimer_set(q->dq_ev, &q->dq_poll, QUEUE_POLL_MS, on_poll, q);
}

/* Pick and connect, the next backend on a refusal, up to the retries. */
static void
dial_try(struct dial *d)
{
	struct dial_queue *q = d->d_q;
	const struct dial_conf *c = q->dq_conf;
	int		 fd, pending;

	for (;;) {
		if (d->d_attempts > c->dc_retries) {
			finish(d, DIAL_CONNECT_FAIL);
			return;
		}
		if (balance_pick_hash(q->dq_bal, d->d_hash, &d->d_tried,
		    &d->d_pick) == -1) {
			if (d->d_attempts > 0)
				finish(d, DIAL_CONNECT_FAIL);
			else if (balance_why(q->dq_bal) != BALANCE_FULL)
				finish(d, DIAL_NO_BACKEND);
			else if (c->dc_queue_len == 0 || c->dc_queue_ms == 0 ||
			    (q->dq_n >= c->dc_queue_len &&
			    d->d_state != D_QUEUED))
				finish(d, DIAL_QUEUE_FULL);
			else
				enqueue(d);
			return;
		}
		if (d->d_state == D_QUEUED)
			/* q_run() took it out: its wait is over. */
			evtimer_cancel(q->dq_ev, &d->d_timer);
		d->d_state = D_CONNECTING;
		d->d_picked = 1;
		d->d_attempts++;
		d->d_reused = 0;
		if (d->d_reuse != NULL && d->d_reuse(d)) {
			d->d_reused = 1;
			d->d_state = D_DONE;
			d->d_done(d, DIAL_OK);
			return;
		}
		if ((fd = sock_connect(&d->d_pick.bp_addr, &pending)) == -1) {
			log_info("%s: connect: %s", d->d_pick.bp_name,
			    strerror(errno));
			unpick_failed(d);
			if (errno == EMFILE || errno == ENFILE) {
				finish(d, DIAL_ERROR);
				return;
			}
			continue;
		}
		d->d_fd = fd;
		d->d_seen = 0;
		d->d_known = (uint8_t)pending;	/* else at once, events unseen */
		if (evloop_add(q->dq_ev, fd, EVLOOP_READ | EVLOOP_WRITE,
		    on_event, d) == -1) {
			close(fd);
			d->d_fd = -1;
			finish(d, DIAL_ERROR);
			return;
		}
		if (!pending) {
			finish(d, DIAL_OK);
			return;
		}
		evtimer_set(q->dq_ev, &d->d_timer, c->dc_conn_ms, on_timer, d);
		return;
	}
}

void
dial_start(struct dial *d, struct dial_queue *q, const void *key,
    size_t keylen, void (*done)(struct dial *, int))
{
	d->d_q = q;
	d->d_next = d->d_prev = NULL;
	d->d_done = done;
	d->d_state = D_IDLE;
	d->d_fd = -1;
	d->d_picked = 0;
	d->d_attempts = 0;
	d->d_seen = d->d_known = 0;
	d->d_reused = 0;
	d->d_hash = balance_hash(key, keylen);
	d->d_tried.bt_n = 0;
	d->d_pick.bp_name[0] = '\0';
	memset(&d->d_timer, 0, sizeof(d->d_timer));
	dial_try(d);
}

void
dial_again(struct dial *d, int failed)
{
	struct dial_queue *q = d->d_q;

	if (d->d_state == D_CONNECTING && d->d_fd != -1) {
		evloop_forget(q->dq_ev, d->d_fd);
		close(d->d_fd);
	}
	d->d_fd = -1;
	if (d->d_picked) {
		if (failed)
			unpick_failed(d);
		else
			dial_release(d);
	}
	d->d_state = D_IDLE;
	dial_try(d);
}

void
dial_cancel(struct dial *d)
{
	struct dial_queue *q = d->d_q;

	if (q == NULL)
		return;
	evtimer_cancel(q->dq_ev, &d->d_timer);
	if (d->d_state == D_QUEUED)
		q_del(d);
	if (d->d_state == D_CONNECTING && d->d_fd != -1) {
		evloop_forget(q->dq_ev, d->d_fd);
		close(d->d_fd);
		d->d_fd = -1;
	}
	d->d_state = D_DONE;
	dial_release(d);
}

void
dial_release(struct dial *d)
{
	struct dial_queue *q = d->d_q;

	if (q == NULL || !d->d_picked)
		return;
	balance_done(q->dq_bal, &d->d_pick);
	d->d_picked = 0;
	if (q->dq_head != NULL)
		evloop_defer(q->dq_ev, &q->dq_kick, on_kick, q);
}
