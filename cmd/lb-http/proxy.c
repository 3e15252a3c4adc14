/* proxy: lb-http's connections: clients, exchanges, backends and their pool. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "lb-http.h"
#include "log.h"
#include "tlsctx.h"
#include "proxyproto.h"
#include "sock.h"
#include "table.h"

#define POOL_TICK_MS	1000		/* idle backend connections aged */
#define REUSE_SAFE_MS	2000		/* a non-idempotent request reuses
					   only a connection this fresh */
#define RATE_WINDOW_MS	5000		/* a body's minimum rate, measured */
#define SPLICE_MIN	65536		/* a body this long is spliced */

struct hw	*hws[256];

static void	hconn_event(struct evloop *, int, int, void *);
static void	bconn_event(struct evloop *, int, int, void *);
static void	hconn_close(struct hconn *, int reset);
static void	tx_finish(struct hconn *);
static void	head_read(struct hconn *);
static void	on_defer(struct evloop *, void *);
static void	on_htimer(struct evloop *, void *);
static void	on_pool_tick(struct evloop *, void *);
static void	tx_begin_error(struct hconn *, int);
static void	tx_backend_ready(struct hconn *);
static void	tls_begin(struct hconn *);
static void	tls_step(struct hconn *);
static void	btls_step(struct hconn *, struct bconn *);
static int	btls_same(struct bconn *, const struct htx *);
enum { HEAD_TOO_BIG, HEAD_NO_LINE, HEAD_TOO_SLOW };

/* ---- tables, as this worker balances over them ---- */

static int
reuse_hook(struct dial *d);

static struct wtab *
wtab_new(struct hw *w, size_t i)
{
	struct wtab	*wt;

	if ((wt = calloc(1, sizeof(*wt))) == NULL)
		return (NULL);
	wt->wt_t = tableset_table(cf.ts, i);
	if ((wt->wt_bal = balance_new(wt->wt_t, cf.algo,
	    cf.slowstart_ms)) == NULL) {
		free(wt);
		return (NULL);
	}
	balance_eject(wt->wt_bal, cf.eject_fails, cf.eject_ms);
	dial_queue_init(&wt->wt_q, w->w_ev, wt->wt_bal, &cf.dial);
	pool_init(&wt->wt_pool, cf.z_pool);
	tableset_hold(cf.ts, wt->wt_t);
	return (wt);
}

static void
bconn_close(struct bconn *b, int reset);

static void
stale_one(struct pool_item *it, void *arg)
{
	struct bconn	*b = (struct bconn *)((char *)it -
			    offsetof(struct bconn, b_pi));

	(void)arg;
	bconn_close(b, 0);
}

static void
wtab_free(struct wtab *wt)
{
	struct pool_item *it;
	uint32_t	 i;

	while ((it = wt->wt_pool.po_old) != NULL) {
		pool_del(&wt->wt_pool, it);
		stale_one(it, NULL);
	}
	for (i = 0; wt->wt_sess != NULL && i < table_capacity(wt->wt_t); i++)
		SSL_SESSION_free(wt->wt_sess[i].ws_sess);
	free(wt->wt_sess);
	dial_queue_fini(&wt->wt_q);
	pool_fini(&wt->wt_pool);
	sticky_wtab_free(wt);
	balance_free(wt->wt_bal);
	tableset_drop(cf.ts, wt->wt_t);
	free(wt);
}

void
wtab_unuse(struct wtab *wt)
{
	if (--wt->wt_uses == 0 && wt->wt_retired)
		wtab_free(wt);
}

/* Tables made again, or added by a rule file read again. */
static void
wtab_follow(struct hw *w)
{
	struct wtab	*wt;
	size_t		 i, n = tableset_count(cf.ts);

	w->w_ver = tableset_version(cf.ts);
	for (i = 0; i < n; i++) {
		if (i >= w->w_ntab) {
			if ((w->w_tab[i] = wtab_new(w, i)) == NULL)
				return;
			w->w_ntab = i + 1;
			continue;
		}
		if (tableset_table(cf.ts, i) == w->w_tab[i]->wt_t ||
		    (wt = wtab_new(w, i)) == NULL)
			continue;
		if (w->w_tab[i]->wt_uses == 0)
			wtab_free(w->w_tab[i]);
		else
			w->w_tab[i]->wt_retired = 1;
		w->w_tab[i] = wt;
	}
}

/* The rules of now: the main thread frees those no worker sees. */
static void
rules_follow(struct hw *w)
{
	uint64_t	 g = atomic_load_explicit(&cf.rules_gen,
			    memory_order_acquire);

	if (g == atomic_load_explicit(&w->w_rgen, memory_order_relaxed))
		return;
	w->w_rules = atomic_load_explicit(&cf.rules, memory_order_acquire);
	atomic_store_explicit(&w->w_rgen, g, memory_order_release);
}

static void
on_wtick(struct evloop *ev, void *arg)
{
	struct hw	*w = arg;

	rules_follow(w);
	if (tableset_version(cf.ts) != w->w_ver ||
	    tableset_count(cf.ts) != w->w_ntab)
		wtab_follow(w);
	evtimer_set(ev, &w->w_tick, 1000, on_wtick, w);
}

/* ---- buffers ---- */

static int
in_get(struct hconn *h)
{
	struct hw	*w = h->h_w;

	if (h->h_in != NULL)
		return (0);
	if ((h->h_in = buf_get(&w->w_bufs)) == NULL)
		return (-1);
	h->h_hdr = (struct http1_header *)(void *)(h->h_in + cf.z_head);
	h->h_inlen = h->h_off = h->h_scanned = 0;
	return (0);
}

/* Give the buffer back when nothing is left in it. */
static void
in_release(struct hconn *h)
{
	if (h->h_in == NULL || h->h_off < h->h_inlen)
		return;
	buf_put(&h->h_w->w_bufs, h->h_in);
	h->h_in = NULL;
	h->h_hdr = NULL;
	h->h_inlen = h->h_off = h->h_scanned = 0;
}

/* Move what is left to the front, to read more after it. */
static void
in_compact(struct hconn *h)
{
	if (h->h_off == 0)
		return;
	memmove(h->h_in, h->h_in + h->h_off, h->h_inlen - h->h_off);
	h->h_inlen -= h->h_off;
	h->h_scanned = h->h_scanned > h->h_off ? h->h_scanned - h->h_off : 0;
	h->h_off = 0;
}

/* ---- backend connections ---- */

static void
bconn_close(struct bconn *b, int reset)
{
	struct hw	*w = b->b_w;

	if (b->b_kept && b->b_h != NULL)
		b->b_h->h_keep = NULL;
	/* Busy, its descriptor is its client's; idle, its own. */
	if (b->b_state == BC_IDLE) {
		pool_del(&b->b_wt->wt_pool, &b->b_pi);
		wtab_unuse(b->b_wt);
		if (!b->b_kept)
			worker_fds_give(1);
	}
	evloop_forget(w->w_ev, b->b_io.io_fd);
	io_close(&b->b_io, reset);
	b->b_state = BC_FREE;
	slab_put(&w->w_bconns, b);
}

static struct bconn *
bconn_new(struct hconn *h, int fd)
{
	struct hw	*w = h->h_w;
	struct bconn	*b;

	if ((b = slab_get(&w->w_bconns)) == NULL)
		return (NULL);
	memset((char *)b + sizeof(b->b_link), 0, sizeof(*b) -
	    sizeof(b->b_link));
	b->b_w = w;
	io_init(&b->b_io, fd);
	b->b_state = BC_BUSY;
	return (b);
}

/* Idle: the backend closed it, or said something unasked: drop it. */
static void
bconn_idle_event(struct bconn *b, int what)
{
	char	 c;

	(void)what;
	if (recv(b->b_io.io_fd, &c, 1, MSG_PEEK) == -1 && errno == EAGAIN)
		return;
	bconn_close(b, 0);
}

/* After an exchange: into the pool when it can serve another. */
static void
bconn_done(struct hconn *h, struct bconn *b, int reusable)
{
	struct hw	*w = h->h_w;
	struct wtab	*wt = h->h_tx->tx_wt;

	b->b_h = NULL;
	b->b_nreq++;
	if (!reusable || worker_stopping(w->w_worker)) {
		bconn_close(b, 0);
		return;
	}
	/* -P: the connection told the backend who the client is. */
	if (cf.proxy_out) {
		b->b_state = BC_IDLE;
		b->b_kept = 1;
		b->b_h = h;
		b->b_wt = wt;
		wt->wt_uses++;
		b->b_idle = evloop_now(w->w_ev);
		h->h_keep = b;
		return;
	}
	/* Idle, it holds a descriptor of its own. */
	if (worker_fds_take(1) == -1) {
		bconn_close(b, 0);
		return;
	}
	if (pool_put(&wt->wt_pool, &b->b_pi, b->b_slot, b->b_uid,
	    evloop_now(w->w_ev)) == -1) {
		worker_fds_give(1);
		bconn_close(b, 0);
		return;
	}
	b->b_state = BC_IDLE;
	b->b_wt = wt;
	wt->wt_uses++;
	b->b_idle = evloop_now(w->w_ev);
	if (w->w_poolt.et_idx == 0)
		evtimer_set(w->w_ev, &w->w_poolt, POOL_TICK_MS, on_pool_tick,
		    w);
}

static void
pool_old(struct pool_item *it, void *arg)
{
	(void)arg;
	/* pool_expire() took it out already: bconn_close() knows. */
	stale_one(it, NULL);
}

static void
on_pool_tick(struct evloop *ev, void *arg)
{
	struct hw	*w = arg;
	size_t		 i;
	uint32_t	 left = 0;

	for (i = 0; i < w->w_ntab; i++) {
		pool_expire(&w->w_tab[i]->wt_pool, evloop_now(ev), cf.t_pool,
		    pool_old, NULL);
		left += pool_count(&w->w_tab[i]->wt_pool);
	}
	if (left > 0)
		evtimer_set(ev, &w->w_poolt, POOL_TICK_MS, on_pool_tick, w);
}

/* A picked backend: take an idle connection to it, if there is one. */
static int
reuse_hook(struct dial *d)
{
	struct hconn	*h = d->d_arg;
	struct htx	*tx = h->h_tx;
	struct hw	*w = h->h_w;
	struct pool_item *it;
	struct bconn	*b;
	uint64_t	 now = evloop_now(w->w_ev);

	if (cf.proxy_out) {
		/* Its own, for the same backend; else a new one. */
		if ((b = h->h_keep) == NULL)
			return (0);
		h->h_keep = NULL;
		wtab_unuse(b->b_wt);
		b->b_kept = 0;
		b->b_h = NULL;
		if (b->b_uid != d->d_pick.bp_uid || b->b_wt != tx->tx_wt ||
		    b->b_tls != tx->tx_btls || (b->b_tls &&
		    !btls_same(b, tx))) {
			b->b_state = BC_BUSY;
			bconn_close(b, 0);
			return (0);
		}
	} else {
		if ((it = pool_get(&tx->tx_wt->wt_pool, d->d_pick.bp_slot,
		    d->d_pick.bp_uid, stale_one, NULL)) == NULL)
			return (0);
		b = (struct bconn *)((char *)it - offsetof(struct bconn, b_pi));
		if (b->b_tls != tx->tx_btls || (b->b_tls &&
		    !btls_same(b, tx))) {
			/* The route changed how it is reached: not this one. */
			stale_one(it, NULL);
			return (0);
		}
		/*
		 * A request that may not be sent twice goes on a connection
		 * that the backend surely has not closed meanwhile.
		 */
		if (!tx->tx_idem && now - b->b_idle > REUSE_SAFE_MS) {
			pool_put(&tx->tx_wt->wt_pool, it, b->b_slot, b->b_uid,
			    b->b_idle);
			return (0);
		}
		wtab_unuse(b->b_wt);
		worker_fds_give(1);
	}
	b->b_state = BC_BUSY;
	b->b_h = h;
	tx->tx_b = b;
	return (1);
}

/* ---- the client's connection ---- */

static void
set_timer(struct hconn *h, uint64_t ms)
{
	evtimer_set(h->h_w->w_ev, &h->h_timer, ms, on_htimer, h);
}

/* The exchange's memory back to the worker, once it is over. */
static void
tx_release(struct hconn *h)
{
	if (h->h_tx != NULL) {
		h->h_tx->tx_on = 0;
		slab_put(&h->h_w->w_htx, h->h_tx);
		h->h_tx = NULL;
	}
}

/* An exchange's memory for h: 0, or -1 when there is none. */
static int
tx_get(struct hconn *h)
{
	if (h->h_tx == NULL && (h->h_tx = slab_get(&h->h_w->w_htx)) == NULL)
		return (-1);
	return (0);
}

/* Waiting for the next request: its first byte, then its whole head. */
static void
wait_request(struct hconn *h)
{
	struct hw	*w = h->h_w;

	h->h_state = HC_HEAD;
	h->h_since = evloop_now(w->w_ev);
	h->h_first = 0;
	set_timer(h, h->h_nreq == 0 ? cf.t_head : cf.t_idle);
	if (h->h_in != NULL && h->h_off < h->h_inlen)
		/* Pipelined: no event will say it is there. */
		evloop_defer(w->w_ev, &h->h_defer, on_defer, h);
	else {
		in_release(h);
		tx_release(h);
		/* Bytes OpenSSL already read: no event will come for them. */
		if (h->h_tls && io_pending(&h->h_io) > 0) {
			h->h_rd = 1;
			evloop_defer(w->w_ev, &h->h_defer, on_defer, h);
		}
	}
	if (worker_stopping(w->w_worker) && h->h_in == NULL)
		hconn_close(h, 0);
}

static void
hconn_free(struct hconn *h)
{
	struct hw	*w = h->h_w;

	evtimer_cancel(w->w_ev, &h->h_timer);
	evloop_undefer(w->w_ev, &h->h_defer);
	if (h->h_keep != NULL) {
		wtab_unuse(h->h_keep->b_wt);
		h->h_keep->b_state = BC_BUSY;
		h->h_keep->b_kept = 0;
		h->h_keep->b_h = NULL;
		bconn_close(h->h_keep, 0);
		h->h_keep = NULL;
	}
	if (h->h_in != NULL) {
		buf_put(&w->w_bufs, h->h_in);
		h->h_in = NULL;
	}
	/*
	 * An exchange that never finished: what the cache and the rules'
	 * answer held for it goes.
	 */
	if (h->h_tx != NULL && h->h_tx->tx_on) {
		l7_finish(h);
		if (cf.cache_size > 0)
			cache_end(h);
	}
	tx_release(h);
	h->h_state = HC_FREE;
	slab_put(&w->w_hconns, h);
	worker_conn_end(w->w_worker);
}

static void
hconn_close(struct hconn *h, int reset)
{
	evloop_forget(h->h_w->w_ev, h->h_io.io_fd);
	io_close(&h->h_io, reset);
	hconn_free(h);
}

/*
 * Close after a response, without losing it: shut our side, then read
 * and drop what the client still sends, for a while, so that unread
 * bytes do not turn our close into a reset that eats the response.
 */
static void
hconn_linger(struct hconn *h)
{
	h->h_state = HC_LINGER;
	io_shutdown(&h->h_io);
	set_timer(h, cf.t_linger);
	h->h_rd = 1;
	evloop_defer(h->h_w->w_ev, &h->h_defer, on_defer, h);
}

static void
linger_read(struct hconn *h)
{
	char	 buf[4096];
	ssize_t	 n;

	for (;;) {
		n = io_read(&h->h_io, buf, sizeof(buf));
		if (n > 0)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		hconn_close(h, 0);
		return;
	}
}

/* ---- local answers ---- */

/*
 * Answer the client ourselves with status and a short text: the
 * exchange ends when it is written, and the connection with it when
 * close (the request could not be read to its end).
 */
void
tx_respond(struct hconn *h, int status, const char *text, int end, int close)
{
	struct htx	*tx = h->h_tx;
	struct flow	*dn = &tx->tx_dn;
	int		 n;

	if (tx->tx_up.fl_pipe[0] != -1)
		close = 1;
	if (!tx->tx_up.fl_done && tx->tx_up.fl_mode != FL_NONE)
		close = 1;
	/* Whatever the backend was doing, it is done with: we answer. */
	if (tx->tx_b != NULL) {
		bconn_close(tx->tx_b, 0);
		tx->tx_b = NULL;
	}
	tx->tx_close |= close;
	tx->tx_status = status;
	tx->tx_end = end;
	n = snprintf(tx->tx_radd, sizeof(tx->tx_radd), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %zu"
	    "\r\n%s\r\nlb-http: %s\n", status, http1_reason(status),
	    strlen(text) + 10, tx->tx_close ? "Connection: close\r\n" : "",
	    text);
	if (n < 0 || (size_t)n >= sizeof(tx->tx_radd))
		n = 0;
	iovb_init(&dn->fl_out, dn->fl_iov, LH_IOV_MAX);
	iovb_add(&dn->fl_out, tx->tx_radd, (size_t)(tx->tx_head ?
	    (size_t)n - strlen(text) - 10 : (size_t)n));
	dn->fl_mode = FL_NONE;
	dn->fl_done = 1;
	tx->tx_dnstate = DN_BODY;
	tx->tx_bclose = 1;
	if (tx->tx_ttfb == 0)
		tx->tx_ttfb = evloop_now(h->h_w->w_ev);
	tx_run(h);
}

/* Answer with the head and body rewrite.c put in tx_dn's iovecs. */
void
tx_answered(struct hconn *h, int status)
{
	struct htx	*tx = h->h_tx;

	tx->tx_status = status;
	tx->tx_dn.fl_mode = FL_NONE;
	tx->tx_dn.fl_done = 1;
	tx->tx_dnstate = DN_BODY;
	tx->tx_bclose = 1;
	if (tx->tx_ttfb == 0)
		tx->tx_ttfb = evloop_now(h->h_w->w_ev);
	tx_run(h);
}

/* ---- the exchange ---- */

static void
flow_init(struct flow *f)
{
	memset(f, 0, offsetof(struct flow, fl_iov));
	f->fl_pipe[0] = f->fl_pipe[1] = -1;
	iovb_init(&f->fl_out, f->fl_iov, LH_IOV_MAX);
}

static void
flow_fini(struct hw *w, struct flow *f)
{
	if (f->fl_pipe[0] == -1)
		return;
	if (f->fl_pending == 0)
		relay_pipe_put(&w->w_relay, f->fl_pipe);
	else
		relay_pipe_drop(&w->w_relay, f->fl_pipe);
	f->fl_pipe[0] = f->fl_pipe[1] = -1;
	f->fl_pending = 0;
}

/* Keep the request's method, host and path for its log line. */
static void
keep_logf(struct htx *tx)
{
	const struct http1_req *rq = &tx->tx_req;
	size_t		 m, hh, p;

	if (cf.quiet)
		return;
	m = rq->rq_methodlen < 32 ? rq->rq_methodlen : 32;
	hh = rq->rq_host != NULL ? (rq->rq_hostlen < 255 ? rq->rq_hostlen :
	    255) : 0;
	p = rq->rq_pathlen < LH_LOGF_MAX - m - hh ? rq->rq_pathlen :
	    LH_LOGF_MAX - m - hh;
	if (rq->rq_method == NULL)
		m = 0;
	if (rq->rq_path == NULL)
		p = 0;
	if (m)
		memcpy(tx->tx_logf, rq->rq_method, m);
	if (hh)
		memcpy(tx->tx_logf + m, rq->rq_host, hh);
	if (p)
		memcpy(tx->tx_logf + m + hh, rq->rq_path, p);
	tx->tx_logm = m;
	tx->tx_logh = hh;
	tx->tx_logp = p;
}

/* The client's address as X-Forwarded-For and Forwarded write it. */
void
client_ip(const struct hconn *h, char *buf, size_t len, int forwarded)
{
	const struct sockaddr *sa = (const struct sockaddr *)&h->h_peer.a_ss;
	char		 a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    a, sizeof(a));
		snprintf(buf, len, "%s", a);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->
		    sin6_addr, a, sizeof(a));
		snprintf(buf, len, forwarded ? "\"[%s]\"" : "%s", a);
	} else
		snprintf(buf, len, forwarded ? "unknown" : "unix");
}

int
edited(int resp, const struct http1_header *hd)
{
	size_t	 i;

	for (i = 0; i < cf.nedits; i++)
		if (cf.edits[i].ed_resp == resp &&
		    cf.edits[i].ed_op != EDIT_ADD &&
		    hd->hh_namelen == cf.edits[i].ed_namelen &&
		    strncasecmp(hd->hh_name, cf.edits[i].ed_name,
		    hd->hh_namelen) == 0)
			return (1);
	return (0);
}

/* Append the edits' lines for resp into buf at *n; -1 when full. */
int
add_edits(int resp, char *buf, size_t len, size_t *n)
{
	size_t	 i;

	for (i = 0; i < cf.nedits; i++) {
		if (cf.edits[i].ed_resp != resp || cf.edits[i].ed_op ==
		    EDIT_DEL)
			continue;
		if (*n + cf.edits[i].ed_linelen >= len)
			return (-1);
		memcpy(buf + *n, cf.edits[i].ed_line, cf.edits[i].ed_linelen);
		*n += cf.edits[i].ed_linelen;
	}
	return (0);
}

/* len bytes of s into buf at *n; -1 when they do not fit. */
static int
addb(char *buf, size_t len, size_t *n, const char *s, size_t slen)
{
	if (*n >= len || slen >= len - *n)
		return (-1);
	memcpy(buf + *n, s, slen);
	*n += slen;
	return (0);
}

/* The client's address, formatted once a connection. */
static const char *
client_ip1(struct hconn *h, size_t *len)
{
	if (h->h_iplen == 0) {
		client_ip(h, h->h_ip, sizeof(h->h_ip), 0);
		h->h_iplen = strlen(h->h_ip);
	}
	*len = h->h_iplen;
	return (h->h_ip);
}

/* printf into buf at *n; -1 when it does not fit. */
int
lh_addf(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	if (*n >= len)
		return (-1);
	va_start(ap, fmt);
	r = vsnprintf(buf + *n, len - *n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= len - *n)
		return (-1);
	*n += (size_t)r;
	return (0);
}

/*
 * The request as the backend gets it: the request line (rewritten when
 * the path is stripped or the target is absolute), the client's fields
 * but the hop-by-hop ones, X-Forwarded-* from us (the client's own
 * only from a trusted proxy), the edits, then what of the body came
 * with the head.  Returns 0, or -1 when it does not fit.
 */
static int
build_request(struct hconn *h)
{
	struct htx	*tx = h->h_tx;
	struct http1_req *rq = &tx->tx_req;
	struct flow	*up = &tx->tx_up;
	struct iovb	*b = &up->fl_out;
	const struct http1_header *hd;
	const char	*head = h->h_in + h->h_off, *path = rq->rq_path;
	const char	*lineend, *proto = h->h_tls ? "https" : "http", *ip;
	size_t		 n = 0, pathlen = rq->rq_pathlen, i, body, xff = 0;
	size_t		 iplen, xfp = 0, xfh = 0;
	int		 trust = cf.ntrust > 0 && trusted(&h->h_peer), hop;
	char		*a = tx->tx_add;
	const size_t	 alen = sizeof(tx->tx_add);

	iovb_init(b, up->fl_iov, LH_IOV_MAX);
	lineend = rq->rq_nhdr > 0 ? rq->rq_hdr[0].hh_line :
	    head + tx->tx_headlen - 2;
	path += tx->tx_strip;
	pathlen -= tx->tx_strip;
	if (rq->rq_minor != 1 || path != rq->rq_target ||
	    pathlen != rq->rq_targetlen || tx->tx_l7.lt_prefixlen > 0) {
		/* method SP origin-form SP HTTP/1.1; prefix= first */
		if (lh_addf(tx->tx_add, sizeof(tx->tx_add), &n, "%.*s %.*s%s%.*s "
		    "HTTP/1.1\r\n", (int)rq->rq_methodlen, rq->rq_method,
		    (int)tx->tx_l7.lt_prefixlen, tx->tx_l7b.lb_prefix,
		    tx->tx_l7.lt_prefixlen > 0 ? "" : pathlen == 0 ||
		    path[0] != '/' ? (path[0] == '*' && pathlen == 1 ? "" :
		    "/") : "", (int)pathlen, path) == -1)
			return (-1);
		iovb_add(b, tx->tx_add, n);
	} else {
		/* empty lines before the request line are not sent */
		iovb_add(b, rq->rq_method, (size_t)(lineend - rq->rq_method));
	}
	for (i = 0; i < rq->rq_nhdr; i++) {
		hd = &rq->rq_hdr[i];
		hop = http1_hop_flags(rq->rq_hdr, rq->rq_nhdr, rq->rq_flags,
		    hd);
		if (hop && tx->tx_upgrade && (hd->hh_id == HTTP1_F_CONNECTION ||
		    hd->hh_id == HTTP1_F_UPGRADE))
			hop = 0;	/* a websocket asks through them */
		if (hop && (rq->rq_flags & HTTP1_CHUNKED) &&
		    hd->hh_id == HTTP1_F_TRANSFER_ENCODING)
			hop = 0;	/* forwarded as it came */
		if (hop || (cf.nedits > 0 && edited(0, hd)) ||
		    cache_drop_field(h, hd))
			continue;
		if (tx->tx_l7.lt_hostlen > 0 && hd->hh_id == HTTP1_F_HOST)
			continue;	/* host=: ours below */
		if (tx->tx_l7.lt_sticky && hd->hh_id == HTTP1_F_OTHER &&
		    http1_is(hd, "cookie")) {
			if (sticky_request_cookie(h, hd, b) == -1)
				return (-1);
			continue;
		}
		switch (hd->hh_id) {
		case HTTP1_F_X_FORWARDED_FOR:
			if (trust)
				xff = 1;
			continue;
		case HTTP1_F_X_FORWARDED_PROTO:
			if (!trust)
				continue;
			xfp = 1;
			break;
		case HTTP1_F_X_FORWARDED_HOST:
			if (!trust)
				continue;
			xfh = 1;
			break;
		case HTTP1_F_FORWARDED:
			if (!trust || cf.forwarded)
				continue;	/* made again below, with us */
			break;
		}
		if (iovb_add(b, hd->hh_line, hd->hh_linelen) == -1)
			return (-1);
	}
	/* What we add goes after the request line in tx_add. */
	i = n;
	ip = client_ip1(h, &iplen);
	if (addb(a, alen, &n, "X-Forwarded-For: ", 17) == -1)
		return (-1);
	/* a trusted proxy's list, then its own address */
	for (size_t k = 0; xff && k < rq->rq_nhdr; k++)
		if (rq->rq_hdr[k].hh_id == HTTP1_F_X_FORWARDED_FOR &&
		    (addb(a, alen, &n, rq->rq_hdr[k].hh_value,
		    rq->rq_hdr[k].hh_valuelen) == -1 ||
		    addb(a, alen, &n, ", ", 2) == -1))
			return (-1);
	if (addb(a, alen, &n, ip, iplen) == -1 ||
	    addb(a, alen, &n, "\r\n", 2) == -1)
		return (-1);
	if (!xfp && (addb(a, alen, &n, "X-Forwarded-Proto: ", 19) == -1 ||
	    addb(a, alen, &n, proto, strlen(proto)) == -1 ||
	    addb(a, alen, &n, "\r\n", 2) == -1))
		return (-1);
	if (rq->rq_host != NULL && !xfh && (addb(a, alen, &n,
	    "X-Forwarded-Host: ", 18) == -1 || addb(a, alen, &n,
	    rq->rq_host, rq->rq_hostlen) == -1 ||
	    addb(a, alen, &n, "\r\n", 2) == -1))
		return (-1);
	if (cf.forwarded) {
		char	 fip[INET6_ADDRSTRLEN + 8];
		int	 k;

		client_ip(h, fip, sizeof(fip), 1);
		if (lh_addf(tx->tx_add, sizeof(tx->tx_add), &n, "Forwarded: ") ==
		    -1)
			return (-1);
		if (trust)
			for (k = 0; (k = http1_find(rq, "forwarded",
			    (size_t)k)) != -1; k++)
				if (lh_addf(tx->tx_add, sizeof(tx->tx_add), &n,
				    "%.*s, ", (int)rq->rq_hdr[k].hh_valuelen,
				    rq->rq_hdr[k].hh_value) == -1)
					return (-1);
		if (lh_addf(tx->tx_add, sizeof(tx->tx_add), &n, "for=%s;proto=%s",
		    fip, proto) == -1 || (rq->rq_host != NULL &&
		    lh_addf(tx->tx_add, sizeof(tx->tx_add), &n, ";host=\"%.*s\"",
		    (int)rq->rq_hostlen, rq->rq_host) == -1) ||
		    lh_addf(tx->tx_add, sizeof(tx->tx_add), &n, "\r\n") == -1)
			return (-1);
	}
	/* HTTP/1.0 may come without a Host; the backend gets one. */
	if (tx->tx_l7.lt_hostlen > 0) {
		if (lh_addf(tx->tx_add, sizeof(tx->tx_add), &n, "Host: %.*s\r\n",
		    (int)tx->tx_l7.lt_hostlen, tx->tx_l7b.lb_host) == -1)
			return (-1);
	} else if (rq->rq_host == NULL && lh_addf(tx->tx_add, sizeof(tx->tx_add),
	    &n, "Host: \r\n") == -1)
		return (-1);
	else if (rq->rq_host != NULL && (rq->rq_flags & HTTP1_ABSOLUTE) &&
	    http1_find(rq, "host", 0) == -1 &&
	    lh_addf(tx->tx_add, sizeof(tx->tx_add), &n, "Host: %.*s\r\n",
	    (int)rq->rq_hostlen, rq->rq_host) == -1)
		return (-1);
	if (add_edits(0, tx->tx_add, sizeof(tx->tx_add), &n) == -1 ||
	    addb(a, alen, &n, "\r\n", 2) == -1)
		return (-1);
	if (iovb_add(b, tx->tx_add + i, n - i) == -1)
		return (-1);
	/* The body that came with the head. */
	body = h->h_inlen - h->h_off - tx->tx_headlen;
	if (up->fl_mode == FL_CLEN) {
		if (body > up->fl_left)
			body = (size_t)up->fl_left;
		up->fl_left -= body;
		if (up->fl_left == 0)
			up->fl_done = 1;
	} else if (up->fl_mode == FL_CHUNKED) {
		ssize_t c = http1_chunk_feed(&up->fl_ck, head + tx->tx_headlen,
		    body, NULL, NULL);

		if (c == -1)
			return (-2);
		body = (size_t)c;
		up->fl_done = up->fl_ck.ck_done;
	} else
		body = 0;
	tx->tx_bodyin += body;
	if (iovb_add(b, head + tx->tx_headlen, body) == -1)
		return (-1);
	/* The head and that much of the body are spoken for. */
	h->h_off += tx->tx_headlen + body;
	return (0);
}

/* A retry is safe when no byte was sent, or the request is idempotent. */
static int
retryable(const struct htx *tx)
{
	if (tx->tx_retried >= cf.dial.dc_retries || tx->tx_dnstate != DN_WAIT)
		return (0);
	if (tx->tx_sent == 0)
		return (1);
	return (tx->tx_idem && tx->tx_up.fl_mode == FL_NONE);
}

static void	tx_dialed(struct dial *d, int result);

/*
 * The backend connection broke before any byte of the response: try
 * another backend when the request may be sent again, else 502.
 */
static void
backend_broke(struct hconn *h, int end, int reused)
{
	struct htx	*tx = h->h_tx;
	struct bconn	*b = tx->tx_b;

	if (retryable(tx) && tx->tx_ttfb == 0) {
		log_info("%s: %s before answering: trying again",
		    tx->tx_dial.d_pick.bp_name, reused ? "an idle connection "
		    "closed" : "the connection closed");
		tx->tx_retried++;
		tx->tx_b = NULL;
		bconn_close(b, 0);
		/* The head is built again from the buffer. */
		h->h_off -= tx->tx_headlen + (size_t)tx->tx_bodyin;
		tx->tx_bodyin = 0;
		tx->tx_sent = 0;
		flow_init(&tx->tx_up);
		if (tx->tx_req.rq_clen > 0) {
			tx->tx_up.fl_mode = FL_CLEN;
			tx->tx_up.fl_left = (uint64_t)tx->tx_req.rq_clen;
		}
		dial_again(&tx->tx_dial, !reused);
		return;
	}
	if (tx->tx_ttfb != 0 || tx->tx_dnstate != DN_WAIT) {
		/* Part of the response went out: all we can do is close. */
		tx->tx_end = end;
		tx->tx_close = tx->tx_bclose = 1;
		tx_finish(h);
		return;
	}
	tx_respond(h, 502, "the backend closed the connection before "
	    "answering", end, 0);
}

/* The name or address the backend is reached as over TLS. */
static const char *
btls_host(const struct htx *tx)
{
	return (tx->tx_bsni[0] ? tx->tx_bsni : tx->tx_dial.d_pick.bp_host);
}

/* The server name sent for host: none for an address (RFC 6066). */
static const char *
btls_sni(const char *host)
{
	unsigned char	 ip[16];

	if (*host == '\0' || inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1)
		return (NULL);
	return (host);
}

static int
same_name(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcasecmp(a, b) == 0);
}

/*
 * Whether the TLS connection b serves tx's route: made for the same
 * name, and verified if the route verifies.
 */
static int
btls_same(struct bconn *b, const struct htx *tx)
{
	if (b->b_noverify != tx->tx_bnoverify)
		return (0);
	return (same_name(SSL_get_servername(b->b_io.io_ssl,
	    TLSEXT_NAMETYPE_host_name), btls_sni(btls_host(tx))));
}

/*
 * A backend's new TLS session (from OpenSSL, in an SSL call on the
 * worker's thread): kept by its slot, to resume the next connection's
 * handshake, as HAProxy does.  Returns 1: the session is ours.
 */
int
btls_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct bconn	*b = SSL_get_app_data(ssl);
	struct wtab	*wt;
	struct wsess	*ws;
	uint32_t	 cap;

	if (b == NULL || (wt = b->b_wt) == NULL ||
	    b->b_slot >= (cap = table_capacity(wt->wt_t)))
		return (0);
	if (wt->wt_sess == NULL &&
	    (wt->wt_sess = calloc(cap, sizeof(*wt->wt_sess))) == NULL)
		return (0);
	ws = &wt->wt_sess[b->b_slot];
	SSL_SESSION_free(ws->ws_sess);
	ws->ws_uid = b->b_uid;
	ws->ws_sess = sess;
	ws->ws_noverify = b->b_noverify;
	return (1);
}

/* The session to resume b's handshake with, if one of tx's kind is. */
static SSL_SESSION *
btls_old_session(struct bconn *b, const struct htx *tx)
{
	struct wsess	*ws;
	SSL_SESSION	*s;

	if (b->b_wt->wt_sess == NULL)
		return (NULL);
	ws = &b->b_wt->wt_sess[b->b_slot];
	if ((s = ws->ws_sess) == NULL || ws->ws_uid != b->b_uid ||
	    ws->ws_noverify != tx->tx_bnoverify ||
	    !same_name(SSL_SESSION_get0_hostname(s), btls_sni(btls_host(tx))) ||
	    !SSL_SESSION_is_resumable(s))
		return (NULL);
	return (s);
}

/* Forget the session of b's slot: it did not take. */
static void
btls_forget(struct bconn *b)
{
	struct wsess	*ws;

	if (b->b_wt->wt_sess == NULL)
		return;
	ws = &b->b_wt->wt_sess[b->b_slot];
	if (ws->ws_uid != b->b_uid)
		return;
	SSL_SESSION_free(ws->ws_sess);
	ws->ws_sess = NULL;
}

/*
 * HTTPS to the backend: a client TLS connection on b, with the route's
 * name for SNI and the check, else the backend's host name (an address
 * is checked as one), resuming its last session when there is one.  The
 * handshake is part of the connect, and has its time (-T connect).
 */
static void
btls_start(struct hconn *h, struct bconn *b)
{
	struct htx	*tx = h->h_tx;
	SSL_SESSION	*sess;
	SSL		*ssl;
	char		 why[300];

	if ((ssl = tlsctx_conn(tx->tx_bnoverify ? cf.bctx_noverify : cf.bctx,
	    b->b_io.io_fd, btls_host(tx), why, sizeof(why))) == NULL) {
		log_warnx("%s: TLS: %s", tx->tx_dial.d_pick.bp_name, why);
		tx->tx_b = NULL;
		bconn_close(b, 1);
		tx_respond(h, 502, "TLS to the backend could not start",
		    END_ERROR, 0);
		return;
	}
	SSL_set_app_data(ssl, b);
	if ((sess = btls_old_session(b, tx)) != NULL)
		SSL_set_session(ssl, sess);
	b->b_io.io_ssl = ssl;
	b->b_tls = 1;
	b->b_hs = 1;
	b->b_noverify = tx->tx_bnoverify;
	set_timer(h, cf.dial.dc_conn_ms);
	btls_step(h, b);
}

/* The backend's handshake failed (why): a failed connect, the next one. */
static void
btls_fail(struct hconn *h, struct bconn *b, const char *why)
{
	struct htx	*tx = h->h_tx;

	log_info("%s: TLS: %s", tx->tx_dial.d_pick.bp_name, why);
	b->b_hs = 0;
	btls_forget(b);
	evtimer_cancel(h->h_w->w_ev, &h->h_timer);
	tx->tx_b = NULL;
	bconn_close(b, 1);
	dial_again(&tx->tx_dial, 1);
}

/* The backend's handshake goes on; when done, the request goes. */
static void
btls_step(struct hconn *h, struct bconn *b)
{
	char		 why[200];
	int		 want, r;

	if ((r = tlsctx_handshake(b->b_io.io_ssl, &want, why,
	    sizeof(why))) == -2)
		return;
	if (r == -1) {
		btls_fail(h, b, why);
		return;
	}
	b->b_hs = 0;
	evtimer_cancel(h->h_w->w_ev, &h->h_timer);
	tx_backend_ready(h);
}

static void
tx_dialed(struct dial *d, int result)
{
	struct hconn	*h = d->d_arg;
	struct htx	*tx = h->h_tx;
	struct bconn	*b;

	switch (result) {
	case DIAL_OK:
		break;
	case DIAL_QUEUE_FULL:
		tx_respond(h, 503, "every backend is full", END_QUEUE_FULL, 0);
		return;
	case DIAL_QUEUE_TIMEOUT:
		tx_respond(h, 503, "every backend stayed full",
		    END_QUEUE_TIMEOUT, 0);
		return;
	case DIAL_CONNECT_FAIL:
		tx_respond(h, 503, "no backend could be reached",
		    END_CONNECT_FAIL, 0);
		return;
	case DIAL_NO_BACKEND:
		tx_respond(h, 503, "no backend for this request",
		    END_NO_BACKEND, 0);
		return;
	default:
		tx_respond(h, 503, "out of resources", END_ERROR, 0);
		return;
	}
	if (!d->d_reused) {
		if ((b = bconn_new(h, d->d_fd)) == NULL) {
			close(d->d_fd);
			evloop_forget(h->h_w->w_ev, d->d_fd);
			d->d_fd = -1;
			tx_respond(h, 503, "out of memory", END_ERROR, 0);
			return;
		}
		b->b_h = h;
		tx->tx_b = b;
		b->b_rd = b->b_wr = 1;
		if (d->d_known) {
			b->b_rd = (d->d_seen & (EVLOOP_READ | EVLOOP_HUP)) != 0;
			b->b_wr = (d->d_seen & (EVLOOP_WRITE | EVLOOP_HUP)) != 0;
		}
		evloop_handler(h->h_w->w_ev, d->d_fd, bconn_event, b);
		if (cf.proxy_out) {
			char	 pp[PROXYPROTO_WRITE_MAX];
			ssize_t	 n;

			/* Small, first, and on a fresh socket: it goes at once. */
			n = proxyproto_write(cf.proxy_out,
			    (const struct sockaddr *)&h->h_peer.a_ss,
			    (const struct sockaddr *)&h->h_local.a_ss, pp,
			    sizeof(pp));
			if (n <= 0 || send(d->d_fd, pp, (size_t)n,
			    MSG_NOSIGNAL) != n) {
				tx->tx_b = NULL;
				bconn_close(b, 1);
				tx_respond(h, 502, "the PROXY header could not "
				    "be sent", END_ERROR, 0);
				return;
			}
		}
	}
	b = tx->tx_b;
	b->b_uid = d->d_pick.bp_uid;
	b->b_slot = d->d_pick.bp_slot;
	b->b_wt = tx->tx_wt;
	if (!d->d_reused && tx->tx_btls) {
		btls_start(h, b);	/* tx_backend_ready() once it is done */
		return;
	}
	tx_backend_ready(h);
}

/* The backend connection is ready (connected, TLS done): send. */
static void
tx_backend_ready(struct hconn *h)
{
	struct htx	*tx = h->h_tx;
	int		 r;

	if ((r = build_request(h)) != 0) {
		tx_respond(h, r == -2 ? 400 : 431, r == -2 ? "bad chunked "
		    "body" : "the request head is too large to forward",
		    END_BAD_REQUEST, 1);
		return;
	}
	tx->tx_blast = evloop_now(h->h_w->w_ev);
	tx_run(h);
}

/*
 * Whether a path (up to its query) has a "." or ".." segment, as sent or
 * with its dots percent-encoded.  Rules match the path as sent, and a
 * backend that resolves "/app/../admin" would serve what no rule sent it
 * to: such a request is refused, not guessed at (clients remove dot
 * segments before they send, RFC 3986 section 5.2.4).
 */
static int
dot_segments(const char *p, size_t len)
{
	size_t	 i, dots, other;

	for (i = 0; i < len && p[i] != '?'; ) {
		if (p[i] != '/') {
			i++;
			continue;
		}
		dots = other = 0;
		for (i++; i < len && p[i] != '/' && p[i] != '?'; ) {
			if (p[i] == '.') {
				dots++;
				i++;
			} else if (p[i] == '%' && i + 2 < len && p[i + 1] ==
			    '2' && (p[i + 2] == 'e' || p[i + 2] == 'E')) {
				dots++;
				i += 3;
			} else {
				other++;
				i++;
			}
		}
		if (other == 0 && (dots == 1 || dots == 2))
			return (1);
	}
	return (0);
}

/*
 * A head is in h_in at h_off: parse it, check it, route it, and dial.
 */
static void
tx_begin(struct hconn *h, int headlen)
{
	struct hw	*w = h->h_w;
	struct htx	*tx;
	struct http1_req *rq;
	struct rules	*rs;
	const struct rule *ru;
	size_t		 tab;
	int		 r, i;

	if (tx_get(h) == -1) {
		hconn_close(h, 1);
		return;
	}
	tx = h->h_tx;
	rq = &tx->tx_req;
	memset(tx, 0, offsetof(struct htx, tx_req));
	flow_init(&tx->tx_up);
	flow_init(&tx->tx_dn);
	memset(&tx->tx_dial, 0, sizeof(tx->tx_dial));
	tx->tx_on = 1;
	tx->tx_start = evloop_now(w->w_ev);
	tx->tx_headlen = (size_t)headlen;
	tx->tx_dnstate = DN_WAIT;
	h->h_state = HC_TX;
	h->h_nreq++;
	evtimer_cancel(w->w_ev, &h->h_timer);
	rq->rq_hdr = h->h_hdr;
	rq->rq_nhdr = cf.z_fields;
	r = http1_parse_request(h->h_in + h->h_off, (size_t)headlen, rq);
	tx->tx_client11 = rq->rq_minor >= 1;
	if (r < 0) {
		/* What the log shows of a head that did not parse. */
		if (rq->rq_method == NULL)
			rq->rq_methodlen = 0;
		if (rq->rq_path == NULL)
			rq->rq_pathlen = 0;
		keep_logf(tx);
		tx_respond(h, http1_error_status(rq->rq_error),
		    http1_error_str(rq->rq_error), END_BAD_REQUEST, 1);
		return;
	}
	keep_logf(tx);
	tx->tx_head = rq->rq_methodlen == 4 && memcmp(rq->rq_method, "HEAD",
	    4) == 0;
	tx->tx_idem = http1_idempotent(rq->rq_method, rq->rq_methodlen);
	tx->tx_close = (rq->rq_flags & HTTP1_CLOSE) != 0;
	if (rq->rq_targetlen > cf.z_target) {
		tx_respond(h, 414, "the request target is too long",
		    END_BAD_REQUEST, 1);
		return;
	}
	if (dot_segments(rq->rq_path, rq->rq_pathlen)) {
		tx_respond(h, 400, "a path with . or .. segments",
		    END_BAD_REQUEST, 1);
		return;
	}
	if (rq->rq_methodlen == 7 && memcmp(rq->rq_method, "CONNECT", 7) ==
	    0) {
		tx_respond(h, 405, "CONNECT is not served here",
		    END_BAD_REQUEST, 1);
		return;
	}
	if (rq->rq_flags & HTTP1_EXPECT) {
		tx_respond(h, 417, "only 100-continue is understood",
		    END_BAD_REQUEST, 1);
		return;
	}
	if ((rq->rq_flags & HTTP1_UPGRADE) && (i = http1_find(rq, "upgrade",
	    0)) != -1 && http1_list_has(rq->rq_hdr[i].hh_value,
	    rq->rq_hdr[i].hh_valuelen, "websocket") && tx->tx_client11)
		tx->tx_upgrade = 1;
	/* The body: Content-Length, chunked, or none. */
	if (rq->rq_flags & HTTP1_CHUNKED)
		tx->tx_up.fl_mode = FL_CHUNKED;
	else if (rq->rq_clen > 0) {
		tx->tx_up.fl_mode = FL_CLEN;
		tx->tx_up.fl_left = (uint64_t)rq->rq_clen;
	} else
		tx->tx_up.fl_done = 1;
	/* The route: the most specific rule, or the default. */
	rules_follow(w);
	rs = w->w_rules;
	if (tableset_version(cf.ts) != w->w_ver ||
	    tableset_count(cf.ts) != w->w_ntab)
		wtab_follow(w);
	ru = rules_match(rs, rq->rq_host, rq->rq_hostlen, rq->rq_path,
	    rq->rq_pathlen);
	/* A rule may answer itself: a redirect, a fixed response. */
	if ((r = l7_answer(h, ru)) == 1)
		return;
	if (r == 2)
		ru = NULL;
	if (ru != NULL) {
		/* What the exchange needs of it: the rules may change. */
		tab = ru->ru_tab;
		tx->tx_strip = ru->ru_strip ? ru->ru_pathlen : 0;
		tx->tx_btls = ru->ru_tls;
		tx->tx_bnoverify = ru->ru_noverify;
		if (ru->ru_sni != NULL)
			strlcpy(tx->tx_bsni, ru->ru_sni, sizeof(tx->tx_bsni));
		else
			tx->tx_bsni[0] = '\0';
		strlcpy(tx->tx_route, ru->ru_text, sizeof(tx->tx_route));
	} else if (cf.has_def) {
		tab = cf.def_tab;
		memcpy(tx->tx_route, "-", 2);
	} else {
		memcpy(tx->tx_route, "-", 2);
		tx_respond(h, 404, "no route for this host and path",
		    END_NO_ROUTE, 0);
		return;
	}
	if (tab >= w->w_ntab) {
		tx_respond(h, 503, "the route's table is not ready",
		    END_ERROR, 0);
		return;
	}
	tx->tx_wt = w->w_tab[tab];
	tx->tx_wt->wt_uses++;
	/* Rewrites; the hash key and the sticky cookie's pin. */
	rewrite_begin(h, ru);
	sticky_begin(h, ru, &tx->tx_hkey, &tx->tx_hkeylen);
	/* The cache may answer, or make it wait for another's fetch. */
	if (cf.cache_size > 0 && cache_begin(h, tab, ru != NULL &&
	    ru->ru_nocache) == 1)
		return;
	tx_to_backend(h);
}

/* The exchange, routed, goes to a backend of its table. */
void
tx_to_backend(struct hconn *h)
{
	struct htx	*tx = h->h_tx;

	tx->tx_dial.d_arg = h;
	tx->tx_dial.d_reuse = reuse_hook;
	dial_start(&tx->tx_dial, &tx->tx_wt->wt_q, tx->tx_hkey,
	    tx->tx_hkeylen, tx_dialed);
}

/* ---- moving bytes ---- */

/*
 * Write what out holds to io; moves *bytes.  Returns 1 when all is out,
 * 0 to wait for writable, -1 on an error (errno).
 */
static int
flush_out(struct io *io, uint8_t *wr, struct flow *f)
{
	ssize_t	 n;

	while (f->fl_out.ib_len > 0) {
		if (!*wr)
			return (0);
		n = io_writev(io, f->fl_out.ib_v, f->fl_out.ib_n);
		if (n == -1) {
			if (errno == EAGAIN) {
				*wr = 0;
				return (0);
			}
			return (-1);
		}
		f->fl_bytes += (uint64_t)n;
		iovb_consume(&f->fl_out, (size_t)n);
	}
	return (1);
}

/*
 * splice a long Content-Length body from src to dst through a pipe.
 * Returns 1 when the body is through, 0 to wait, -1 on an error from
 * the side in *who (0: src, 1: dst), -2 at an early EOF of src.
 */
static int
splice_body(struct hw *w, struct flow *f, struct io *src, uint8_t *rd,
    uint8_t *drain, struct io *dst, uint8_t *wr, int *who)
{
	ssize_t	 n;
	size_t	 want;

	for (;;) {
		if (f->fl_pending > 0) {
			if (!*wr)
				return (0);
			n = splice(f->fl_pipe[0], NULL, dst->io_fd, NULL,
			    f->fl_pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				f->fl_pending -= (size_t)n;
				f->fl_bytes += (uint64_t)n;
				continue;
			}
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno == EAGAIN) {
				*wr = 0;
				return (0);
			}
			*who = 1;
			return (-1);
		}
		if (f->fl_left == 0) {
			f->fl_done = 1;
			flow_fini(w, f);
			return (1);
		}
		if (!*rd)
			return (0);
		want = f->fl_left < w->w_relay.rc_pipesz ? (size_t)f->fl_left :
		    w->w_relay.rc_pipesz;
		n = splice(src->io_fd, NULL, f->fl_pipe[1], NULL, want,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			f->fl_pending += (size_t)n;
			f->fl_left -= (uint64_t)n;
			continue;
		}
		if (n == 0)
			return (-2);
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			*rd = 0;
			*drain = 0;
			return (0);
		}
		*who = 0;
		return (-1);
	}
}

/*
 * The request's body, after its head went out: read from the client
 * into h_in and pass on, or splice when long.  Returns 0 while it goes
 * on (or is done), -1 when the exchange ended.
 */
static int
up_body(struct hconn *h)
{
	struct hw	*w = h->h_w;
	struct htx	*tx = h->h_tx;
	struct flow	*up = &tx->tx_up;
	struct bconn	*b = tx->tx_b;
	ssize_t		 n, c;
	size_t		 room, part;
	int		 r, who = 0;

	for (;;) {
		if ((r = flush_out(&b->b_io, &b->b_wr, up)) == -1) {
			backend_broke(h, END_SERVER_RESET, 0);
			return (-1);
		}
		if (r == 0 || up->fl_done)
			return (0);
		tx->tx_sent = up->fl_bytes;
		/* All buffered bytes went: the buffer is for the body now. */
		in_compact(h);
		/*
		 * Spliced when a pipe is to be had; else copied.  Once
		 * spliced, spliced to the end: the pipe may still hold
		 * bytes when what is left is too little to start with.
		 */
		if (up->fl_pipe[0] != -1 || (up->fl_mode == FL_CLEN &&
		    up->fl_left >= SPLICE_MIN && h->h_inlen == 0 &&
		    io_plain(&h->h_io) && io_plain(&b->b_io) &&
		    relay_pipe_get(&w->w_relay, up->fl_pipe) == 0)) {
			uint64_t before = up->fl_bytes;
			r = splice_body(w, up, &h->h_io, &h->h_rd, &h->h_drain,
			    &b->b_io, &b->b_wr, &who);
			tx->tx_bodyin += up->fl_bytes - before;
			tx->tx_rate_bytes += up->fl_bytes - before;
			if (r == 1 || r == 0)
				return (0);
			if (r == -2 || who == 0) {
				tx->tx_end = r == -2 ? END_CLIENT_CLOSE :
				    END_CLIENT_RESET;
				tx->tx_close = tx->tx_bclose = 1;
				tx_finish(h);
				return (-1);
			}
			backend_broke(h, END_SERVER_RESET, 0);
			return (-1);
		}
		if (h->h_inlen > h->h_off) {
			/* Read before: the next bytes are the body's. */
			part = h->h_inlen - h->h_off;
			goto classify;
		}
		if (!h->h_rd)
			return (0);
		room = cf.z_head - h->h_inlen;
		if (up->fl_mode == FL_CLEN && room > up->fl_left)
			room = (size_t)up->fl_left;
		if (room == 0)
			room = 1;
		n = io_read(&h->h_io, h->h_in + h->h_inlen, room);
		if (n <= 0) {
			if (n == -1 && errno == EAGAIN) {
				h->h_rd = 0;
				h->h_drain = 0;
				return (0);
			}
			tx->tx_end = n == 0 ? END_CLIENT_CLOSE :
			    END_CLIENT_RESET;
			tx->tx_close = tx->tx_bclose = 1;
			tx_finish(h);
			return (-1);
		}
		/* Short: drained (TLS: OpenSSL may hold more; read on). */
		if ((size_t)n < room && !h->h_drain && !h->h_tls)
			h->h_rd = 0;
		h->h_last = evloop_now(w->w_ev);
		h->h_inlen += (size_t)n;
		part = (size_t)n;
 classify:
		if (up->fl_mode == FL_CLEN) {
			if (part > up->fl_left)
				part = (size_t)up->fl_left;
			up->fl_left -= part;
			if (up->fl_left == 0)
				up->fl_done = 1;
		} else {
			c = http1_chunk_feed(&up->fl_ck, h->h_in + h->h_off,
			    part, NULL, NULL);
			if (c == -1) {
				tx_respond(h, 400, "bad chunked body",
				    END_BAD_REQUEST, 1);
				return (-1);
			}
			part = (size_t)c;
			up->fl_done = up->fl_ck.ck_done;
		}
		tx->tx_bodyin += part;
		tx->tx_rate_bytes += part;
		iovb_add(&up->fl_out, h->h_in + h->h_off, part);
		h->h_off += part;
	}
}

/* take the chunk framing off, for a 1.0 client: data moves down */
struct dechunk {
	char	*dc_to;
	size_t	 dc_n;
};

static void
dechunk_fn(void *arg, const char *p, size_t n)
{
	struct dechunk	*dc = arg;

	memmove(dc->dc_to + dc->dc_n, p, n);
	dc->dc_n += n;
}

/*
 * The response head is in tx_bin: as the client gets it, the
 * hop-by-hop fields out, and the body that came with it.
 */
static int
build_response(struct hconn *h, const struct http1_resp *rs, size_t hl)
{
	struct htx	*tx = h->h_tx;
	struct flow	*dn = &tx->tx_dn;
	struct iovb	*b = &dn->fl_out;
	const struct http1_header *hd;
	const char	*line = tx->tx_bin + tx->tx_binoff;
	size_t		 n = 0, i, body, linelen;
	int		 interim = rs->rs_status < 200, keepte, hop;

	iovb_init(b, dn->fl_iov, LH_IOV_MAX);
	linelen = rs->rs_nhdr > 0 ? (size_t)(rs->rs_hdr[0].hh_line - line) :
	    hl - 2;
	/* HTTP/1.1 on the status line: that is what we speak. */
	if (rs->rs_minor != 1) {
		iovb_add(b, "HTTP/1.1", 8);
		iovb_add(b, line + 8, linelen - 8);
	} else
		iovb_add(b, line, linelen);
	keepte = dn->fl_mode == FL_CHUNKED && tx->tx_client11;
	for (i = 0; i < rs->rs_nhdr; i++) {
		hd = &rs->rs_hdr[i];
		hop = http1_hop_flags(rs->rs_hdr, rs->rs_nhdr, rs->rs_flags,
		    hd);
		if (hop && keepte && hd->hh_id == HTTP1_F_TRANSFER_ENCODING)
			hop = 0;
		if (hop && rs->rs_status == 101 && (hd->hh_id ==
		    HTTP1_F_CONNECTION || hd->hh_id == HTTP1_F_UPGRADE))
			hop = 0;
		if (hop || (cf.nedits > 0 && edited(1, hd)))
			continue;
		if (iovb_add(b, hd->hh_line, hd->hh_linelen) == -1)
			return (-1);
	}
	if (!interim && sticky_response(h, b) == -1)
		return (-1);
	if (!interim) {
		if (tx->tx_close)
			addb(tx->tx_radd, sizeof(tx->tx_radd), &n,
			    "Connection: close\r\n", 19);
		else if (!tx->tx_client11)
			addb(tx->tx_radd, sizeof(tx->tx_radd), &n,
			    "Connection: keep-alive\r\n", 24);
		if (add_edits(1, tx->tx_radd, sizeof(tx->tx_radd), &n) == -1)
			return (-1);
	}
	if (addb(tx->tx_radd, sizeof(tx->tx_radd), &n, "\r\n", 2) == -1)
		return (-1);
	/* tx_radd fills only once a final head comes: 1xx use a CRLF */
	if (interim)
		iovb_add(b, "\r\n", 2);
	else
		iovb_add(b, tx->tx_radd, n);
	tx->tx_binoff += hl;
	if (interim)
		return (0);
	body = tx->tx_binlen - tx->tx_binoff;
	return (body > 0 ? 1 : 0);
}

/*
 * Classify bytes of the response body at tx_bin + tx_binoff (part of
 * them), into what goes to the client; extra bytes past the body mean
 * the backend is not to be trusted with another request.
 */
static int
dn_take(struct hconn *h, size_t part)
{
	struct htx	*tx = h->h_tx;
	struct flow	*dn = &tx->tx_dn;
	char		*p = tx->tx_bin + tx->tx_binoff;
	struct dechunk	 dc;
	ssize_t		 c;

	/* Bytes as they came, before a 1.0 client's are moved. */
	if (tx->tx_c.ct_fill != NULL)
		cache_body(h, p, part);
	switch (dn->fl_mode) {
	case FL_CLEN:
		if (part > dn->fl_left) {
			tx->tx_bclose = 1;
			part = (size_t)dn->fl_left;
		}
		dn->fl_left -= part;
		if (dn->fl_left == 0)
			dn->fl_done = 1;
		iovb_add(&dn->fl_out, p, part);
		break;
	case FL_CHUNKED:
		if (tx->tx_client11) {
			c = http1_chunk_feed(&dn->fl_ck, p, part, NULL, NULL);
			if (c == -1)
				return (-1);
			iovb_add(&dn->fl_out, p, (size_t)c);
		} else {
			/* For HTTP/1.0: the data alone, moved down in place. */
			dc.dc_to = p;
			dc.dc_n = 0;
			c = http1_chunk_feed(&dn->fl_ck, p, part, dechunk_fn,
			    &dc);
			if (c == -1)
				return (-1);
			iovb_add(&dn->fl_out, p, dc.dc_n);
		}
		if ((size_t)c < part)
			tx->tx_bclose = 1;
		part = (size_t)c;
		dn->fl_done = dn->fl_ck.ck_done;
		break;
	case FL_CLOSE:
		iovb_add(&dn->fl_out, p, part);
		break;
	default:
		if (part > 0)
			tx->tx_bclose = 1;
		part = 0;
		break;
	}
	tx->tx_binoff += part;
	return (0);
}

/* A response head came whole: check it, frame its body, build it. */
static int
dn_head(struct hconn *h, size_t hl)
{
	struct htx	*tx = h->h_tx;
	struct flow	*dn = &tx->tx_dn;
	struct http1_resp rs;
	struct http1_header *hdr;
	int		 r;

	hdr = (struct http1_header *)(void *)(tx->tx_bin + cf.z_head);
	rs.rs_hdr = hdr;
	rs.rs_nhdr = cf.z_fields;
	r = http1_parse_response(tx->tx_bin + tx->tx_binoff, hl, &rs);
	if (r < 0) {
		log_info("%s: bad response: %s", tx->tx_dial.d_pick.bp_name,
		    http1_error_str(rs.rs_error));
		tx->tx_bclose = 1;
		tx_respond(h, 502, "the backend's response was malformed",
		    END_BAD_RESPONSE, 0);
		return (-1);
	}
	if (rs.rs_status < 200 && rs.rs_status != 101) {
		/* 1xx: to a 1.1 client as they come; a 1.0 one gets none. */
		if (!tx->tx_client11) {
			tx->tx_binoff += hl;
			return (0);
		}
		return (build_response(h, &rs, hl) == -1 ? -1 : 0);
	}
	tx->tx_status = rs.rs_status;
	if (rs.rs_flags & HTTP1_CLOSE)
		tx->tx_bclose = 1;
	if (cf.cache_size > 0)
		cache_head(h, &rs);
	if (rs.rs_status == 101) {
		if (!tx->tx_upgrade) {
			tx->tx_bclose = 1;
			tx_respond(h, 502, "the backend switched protocols "
			    "unasked", END_BAD_RESPONSE, 0);
			return (-1);
		}
		dn->fl_mode = FL_CLOSE;
		tx->tx_dnstate = DN_TUNNEL;
	} else if (tx->tx_head || rs.rs_status == 204 || rs.rs_status == 304) {
		dn->fl_mode = FL_NONE;
		dn->fl_done = 1;
	} else if (rs.rs_flags & HTTP1_CHUNKED) {
		dn->fl_mode = FL_CHUNKED;
		if (!tx->tx_client11)
			tx->tx_close = 1;
	} else if (rs.rs_clen >= 0) {
		dn->fl_mode = FL_CLEN;
		dn->fl_left = (uint64_t)rs.rs_clen;
		dn->fl_done = rs.rs_clen == 0;
	} else {
		/* Only the backend's close ends it: so does ours. */
		dn->fl_mode = FL_CLOSE;
		tx->tx_close = tx->tx_bclose = 1;
	}
	/* A body still on its way up: we will not read the rest. */
	if (!tx->tx_up.fl_done)
		tx->tx_close = tx->tx_bclose = 1;
	if (worker_stopping(h->h_w->w_worker))
		tx->tx_close = 1;
	if ((r = build_response(h, &rs, hl)) == -1) {
		tx->tx_bclose = 1;
		tx_respond(h, 502, "the backend's response is too large to "
		    "forward", END_BAD_RESPONSE, 0);
		return (-1);
	}
	if (tx->tx_dnstate != DN_TUNNEL)
		tx->tx_dnstate = DN_BODY;
	if (r == 1 && tx->tx_dnstate == DN_BODY &&
	    dn_take(h, tx->tx_binlen - tx->tx_binoff) == -1) {
		tx->tx_close = tx->tx_bclose = 1;
	}
	return (0);
}

static int
bin_get(struct hconn *h)
{
	struct htx	*tx = h->h_tx;

	if (tx->tx_bin != NULL)
		return (0);
	if ((tx->tx_bin = buf_get(&h->h_w->w_bufs)) == NULL)
		return (-1);
	tx->tx_binlen = tx->tx_binoff = tx->tx_bscanned = 0;
	return (0);
}

/*
 * The response, from the backend to the client.  Returns 0 while it
 * goes on, 1 when it is through, -1 when the exchange ended.
 */
static int
dn_run(struct hconn *h)
{
	struct hw	*w = h->h_w;
	struct htx	*tx = h->h_tx;
	struct flow	*dn = &tx->tx_dn;
	struct bconn	*b = tx->tx_b;
	ssize_t		 n;
	size_t		 room;
	int		 r, hl, who = 0;

	for (;;) {
		if ((r = flush_out(&h->h_io, &h->h_wr, dn)) == -1) {
			tx->tx_end = END_CLIENT_RESET;
			tx->tx_close = 1;
			tx_finish(h);
			return (-1);
		}
		if (r == 0)
			return (0);
		h->h_last = evloop_now(w->w_ev);
		if (tx->tx_dnstate == DN_TUNNEL)
			return (1);
		if (dn->fl_done && tx->tx_dnstate == DN_BODY)
			return (1);
		if (b == NULL)
			return (0);
		/* Everything in the buffer went out: it is free again. */
		if (tx->tx_binoff == tx->tx_binlen && tx->tx_dnstate ==
		    DN_BODY) {
			tx->tx_binoff = tx->tx_binlen = 0;
			tx->tx_bscanned = 0;
		}
		if (tx->tx_dnstate == DN_WAIT && tx->tx_binoff ==
		    tx->tx_binlen && tx->tx_binlen > 0) {
			tx->tx_binoff = tx->tx_binlen = tx->tx_bscanned = 0;
		}
		if (tx->tx_dnstate == DN_WAIT && tx->tx_binlen >
		    tx->tx_binoff) {
			/* A head, or what is left after a 1xx. */
			size_t sc = tx->tx_bscanned;

			hl = http1_head_len(tx->tx_bin + tx->tx_binoff,
			    tx->tx_binlen - tx->tx_binoff, &sc);
			tx->tx_bscanned = sc;
			if (hl > 0) {
				tx->tx_bscanned = 0;
				if (dn_head(h, (size_t)hl) == -1)
					return (-1);
				continue;
			}
		}
		/*
		 * Once spliced, to the end (the pipe may hold the last); a
		 * body the cache stores is read, never spliced.
		 */
		if (tx->tx_dnstate == DN_BODY && (dn->fl_pipe[0] != -1 ||
		    (dn->fl_mode == FL_CLEN && dn->fl_left >= SPLICE_MIN &&
		    tx->tx_binoff == tx->tx_binlen && io_plain(&h->h_io) &&
		    io_plain(&b->b_io) && tx->tx_c.ct_fill == NULL))) {
			if (dn->fl_pipe[0] == -1 &&
			    relay_pipe_get(&w->w_relay, dn->fl_pipe) == -1)
				goto copy;
			r = splice_body(w, dn, &b->b_io, &b->b_rd, &b->b_drain,
			    &h->h_io, &h->h_wr, &who);
			if (r == 1)
				return (1);
			if (r == 0) {
				tx->tx_blast = evloop_now(w->w_ev);
				return (0);
			}
			tx->tx_end = r == -2 ? END_SERVER_CLOSE : who ?
			    END_CLIENT_RESET : END_SERVER_RESET;
			tx->tx_close = tx->tx_bclose = 1;
			tx_finish(h);
			return (-1);
		}
 copy:
		if (!b->b_rd)
			return (0);
		if (bin_get(h) == -1) {
			tx_respond(h, 503, "out of memory", END_ERROR, 0);
			return (-1);
		}
		if (tx->tx_binoff > 0 && tx->tx_binoff == tx->tx_binlen)
			tx->tx_binoff = tx->tx_binlen = 0;
		room = cf.z_head - tx->tx_binlen;
		if (room == 0) {
			if (tx->tx_dnstate == DN_WAIT) {
				tx->tx_bclose = 1;
				tx_respond(h, 502, "the backend's response head "
				    "is too large", END_BAD_RESPONSE, 0);
				return (-1);
			}
			return (0);
		}
		if (tx->tx_dnstate == DN_BODY && dn->fl_mode == FL_CLEN &&
		    room > dn->fl_left && dn->fl_left > 0)
			room = (size_t)dn->fl_left;
		n = io_read(&b->b_io, tx->tx_bin + tx->tx_binlen, room);
		if (n <= 0) {
			if (n == -1 && errno == EAGAIN) {
				b->b_rd = 0;
				b->b_drain = 0;
				return (0);
			}
			if (n == 0 && tx->tx_dnstate == DN_BODY &&
			    dn->fl_mode == FL_CLOSE) {
				dn->fl_done = 1;
				tx->tx_bclose = 1;
				continue;
			}
			if (tx->tx_dnstate == DN_WAIT && tx->tx_binlen == 0) {
				backend_broke(h, n == 0 ? END_SERVER_CLOSE :
				    END_SERVER_RESET, b->b_nreq > 0);
				return (-1);
			}
			if (tx->tx_dnstate == DN_WAIT) {
				tx->tx_bclose = 1;
				tx_respond(h, 502, "the backend closed in the "
				    "middle of its response head",
				    END_BAD_RESPONSE, 0);
				return (-1);
			}
			tx->tx_end = n == 0 ? END_SERVER_CLOSE :
			    END_SERVER_RESET;
			tx->tx_close = tx->tx_bclose = 1;
			tx_finish(h);
			return (-1);
		}
		if ((size_t)n < room && !b->b_drain && !b->b_tls)
			b->b_rd = 0;
		tx->tx_blast = evloop_now(w->w_ev);
		if (tx->tx_ttfb == 0)
			tx->tx_ttfb = tx->tx_blast;
		tx->tx_binlen += (size_t)n;
		if (tx->tx_dnstate == DN_BODY && dn_take(h, (size_t)n) == -1) {
			tx->tx_end = END_BAD_RESPONSE;
			tx->tx_close = tx->tx_bclose = 1;
			tx_finish(h);
			return (-1);
		}
	}
}

/* ---- a tunnel: a websocket after its 101 ---- */

static void
tunnel_end(struct hconn *h, int e)
{
	struct hw	*w = h->h_w;
	struct htx	*tx = h->h_tx;
	struct bconn	*b = tx->tx_b;

	(void)e;
	tx->tx_end = END_TUNNEL;
	if (!h->h_iotun) {
		tx->tx_dn.fl_bytes += relay_bytes(&h->h_tx->tx_relay, RELAY_DOWN);
		tx->tx_bodyin += relay_bytes(&h->h_tx->tx_relay, RELAY_UP);
	}
	lh_log(h, END_TUNNEL);
	evloop_forget(w->w_ev, h->h_io.io_fd);
	evloop_forget(w->w_ev, b->b_io.io_fd);
	if (h->h_iotun) {
		io_close(&h->h_io, 0);
		io_close(&b->b_io, 0);
	} else
		relay_close(&h->h_tx->tx_relay);
	h->h_io.io_fd = -1;
	b->b_io.io_fd = -1;
	dial_release(&tx->tx_dial);
	wtab_unuse(tx->tx_wt);
	if (tx->tx_bin != NULL)
		buf_put(&w->w_bufs, tx->tx_bin);
	tx->tx_bin = NULL;
	b->b_state = BC_FREE;
	slab_put(&w->w_bconns, b);
	tx->tx_on = 0;
	hconn_free(h);
}

/*
 * A tunnel through TLS (either side): bytes both ways through the two
 * buffers, h_in up and tx_bin down, each end passed on as a shutdown.
 */
static int
tun_pump(struct io *src, uint8_t *rd, struct io *dst, uint8_t *wr,
    char *buf, size_t size, size_t *off, size_t *len, uint8_t *eof,
    uint8_t *shut, uint64_t *bytes)
{
	ssize_t	 n;

	for (;;) {
		if (*len > *off) {
			if (!*wr)
				return (0);
			if ((n = io_write(dst, buf + *off, *len - *off)) == -1) {
				if (errno == EAGAIN) {
					*wr = 0;
					return (0);
				}
				return (-1);
			}
			*off += (size_t)n;
			*bytes += (uint64_t)n;
			if (*off == *len)
				*off = *len = 0;
			continue;
		}
		if (*eof) {
			if (!*shut)
				io_shutdown(dst);
			*shut = 1;
			return (0);
		}
		if (!*rd)
			return (0);
		if ((n = io_read(src, buf, size)) > 0) {
			*off = 0;
			*len = (size_t)n;
			continue;
		}
		if (n == 0) {
			*eof = 1;
			continue;
		}
		if (errno == EAGAIN) {
			*rd = 0;
			return (0);
		}
		return (-1);
	}
}

static void
tunnel_io(struct hconn *h)
{
	struct htx	*tx = h->h_tx;
	struct bconn	*b = tx->tx_b;

	if (tun_pump(&h->h_io, &h->h_rd, &b->b_io, &b->b_wr, h->h_in,
	    cf.z_head, &h->h_off, &h->h_inlen, &h->h_teof[0], &h->h_tshut[0],
	    &tx->tx_bodyin) == -1 || tun_pump(&b->b_io, &b->b_rd, &h->h_io,
	    &h->h_wr, tx->tx_bin, cf.z_head, &tx->tx_binoff, &tx->tx_binlen,
	    &h->h_teof[1], &h->h_tshut[1], &tx->tx_dn.fl_bytes) == -1 ||
	    (h->h_tshut[0] && h->h_tshut[1]))
		tunnel_end(h, RELAY_OPEN);
}

static void
tunnel_start(struct hconn *h)
{
	struct htx	*tx = h->h_tx;
	struct bconn	*b = tx->tx_b;
	int		 e;

	h->h_state = HC_TUNNEL;
	evtimer_cancel(h->h_w->w_ev, &h->h_timer);
	set_timer(h, cf.t_tunnel);
	if (h->h_tls || b->b_tls) {
		h->h_iotun = 1;
		h->h_teof[0] = h->h_teof[1] = 0;
		h->h_tshut[0] = h->h_tshut[1] = 0;
		h->h_rd = h->h_wr = b->b_rd = b->b_wr = 1;
		if (in_get(h) == -1 || bin_get(h) == -1) {
			tunnel_end(h, RELAY_ERROR);
			return;
		}
		tunnel_io(h);
		return;
	}
	relay_start(&h->h_tx->tx_relay, &h->h_w->w_relay, h->h_io.io_fd,
	    b->b_io.io_fd);
	/* Bytes already read on either side go first. */
	if (tx->tx_binlen > tx->tx_binoff &&
	    send(h->h_io.io_fd, tx->tx_bin + tx->tx_binoff, tx->tx_binlen -
	    tx->tx_binoff, MSG_NOSIGNAL) != (ssize_t)(tx->tx_binlen -
	    tx->tx_binoff)) {
		tunnel_end(h, RELAY_CLIENT_RESET);
		return;
	}
	if (h->h_inlen > h->h_off && relay_preload(&h->h_tx->tx_relay, h->h_in +
	    h->h_off, h->h_inlen - h->h_off) == -1) {
		tunnel_end(h, RELAY_ERROR);
		return;
	}
	h->h_off = h->h_inlen;
	if ((e = relay_io(&h->h_tx->tx_relay, -1, 0)) != RELAY_OPEN)
		tunnel_end(h, e);
}

/*
 * Whether a connection that closes after its answer can close at once:
 * the client asked for the close, its request was read whole with no
 * byte behind it, and its socket said there is nothing more.  Such a
 * client sends nothing more (nginx's lingering_close decides the same),
 * so there is no late byte to turn the close into a reset.  Otherwise
 * hconn_linger() reads what may still come.
 */
static int
quiet_close(const struct hconn *h)
{
	const struct htx *tx = h->h_tx;

	return (tx->tx_end == END_CLOSE && !h->h_tls && !h->h_rd &&
	    !h->h_drain && (tx->tx_req.rq_flags & HTTP1_CLOSE) &&
	    tx->tx_up.fl_done && (h->h_in == NULL || h->h_off == h->h_inlen));
}

/* ---- the exchange's end ---- */

static void
count(struct hconn *h)
{
	struct htx	*tx = h->h_tx;
	struct table_counters *c;
	int		 k;

	if (tx->tx_wt == NULL || !tx->tx_dial.d_picked ||
	    (c = table_counters(tx->tx_wt->wt_t,
	    tx->tx_dial.d_pick.bp_slot)) == NULL)
		return;
	atomic_fetch_add_explicit(&c->c_requests, 1, memory_order_relaxed);
	k = tx->tx_status >= 100 && tx->tx_status < 600 ?
	    tx->tx_status / 100 - 1 : 5;
	atomic_fetch_add_explicit(&c->c_status[k], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->c_bytes_in, tx->tx_headlen +
	    tx->tx_bodyin, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->c_bytes_out, tx->tx_dn.fl_bytes,
	    memory_order_relaxed);
}

static void
tx_finish(struct hconn *h)
{
	struct hw	*w = h->h_w;
	struct htx	*tx = h->h_tx;
	struct bconn	*b = tx->tx_b;
	int		 reusable;

	if (tx == NULL || !tx->tx_on)
		return;
	if (tx->tx_end == END_KEEPALIVE && tx->tx_close)
		tx->tx_end = END_CLOSE;
	count(h);
	lh_log(h, tx->tx_end);
	l7_finish(h);
	if (cf.cache_size > 0)
		cache_end(h);
	tx->tx_on = 0;
	evtimer_cancel(w->w_ev, &h->h_timer);
	reusable = !tx->tx_bclose && tx->tx_dn.fl_done && tx->tx_up.fl_done &&
	    tx->tx_dn.fl_pending == 0 && tx->tx_up.fl_pending == 0 &&
	    tx->tx_dnstate == DN_BODY;
	if (b != NULL) {
		tx->tx_b = NULL;
		bconn_done(h, b, reusable);
	}
	if (tx->tx_dial.d_q != NULL) {
		if (tx->tx_dial.d_state != 3 /* D_DONE */)
			dial_cancel(&tx->tx_dial);
		else
			dial_release(&tx->tx_dial);
	}
	flow_fini(w, &tx->tx_up);
	flow_fini(w, &tx->tx_dn);
	if (tx->tx_bin != NULL) {
		buf_put(&w->w_bufs, tx->tx_bin);
		tx->tx_bin = NULL;
	}
	if (tx->tx_wt != NULL) {
		wtab_unuse(tx->tx_wt);
		tx->tx_wt = NULL;
	}
	if (tx->tx_end != END_KEEPALIVE) {
		if (tx->tx_end == END_CLIENT_RESET ||
		    tx->tx_end == END_CLIENT_CLOSE)
			hconn_close(h, tx->tx_end == END_CLIENT_RESET);
		else if (quiet_close(h))
			hconn_close(h, 0);
		else
			hconn_linger(h);
		return;
	}
	wait_request(h);
}

/*
 * Move the exchange as far as it goes: the request up, the response
 * down, and end it when both are through.
 */
void
tx_run(struct hconn *h)
{
	struct htx	*tx = h->h_tx;
	int		 r;

	if (tx == NULL || !tx->tx_on)
		return;
	if (tx->tx_b != NULL && tx->tx_dnstate != DN_DONE &&
	    up_body(h) == -1)
		return;
	if (!tx->tx_on)
		return;
	if ((r = dn_run(h)) == -1 || !tx->tx_on)
		return;
	if (r == 1 && tx->tx_dnstate == DN_TUNNEL) {
		tunnel_start(h);
		return;
	}
	if (r == 1 && (tx->tx_up.fl_done || tx->tx_b == NULL ||
	    tx->tx_close)) {
		if (tx->tx_end == 0)
			tx->tx_end = END_KEEPALIVE;
		tx_finish(h);
		return;
	}
	/* Waiting: the times that now apply. */
	if (h->h_timer.et_idx == 0)
		set_timer(h, RATE_WINDOW_MS < cf.t_server ? RATE_WINDOW_MS :
		    cf.t_server);
}

/* ---- reading requests ---- */

static void
head_read(struct hconn *h)
{
	struct hw	*w = h->h_w;
	ssize_t		 n;
	size_t		 room;
	int		 hl;

	for (;;) {
		if (h->h_in != NULL && h->h_inlen > h->h_off) {
			hl = http1_head_len(h->h_in + h->h_off, h->h_inlen -
			    h->h_off, &h->h_scanned);
			if (hl > 0) {
				h->h_scanned = 0;
				tx_begin(h, hl);
				return;
			}
		}
		if (h->h_in != NULL && h->h_off > 0 && h->h_inlen ==
		    cf.z_head)
			in_compact(h);
		if (h->h_in != NULL && h->h_inlen - h->h_off >= cf.z_head) {
			/* Full, and no end: which limit was it? */
			int	 noline = memchr(h->h_in + h->h_off, '\n',
				    h->h_inlen - h->h_off) == NULL;

			tx_begin_error(h, noline ? HEAD_NO_LINE :
			    HEAD_TOO_BIG);
			return;
		}
		if (!h->h_rd)
			return;
		if (in_get(h) == -1) {
			hconn_close(h, 1);
			return;
		}
		room = cf.z_head - h->h_inlen;
		n = io_read(&h->h_io, h->h_in + h->h_inlen, room);
		if (n <= 0) {
			if (n == -1 && errno == EAGAIN) {
				h->h_rd = 0;
				h->h_drain = 0;
				in_release(h);
				return;
			}
			/* A clean end between requests is no error. */
			hconn_close(h, n == -1);
			return;
		}
		/* Short: drained (TLS: OpenSSL may hold more; read on). */
		if ((size_t)n < room && !h->h_drain && !h->h_tls)
			h->h_rd = 0;
		h->h_inlen += (size_t)n;
		h->h_last = evloop_now(w->w_ev);
		if (h->h_first == 0) {
			/* From its first byte, the whole head has its time. */
			h->h_first = h->h_last;
			set_timer(h, cf.t_head);
		}
	}
}

/* A head that did not end within its limit (414, 431) or time (408). */
static void
tx_begin_error(struct hconn *h, int why)
{
	struct htx	*tx;

	if (tx_get(h) == -1) {
		hconn_close(h, 1);
		return;
	}
	tx = h->h_tx;
	memset(tx, 0, offsetof(struct htx, tx_req));
	flow_init(&tx->tx_up);
	flow_init(&tx->tx_dn);
	memset(&tx->tx_dial, 0, sizeof(tx->tx_dial));
	tx->tx_req.rq_method = tx->tx_req.rq_path = NULL;
	tx->tx_on = 1;
	tx->tx_start = evloop_now(h->h_w->w_ev);
	tx->tx_up.fl_done = 1;
	h->h_state = HC_TX;
	h->h_nreq++;
	evtimer_cancel(h->h_w->w_ev, &h->h_timer);
	memcpy(tx->tx_route, "-", 2);
	h->h_off = h->h_inlen;
	if (why == HEAD_NO_LINE)
		tx_respond(h, 414, "the request line is too long",
		    END_BAD_REQUEST, 1);
	else if (why == HEAD_TOO_SLOW)
		tx_respond(h, 408, "the request head came too slowly",
		    END_TIMEOUT, 1);
	else
		tx_respond(h, 431, "the request head is too large",
		    END_BAD_REQUEST, 1);
}

/*
 * A TLS listener's client: plain HTTP is told so, in plain HTTP; the
 * rest is OpenSSL's, within the handshake's time.
 */
static void
tls_begin(struct hconn *h)
{
	char	 err[200];
	SSL	*ssl;

	if ((ssl = tlssrv_ssl(cf.tls, h->h_io.io_fd, err,
	    sizeof(err))) == NULL) {
		log_warnx("TLS: %s", err);
		hconn_close(h, 1);
		return;
	}
	h->h_io.io_ssl = ssl;
	h->h_state = HC_TLS;
	set_timer(h, cf.t_handshake);
	tls_step(h);
}

static void
tls_step(struct hconn *h)
{
	static const char plain[] = "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
	    "Content-Length: 44\r\n\r\nlb-http: this port speaks TLS: "
	    "use https://\n";
	_Static_assert(sizeof("lb-http: this port speaks TLS: use https://\n")
	    - 1 == 44, "the 400's Content-Length");
	unsigned char	 c;
	char		 why[200];
	ssize_t		 n;
	int		 want, r;

	if (!h->h_peeked) {
		/* A TLS record starts with 0x16; a request with a letter. */
		n = recv(h->h_io.io_fd, &c, 1, MSG_PEEK);
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			hconn_close(h, 0);
			return;
		}
		h->h_peeked = 1;
		if (c >= 'A' && c <= 'Z') {
			(void)send(h->h_io.io_fd, plain, sizeof(plain) - 1,
			    MSG_NOSIGNAL);
			SSL_free(h->h_io.io_ssl);
			h->h_io.io_ssl = NULL;
			h->h_tls = 0;
			log_info("plain HTTP on a TLS port: told so");
			hconn_linger(h);
			return;
		}
	}
	if ((r = tlsctx_handshake(h->h_io.io_ssl, &want, why,
	    sizeof(why))) == -2)
		return;
	if (r == -1) {
		log_info("TLS handshake: %s", why);
		hconn_close(h, 0);
		return;
	}
	/* The request may have come with the handshake's last flight. */
	h->h_rd = h->h_wr = 1;
	h->h_state = HC_HEAD;
	h->h_since = evloop_now(h->h_w->w_ev);
	h->h_first = 0;
	set_timer(h, cf.t_head);
	head_read(h);
}

/* -p: a PROXY header first, from the balancer in front. */
static void
proxy_read(struct hconn *h)
{
	struct proxyproto pp;
	ssize_t		 n;
	int		 r;

	for (;;) {
		if (in_get(h) == -1) {
			hconn_close(h, 1);
			return;
		}
		if (h->h_inlen > 0) {
			r = proxyproto_parse(h->h_in, h->h_inlen, &pp);
			if (r > 0) {
				if (pp.pp_src.ss_family != AF_UNSPEC) {
					memcpy(&h->h_peer.a_ss, &pp.pp_src,
					    sizeof(pp.pp_src));
					h->h_peer.a_len = sizeof(pp.pp_src);
					h->h_iplen = h->h_clientlen = 0;
					memcpy(&h->h_local.a_ss, &pp.pp_dst,
					    sizeof(pp.pp_dst));
					h->h_local.a_len = sizeof(pp.pp_dst);
				}
				h->h_off = (size_t)r;
				h->h_state = HC_HEAD;
				if (h->h_tls) {
					/* The TLS records are behind it. */
					in_release(h);
					if (h->h_off != h->h_inlen) {
						log_info("a client sent TLS "
						    "with its PROXY header: "
						    "not handled");
						hconn_close(h, 1);
						return;
					}
					tls_begin(h);
					return;
				}
				head_read(h);
				return;
			}
			if (r == -1 || h->h_inlen >= cf.z_head) {
				log_info("a client sent no valid PROXY header");
				hconn_close(h, 1);
				return;
			}
		}
		if (!h->h_rd)
			return;
		n = io_read(&h->h_io, h->h_in + h->h_inlen, cf.z_head -
		    h->h_inlen);
		if (n <= 0) {
			if (n == -1 && errno == EAGAIN) {
				h->h_rd = 0;
				return;
			}
			hconn_close(h, 0);
			return;
		}
		h->h_inlen += (size_t)n;
	}
}

static void
on_defer(struct evloop *ev, void *arg)
{
	struct hconn	*h = arg;

	(void)ev;
	if (h->h_state == HC_HEAD)
		head_read(h);
	else if (h->h_state == HC_LINGER)
		linger_read(h);
}

static void
on_htimer(struct evloop *ev, void *arg)
{
	struct hconn	*h = arg;
	struct htx	*tx = h->h_tx;
	uint64_t	 now = evloop_now(ev), next;

	switch (h->h_state) {
	case HC_PROXYHDR:
	case HC_TLS:
		hconn_close(h, 1);
		return;
	case HC_HEAD:
		/*
		 * No byte of a next request: an idle connection, closed
		 * quietly.  A head begun and not ended in its time: 408.
		 */
		if (h->h_first == 0 && (h->h_in == NULL || h->h_off ==
		    h->h_inlen)) {
			hconn_close(h, 0);
			return;
		}
		tx_begin_error(h, HEAD_TOO_SLOW);
		return;
	case HC_LINGER:
		hconn_close(h, 0);
		return;
	case HC_TUNNEL:
		if (now - h->h_last >= cf.t_tunnel) {
			tunnel_end(h, RELAY_OPEN);
			return;
		}
		set_timer(h, cf.t_tunnel - (now - h->h_last));
		return;
	case HC_TX:
		break;
	default:
		return;
	}
	/* The backend's TLS handshake is part of its connect: its time. */
	if (tx->tx_b != NULL && tx->tx_b->b_hs) {
		btls_fail(h, tx->tx_b, "the handshake timed out");
		return;
	}
	/* The backend owes an answer, or the rest of it. */
	if (tx->tx_b != NULL && tx->tx_dnstate != DN_BODY + 1 &&
	    !(tx->tx_dnstate == DN_BODY && tx->tx_dn.fl_done) &&
	    now - tx->tx_blast >= cf.t_server && tx->tx_dn.fl_out.ib_len == 0) {
		if (tx->tx_ttfb == 0 && tx->tx_dnstate == DN_WAIT) {
			tx->tx_bclose = 1;
			tx_respond(h, 504, "the backend did not answer in time",
			    END_SERVER_TIMEOUT, 0);
		} else {
			tx->tx_end = END_SERVER_TIMEOUT;
			tx->tx_close = tx->tx_bclose = 1;
			tx_finish(h);
		}
		return;
	}
	/* The client owes the body, at a minimum rate. */
	if (tx->tx_b != NULL && !tx->tx_up.fl_done) {
		if (tx->tx_rate_at == 0)
			tx->tx_rate_at = tx->tx_start;
		if (now - tx->tx_rate_at >= RATE_WINDOW_MS) {
			if (tx->tx_rate_bytes * 1000 < cf.body_rate *
			    (now - tx->tx_rate_at) && tx->tx_ttfb == 0) {
				tx->tx_bclose = 1;
				tx_respond(h, 408, "the request body came too "
				    "slowly", END_TIMEOUT, 1);
				return;
			}
			tx->tx_rate_at = now;
			tx->tx_rate_bytes = 0;
		}
	}
	/* The client owes reading what we write. */
	if ((tx->tx_dn.fl_out.ib_len > 0 || tx->tx_dn.fl_pending > 0) &&
	    now - h->h_last >= cf.t_client) {
		tx->tx_end = END_TIMEOUT;
		tx->tx_close = tx->tx_bclose = 1;
		tx_finish(h);
		return;
	}
	next = RATE_WINDOW_MS;
	if (cf.t_server < next)
		next = cf.t_server;
	if (cf.t_client < next)
		next = cf.t_client;
	set_timer(h, next);
}

static void
hconn_event(struct evloop *ev, int fd, int what, void *arg)
{
	struct hconn	*h = arg;
	int		 e;

	if (what & (EVLOOP_READ | EVLOOP_HUP))
		h->h_rd = 1;
	if (what & EVLOOP_HUP)
		h->h_drain = 1;
	if (what & (EVLOOP_WRITE | EVLOOP_HUP))
		h->h_wr = 1;
	if (h->h_tls)
		h->h_rd = h->h_wr = 1;	/* OpenSSL may want either way */
	switch (h->h_state) {
	case HC_PROXYHDR:
		proxy_read(h);
		break;
	case HC_TLS:
		tls_step(h);
		break;
	case HC_HEAD:
		head_read(h);
		break;
	case HC_TX:
		tx_run(h);
		break;
	case HC_TUNNEL:
		h->h_last = evloop_now(ev);
		if (h->h_iotun)
			tunnel_io(h);
		else if ((e = relay_io(&h->h_tx->tx_relay, fd, what)) != RELAY_OPEN)
			tunnel_end(h, e);
		break;
	case HC_LINGER:
		linger_read(h);
		break;
	}
}

static void
bconn_event(struct evloop *ev, int fd, int what, void *arg)
{
	struct bconn	*b = arg;
	struct hconn	*h;
	int		 e;

	if (what & (EVLOOP_READ | EVLOOP_HUP))
		b->b_rd = 1;
	if (what & EVLOOP_HUP)
		b->b_drain = 1;
	if (what & (EVLOOP_WRITE | EVLOOP_HUP))
		b->b_wr = 1;
	if (b->b_state == BC_IDLE) {
		bconn_idle_event(b, what);
		return;
	}
	if ((h = b->b_h) == NULL)
		return;
	if (b->b_hs) {
		btls_step(h, b);
		return;
	}
	if (b->b_tls)
		b->b_rd = b->b_wr = 1;	/* OpenSSL may want either way */
	if (h->h_state == HC_TUNNEL) {
		h->h_last = evloop_now(ev);
		if (h->h_iotun)
			tunnel_io(h);
		else if ((e = relay_io(&h->h_tx->tx_relay, fd, what)) != RELAY_OPEN)
			tunnel_end(h, e);
		return;
	}
	if (h->h_state == HC_TX)
		tx_run(h);
}

/* ---- the worker's side ---- */

int
hw_init(struct worker *wk)
{
	struct hw	*w;
	size_t		 i, n;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return (-1);
	w->w_worker = wk;
	w->w_ev = worker_loop(wk);
	slab_init(&w->w_hconns, sizeof(struct hconn), 64);
	slab_init(&w->w_bconns, sizeof(struct bconn), 64);
	slab_init(&w->w_htx, sizeof(struct htx), 16);
	bufpool_init(&w->w_bufs, cf.z_head + cf.z_fields *
	    sizeof(struct http1_header) + 16, 16);
	if (relay_ctx_init(&w->w_relay, 0, cf.pipe_pool) == -1)
		return (-1);
	relay_ctx_budget(&w->w_relay, worker_fds_take, worker_fds_give);
	w->w_log = alog_worker(cf.log, worker_id(wk));
	w->w_ver = tableset_version(cf.ts);
	n = tableset_count(cf.ts);
	for (i = 0; i < n; i++)
		if ((w->w_tab[i] = wtab_new(w, i)) == NULL)
			return (-1);
	w->w_ntab = n;
	w->w_rules = atomic_load(&cf.rules);
	atomic_store(&w->w_rgen, atomic_load(&cf.rules_gen));
	evtimer_set(w->w_ev, &w->w_tick, 1000, on_wtick, w);
	hws[worker_id(wk)] = w;
	worker_set_data(wk, w);
	if (cf.cache_size > 0 && cache_worker_init(w) == -1)
		return (-1);
	return (0);
}

void
hw_accept(struct worker *wk, int li, int fd, const struct addr *peer)
{
	struct hw	*w = worker_data(wk);
	struct hconn	*h;

	if ((h = slab_get(&w->w_hconns)) == NULL) {
		close(fd);
		worker_conn_end(wk);
		return;
	}
	memset((char *)h + sizeof(h->h_link), 0, sizeof(*h) -
	    sizeof(h->h_link));
	h->h_w = w;
	h->h_li = li;
	io_init(&h->h_io, fd);
	/* No Nagle: the listener's TCP_NODELAY came with the socket. */
	h->h_peer = *peer;
	h->h_local.a_len = sizeof(h->h_local.a_ss);
	if (cf.proxy_out && getsockname(fd, (struct sockaddr *)
	    &h->h_local.a_ss, &h->h_local.a_len) == -1)
		h->h_local.a_ss.ss_family = AF_UNSPEC;
	h->h_since = h->h_last = evloop_now(w->w_ev);
	h->h_state = cf.proxy_in ? HC_PROXYHDR : HC_HEAD;
	h->h_tls = cf.listen_tls[li] != 0;
	if (evloop_add(w->w_ev, fd, EVLOOP_READ | EVLOOP_WRITE, hconn_event,
	    h) == -1) {
		close(fd);
		h->h_state = HC_FREE;
		slab_put(&w->w_hconns, h);
		worker_conn_end(wk);
		return;
	}
	/* Most clients send their request with the handshake's last ACK. */
	h->h_rd = h->h_wr = 1;
	set_timer(h, cf.t_head);
	if (cf.proxy_in)
		proxy_read(h);
	else if (h->h_tls)
		tls_begin(h);
	else
		head_read(h);
}

static void
cut_one(void *p, void *arg)
{
	struct hconn	*h = p;

	(void)arg;
	if (h->h_state == HC_FREE)
		return;
	if (h->h_state == HC_TX) {
		h->h_tx->tx_end = END_STOPPED;
		h->h_tx->tx_close = h->h_tx->tx_bclose = 1;
		tx_finish(h);
		if (h->h_state == HC_LINGER)
			hconn_close(h, 0);
		return;
	}
	if (h->h_state == HC_TUNNEL) {
		tunnel_end(h, RELAY_OPEN);
		return;
	}
	hconn_close(h, 0);
}

void
hw_cut(struct worker *wk)
{
	struct hw	*w = worker_data(wk);

	slab_walk(&w->w_hconns, cut_one, NULL);
}

void
hw_fini(struct worker *wk)
{
	struct hw	*w = worker_data(wk);
	size_t		 i;

	if (w == NULL)
		return;
	evtimer_cancel(w->w_ev, &w->w_poolt);
	evtimer_cancel(w->w_ev, &w->w_tick);
	alog_done(w->w_log);
	if (cf.cache_size > 0)
		cache_worker_fini(w);
	for (i = 0; i < w->w_ntab; i++)
		wtab_free(w->w_tab[i]);
	relay_ctx_free(&w->w_relay);
	bufpool_free(&w->w_bufs);
	slab_free(&w->w_hconns);
	slab_free(&w->w_bconns);
	slab_free(&w->w_htx);
	free(w);
	worker_set_data(wk, NULL);
}
