/* lb-tcp: the Layer 4 balancer: accept, pick a backend, splice both ways. */
#include <sys/socket.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "alog.h"
#include "balance.h"
#include "bset.h"
#include "cols.h"
#include "dial.h"
#include "dur.h"
#include "esc.h"
#include "evloop.h"
#include "log.h"
#include "proxyproto.h"
#include "relay.h"
#include "slab.h"
#include "sni.h"
#include "sock.h"
#include "table.h"
#include "tableset.h"
#include "worker.h"

#define CONN_CHUNK	256		/* connections allocated at a time */
#define LOG_LINE_MAX	1024
#define PIPE_POOL	256		/* idle pipes kept per worker, at most */
#define HELLO_MAX	16384		/* -s: most read of a ClientHello */
#define CONN_FDS	2		/* two sockets; pipes from the budget */

enum conn_state {
	CONN_FREE,
	CONN_PROXYHDR,			/* -p: reading the client's PROXY header */
	CONN_HELLO,			/* -s: peeking at the ClientHello */
	CONN_DIAL,			/* picking, queued or connecting */
	CONN_RELAY
};

/* Why a connection ended: the last field of its log line. */
enum conn_end {
	END_CLIENT_CLOSE,
	END_SERVER_CLOSE,
	END_CLIENT_RESET,
	END_SERVER_RESET,
	END_TIMEOUT,
	END_CONNECT_FAIL,
	END_NO_BACKEND,
	END_QUEUE_FULL,
	END_QUEUE_TIMEOUT,
	END_STOPPED,
	END_ERROR,
	END_BAD_PROXY,
	END_BAD_HELLO
};

static const char *const end_names[] = {
	"client-close", "server-close", "client-reset", "server-reset",
	"timeout", "connect-fail", "no-backend", "queue-full",
	"queue-timeout", "stopped", "error", "bad-proxy", "bad-hello"
};

struct lbw;

/*
 * A worker's balancer over one table of the set.  A table made again
 * under its name gets a new one; the old one lives on while connections
 * picked from it are open.
 */
struct wtab {
	struct table	*wt_t;
	struct balance	*wt_bal;
	struct dial_queue wt_q;
	long		 wt_uses;
	int		 wt_retired;
};

struct conn {
	void		*c_link;		/* the slab's while free */
	struct lbw	*c_w;
	int		 c_state;		/* enum conn_state */
	int		 c_cfd;
	uint8_t		 c_seen;		/* client events since evloop_add */
	uint64_t	 c_start;		/* evloop ms */
	uint64_t	 c_last;		/* last activity, evloop ms */
	uint64_t	 c_up, c_down;		/* bytes already counted */
	struct evtimer	 c_timer;
	struct addr	 c_client;
	struct addr	 c_dst;			/* the address it reached (-P) */
	struct wtab	*c_wt;			/* the table it was routed to */
	struct dial	 c_dial;
	struct relay	 c_relay;
	char		*c_sni;			/* the server name it asked (-s) */
	size_t		 c_prelen;
	char		 c_pre[128];		/* sent to the backend first (-P) */
};

/* One worker's own: everything here is touched by its thread alone. */
struct lbw {
	struct worker	*w_worker;
	struct evloop	*w_ev;
	struct slab	 w_conns;
	struct relay_ctx w_relay;
	struct alog_w	*w_log;
	unsigned char	*w_hello;		/* -s: HELLO_MAX bytes */
	struct wtab	**w_tab;		/* by tableset index */
	uint64_t	 w_ver;			/* of the tableset, last seen */
};

/* -s PATTERN=TABLE: a server name, or "*." and a suffix, to a table. */
struct route {
	char		*rt_pattern;
	const char	*rt_table;
	size_t		 rt_tab;		/* index in the tableset */
};

/* Set before the workers start, read-only after. */
static struct {
	int		 algo;
	int		 json, quiet, verbose, print_addr, noheader;
	struct cols	 cols;			/* -o: the log's fields */
	int		 proxy_in, proxy_out;
	int		 nworkers;
	uint32_t	 eject_fails;
	uint64_t	 eject_ms;
	uint64_t	 idle_ms, grace_ms, slowstart_ms;
	size_t		 pipe_pool;
	mode_t		 mode;
	struct dial_conf dial;
	const char	*listen_spec, *table_spec, *file;
	struct addr	 listen;
	struct tableset	*ts;
	struct alog	*log;
	/* -s: routes by server name, in order; table 0 is the default */
	struct route	*routes;
	size_t		 nroutes;
	/* -f: the backends of the command line, then the file's */
	struct bset	 bs;
} cf;

static void	conn_event(struct evloop *, int, int, void *);
static void	hello_read(struct conn *c);
static void	dial_done(struct dial *d, int result);

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: lb-tcp [-1HhjpqVv] [-a rr|lc|p2c|source|maglev] "
	    "[-c timeout] [-f file]\n"
	    "              [-g grace] [-i timeout] [-m mode] [-n queue] "
	    "[-o field,...] [-P v1|v2]\n"
	    "              [-Q timeout] [-r retries] [-S duration] "
	    "[-s pattern=table]\n"
	    "              [-t table] [-w workers] [-x fails/time] "
	    "-l [addr]:port\n"
	    "              [backend ...]\n");
	if (status == 0)
		printf("\n"
		    "Balances the connections to -l over the backends named, "
		    "or those of -t;\n"
		    "logs a line per connection, under a # header line:\n"
		    "  time client backend bytes_in bytes_out ms end "
		    "(and sni with -s)\n"
		    "  -1              print the address listened on, then "
		    "'table NAME'\n"
		    "  -a algorithm    rr (the default), lc, p2c, source or "
		    "maglev\n"
		    "  -t table        balance over this table, kept by lb-ctl\n"
		    "  -f file         backends from a list, read again on HUP\n"
		    "  -H, -j, -o, -q  no header; JSON lines; these fields; "
		    "no log\n"
		    "See lb-tcp(1); the words of the fields: lb-table(5), "
		    "VOCABULARY.\n");
	exit(status);
}

/* ---- the access log ---- */

/* The fields of a log line: the words of VOCABULARY in lb-table(5). */
enum { LF_TIME, LF_CLIENT, LF_BACKEND, LF_BYTES_IN, LF_BYTES_OUT, LF_MS,
    LF_END, LF_SNI, NLF };
static const struct cols_field log_fields[NLF] = { { "time", COLS_TEXT },
    { "client", COLS_TEXT }, { "backend", COLS_TEXT },
    { "bytes_in", COLS_NUM }, { "bytes_out", COLS_NUM }, { "ms", COLS_NUM },
    { "end", COLS_TEXT }, { "sni", COLS_TEXT } };

static void
log_conn(struct conn *c, int why)
{
	struct lbw	*w = c->c_w;
	struct cols_val	 v[NLF];
	const char	*tm;
	char		 client[ADDR_STRLEN], *p;
	ssize_t		 n;

	if (cf.quiet)
		return;
	if ((p = alog_begin(w->w_log, LOG_LINE_MAX)) == NULL)
		return;
	if (cols_has(&cf.cols, LF_TIME)) {
		tm = alog_time(w->w_log);
		cols_text(&v[LF_TIME], tm, strlen(tm));
	}
	if (cols_has(&cf.cols, LF_CLIENT)) {
		addr_fmt(&c->c_client, client, sizeof(client));
		cols_text(&v[LF_CLIENT], client, strlen(client));
	}
	if (c->c_dial.d_attempts > 0)
		cols_text(&v[LF_BACKEND], c->c_dial.d_pick.bp_name,
		    strlen(c->c_dial.d_pick.bp_name));
	else
		cols_null(&v[LF_BACKEND]);
	/* bytes_in came from the client, bytes_out went to it */
	cols_num(&v[LF_BYTES_IN], c->c_state == CONN_RELAY ?
	    relay_bytes(&c->c_relay, RELAY_UP) : 0);
	cols_num(&v[LF_BYTES_OUT], c->c_state == CONN_RELAY ?
	    relay_bytes(&c->c_relay, RELAY_DOWN) : 0);
	cols_num(&v[LF_MS], evloop_now(w->w_ev) - c->c_start);
	cols_text(&v[LF_END], end_names[why], strlen(end_names[why]));
	/* -s: the server name asked for; none is "-", null with -j. */
	if (c->c_sni != NULL)
		cols_text(&v[LF_SNI], c->c_sni, strlen(c->c_sni));
	else
		cols_null(&v[LF_SNI]);
	if ((n = cols_line(&cf.cols, v, cf.json, p, LOG_LINE_MAX)) > 0)
		alog_commit(w->w_log, (size_t)n);
	alog_later(w->w_log, w->w_ev);
}

/* ---- the tables, as this worker balances over them ---- */

static struct wtab *
wtab_new(struct lbw *w, size_t i)
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
	tableset_hold(cf.ts, wt->wt_t);
	return (wt);
}

static void
wtab_free(struct wtab *wt)
{
	dial_queue_fini(&wt->wt_q);
	balance_free(wt->wt_bal);
	tableset_drop(cf.ts, wt->wt_t);
	free(wt);
}

/* A table was made again: balance over the new one from now on. */
static void
wtab_follow(struct lbw *w)
{
	struct wtab	*wt;
	size_t		 i;

	w->w_ver = tableset_version(cf.ts);
	for (i = 0; i < tableset_count(cf.ts); i++) {
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

/* ---- connections ---- */

static int
end_of(int relay_end)
{
	switch (relay_end) {
	case RELAY_CLIENT_CLOSE:
		return (END_CLIENT_CLOSE);
	case RELAY_SERVER_CLOSE:
		return (END_SERVER_CLOSE);
	case RELAY_CLIENT_RESET:
		return (END_CLIENT_RESET);
	case RELAY_SERVER_RESET:
		return (END_SERVER_RESET);
	}
	return (END_ERROR);
}

static int
end_of_dial(int result)
{
	switch (result) {
	case DIAL_NO_BACKEND:
		return (END_NO_BACKEND);
	case DIAL_QUEUE_FULL:
		return (END_QUEUE_FULL);
	case DIAL_QUEUE_TIMEOUT:
		return (END_QUEUE_TIMEOUT);
	case DIAL_CONNECT_FAIL:
		return (END_CONNECT_FAIL);
	}
	return (END_ERROR);
}

/* Count bytes moved since last time into the table's live counters. */
static void
conn_count(struct conn *c)
{
	struct table_counters *tc;
	uint64_t	 up, down;

	up = relay_bytes(&c->c_relay, RELAY_UP);
	down = relay_bytes(&c->c_relay, RELAY_DOWN);
	if (up == c->c_up && down == c->c_down)
		return;
	if ((tc = table_counters(c->c_wt->wt_t,
	    c->c_dial.d_pick.bp_slot)) != NULL) {
		if (up != c->c_up)
			atomic_fetch_add_explicit(&tc->c_bytes_in, up - c->c_up,
			    memory_order_relaxed);
		if (down != c->c_down)
			atomic_fetch_add_explicit(&tc->c_bytes_out,
			    down - c->c_down, memory_order_relaxed);
	}
	c->c_up = up;
	c->c_down = down;
}

static void
conn_finish(struct conn *c, int why)
{
	struct lbw	*w = c->c_w;
	struct evloop	*ev = w->w_ev;
	struct wtab	*wt = c->c_wt;

	log_conn(c, why);
	evtimer_cancel(ev, &c->c_timer);
	/* Closed right below, and never shared: no EPOLL_CTL_DEL needed. */
	if (c->c_state == CONN_RELAY) {
		conn_count(c);
		evloop_forget(ev, c->c_cfd);
		evloop_forget(ev, c->c_dial.d_fd);
		relay_close(&c->c_relay);
		dial_release(&c->c_dial);
	} else {
		evloop_forget(ev, c->c_cfd);
		close(c->c_cfd);
		if (c->c_state == CONN_DIAL)
			dial_cancel(&c->c_dial);
	}
	if (--wt->wt_uses == 0 && wt->wt_retired)
		wtab_free(wt);
	free(c->c_sni);
	c->c_sni = NULL;
	c->c_state = CONN_FREE;
	slab_put(&w->w_conns, c);
	worker_conn_end(w->w_worker);
}

static void
on_conn_timer(struct evloop *ev, void *arg)
{
	struct conn	*c = arg;
	uint64_t	 idle;

	switch (c->c_state) {
	case CONN_PROXYHDR:
	case CONN_HELLO:
		conn_finish(c, END_TIMEOUT);
		break;
	case CONN_RELAY:
		/* Re-armed lazily: activity only stamps c_last. */
		idle = evloop_now(ev) - c->c_last;
		if (idle >= cf.idle_ms)
			conn_finish(c, END_TIMEOUT);
		else
			evtimer_set(ev, &c->c_timer, cf.idle_ms - idle,
			    on_conn_timer, c);
		break;
	}
}

static void
conn_relay(struct conn *c)
{
	struct lbw	*w = c->c_w;
	struct dial	*d = &c->c_dial;
	ssize_t		 n;
	int		 e;

	if (cf.proxy_out) {
		n = proxyproto_write(cf.proxy_out,
		    (const struct sockaddr *)&c->c_client.a_ss,
		    (const struct sockaddr *)&c->c_dst.a_ss, c->c_pre,
		    sizeof(c->c_pre));
		c->c_prelen = n > 0 ? (size_t)n : 0;
	}
	c->c_state = CONN_RELAY;
	evloop_handler(w->w_ev, d->d_fd, conn_event, c);
	relay_start(&c->c_relay, &w->w_relay, c->c_cfd, d->d_fd);
	/* Every event of the client so far came through conn_event(). */
	relay_seen(&c->c_relay, 0, c->c_seen);
	if (d->d_known)
		relay_seen(&c->c_relay, 1, d->d_seen);
	if (c->c_prelen > 0 && relay_preload(&c->c_relay, c->c_pre,
	    c->c_prelen) == -1) {
		conn_finish(c, END_ERROR);
		return;
	}
	c->c_last = evloop_now(w->w_ev);
	evtimer_set(w->w_ev, &c->c_timer, cf.idle_ms, on_conn_timer, c);
	if ((e = relay_io(&c->c_relay, -1, 0)) != RELAY_OPEN)
		conn_finish(c, end_of(e));
	else
		conn_count(c);
}

static void
dial_done(struct dial *d, int result)
{
	struct conn	*c = d->d_arg;

	if (result == DIAL_OK)
		conn_relay(c);
	else
		conn_finish(c, end_of_dial(result));
}

/* The key of the hash algorithms: the client's address, port left out. */
static const void *
conn_key(const struct conn *c, size_t *len)
{
	const struct sockaddr *sa = (const struct sockaddr *)&c->c_client.a_ss;

	if (sa->sa_family == AF_INET) {
		*len = 4;
		return (&((const struct sockaddr_in *)sa)->sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		*len = 16;
		return (&((const struct sockaddr_in6 *)sa)->sin6_addr);
	}
	*len = 0;
	return (NULL);
}

/* Routed (or not): pick a backend and connect. */
static void
conn_dial(struct conn *c, size_t tab)
{
	struct lbw	*w = c->c_w;
	const void	*key;
	size_t		 keylen;

	evtimer_cancel(w->w_ev, &c->c_timer);
	if (tab != 0) {
		/* The default table was taken when accepted. */
		c->c_wt->wt_uses--;
		c->c_wt = w->w_tab[tab];
		c->c_wt->wt_uses++;
	}
	c->c_state = CONN_DIAL;
	key = conn_key(c, &keylen);
	c->c_dial.d_arg = c;
	dial_start(&c->c_dial, &c->c_wt->wt_q, key, keylen, dial_done);
}

/*
 * -p: peek at what the client sent until a whole PROXY header is there,
 * then take exactly the header off the socket; the rest is the payload.
 */
static void
proxy_read(struct conn *c)
{
	struct lbw	*w = c->c_w;
	struct proxyproto pp;
	ssize_t		 n;
	int		 r;

	n = recv(c->c_cfd, w->w_relay.rc_buf, w->w_relay.rc_bufsz, MSG_PEEK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_finish(c, n == 0 ? END_CLIENT_CLOSE : END_CLIENT_RESET);
		return;
	}
	r = proxyproto_parse(w->w_relay.rc_buf, (size_t)n, &pp);
	if (r == -2 && (size_t)n < w->w_relay.rc_bufsz)
		return;			/* more to come */
	if (r < 0) {
		conn_finish(c, END_BAD_PROXY);
		return;
	}
	if (recv(c->c_cfd, w->w_relay.rc_buf, (size_t)r, 0) != r) {
		conn_finish(c, END_ERROR);
		return;
	}
	if (pp.pp_src.ss_family != AF_UNSPEC) {
		memcpy(&c->c_client.a_ss, &pp.pp_src, sizeof(pp.pp_src));
		c->c_client.a_len = sizeof(pp.pp_src);
		memcpy(&c->c_dst.a_ss, &pp.pp_dst, sizeof(pp.pp_dst));
		c->c_dst.a_len = sizeof(pp.pp_dst);
	}
	if (cf.nroutes > 0) {
		/* The ClientHello may be there already: no edge will come. */
		c->c_state = CONN_HELLO;
		hello_read(c);
		return;
	}
	conn_dial(c, 0);
}

/*
 * -s: peek at the client's TLS ClientHello until it is whole (the bytes
 * stay in the socket and the relay forwards them as they are), then
 * route by its server name: the first route whose pattern matches, or
 * the default table.  The timer of the connect timeout runs meanwhile.
 */
static void
hello_read(struct conn *c)
{
	struct lbw	*w = c->c_w;
	char		 name[SNI_NAME_MAX];
	ssize_t		 n;
	size_t		 i, tab = 0;
	int		 r;

	n = recv(c->c_cfd, w->w_hello, HELLO_MAX, MSG_PEEK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_finish(c, n == 0 ? END_CLIENT_CLOSE : END_CLIENT_RESET);
		return;
	}
	r = sni_parse(w->w_hello, (size_t)n, name, sizeof(name));
	if (r == -2 && n < HELLO_MAX)
		return;			/* more to come */
	if (r < 0) {
		/* Garbage, or a hello longer than we read. */
		conn_finish(c, END_BAD_HELLO);
		return;
	}
	if (r > 0) {
		/* Without memory it goes on, unlogged, but routed. */
		if (!cf.quiet)		/* read by the log alone */
			c->c_sni = strdup(name);
		for (i = 0; i < cf.nroutes; i++)
			if (sni_match(cf.routes[i].rt_pattern, name))
				break;
		if (i < cf.nroutes)
			tab = cf.routes[i].rt_tab;
	}
	conn_dial(c, tab);
}

static void
conn_event(struct evloop *ev, int fd, int what, void *arg)
{
	struct conn	*c = arg;
	int		 e;

	switch (c->c_state) {
	case CONN_PROXYHDR:
		c->c_seen |= (uint8_t)what;
		proxy_read(c);
		return;
	case CONN_HELLO:
		c->c_seen |= (uint8_t)what;
		hello_read(c);
		return;
	case CONN_RELAY:
		c->c_last = evloop_now(ev);
		if ((e = relay_io(&c->c_relay, fd, what)) != RELAY_OPEN)
			conn_finish(c, end_of(e));
		else
			conn_count(c);
		return;
	default:
		/* Dialing: the client's bytes wait in the kernel. */
		c->c_seen |= (uint8_t)what;
		return;
	}
}

/* ---- the worker's side ---- */

static int
lbw_init(struct worker *wk)
{
	struct lbw	*w;
	size_t		 i;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return (-1);
	w->w_worker = wk;
	w->w_ev = worker_loop(wk);
	slab_init(&w->w_conns, sizeof(struct conn), CONN_CHUNK);
	if (relay_ctx_init(&w->w_relay, 0, cf.pipe_pool) == -1)
		return (-1);
	relay_ctx_budget(&w->w_relay, worker_fds_take, worker_fds_give);
	w->w_log = alog_worker(cf.log, worker_id(wk));
	if (cf.nroutes > 0 && (w->w_hello = malloc(HELLO_MAX)) == NULL)
		return (-1);
	if ((w->w_tab = calloc(tableset_count(cf.ts),
	    sizeof(*w->w_tab))) == NULL)
		return (-1);
	w->w_ver = tableset_version(cf.ts);
	for (i = 0; i < tableset_count(cf.ts); i++)
		if ((w->w_tab[i] = wtab_new(w, i)) == NULL)
			return (-1);
	worker_set_data(wk, w);
	return (0);
}

static void
lbw_accept(struct worker *wk, int li, int fd, const struct addr *peer)
{
	struct lbw	*w = worker_data(wk);
	struct conn	*c;

	(void)li;
	if ((c = slab_get(&w->w_conns)) == NULL) {
		close(fd);
		worker_conn_end(wk);
		return;
	}
	if (tableset_version(cf.ts) != w->w_ver)
		wtab_follow(w);
	c->c_w = w;
	c->c_cfd = fd;
	c->c_seen = 0;
	c->c_client = *peer;
	c->c_start = evloop_now(w->w_ev);
	c->c_up = c->c_down = 0;
	c->c_prelen = 0;
	c->c_sni = NULL;
	c->c_wt = w->w_tab[0];
	c->c_wt->wt_uses++;
	memset(&c->c_timer, 0, sizeof(c->c_timer));
	memset(&c->c_dial, 0, sizeof(c->c_dial));
	c->c_dial.d_fd = -1;
	c->c_state = cf.proxy_in ? CONN_PROXYHDR : cf.nroutes > 0 ?
	    CONN_HELLO : CONN_DIAL;
	if (cf.proxy_out) {
		c->c_dst.a_len = sizeof(c->c_dst.a_ss);
		if (getsockname(fd, (struct sockaddr *)&c->c_dst.a_ss,
		    &c->c_dst.a_len) == -1)
			c->c_dst.a_ss.ss_family = AF_UNSPEC;
	}
	if (evloop_add(w->w_ev, fd, EVLOOP_READ | EVLOOP_WRITE, conn_event,
	    c) == -1) {
		c->c_state = CONN_PROXYHDR;
		conn_finish(c, END_ERROR);
		return;
	}
	if (c->c_state == CONN_DIAL) {
		conn_dial(c, 0);
		return;
	}
	evtimer_set(w->w_ev, &c->c_timer, cf.dial.dc_conn_ms, on_conn_timer,
	    c);
	if (cf.proxy_in)
		proxy_read(c);
	else
		hello_read(c);
}

static void
cut_one(void *p, void *arg)
{
	struct conn	*c = p;

	(void)arg;
	if (c->c_state != CONN_FREE)
		conn_finish(c, END_STOPPED);
}

static void
lbw_cut(struct worker *wk)
{
	struct lbw	*w = worker_data(wk);

	slab_walk(&w->w_conns, cut_one, NULL);
}

static void
lbw_fini(struct worker *wk)
{
	struct lbw	*w = worker_data(wk);
	size_t		 i;

	if (w == NULL)
		return;
	alog_done(w->w_log);
	for (i = 0; i < tableset_count(cf.ts); i++)
		wtab_free(w->w_tab[i]);
	free(w->w_tab);
	free(w->w_hello);
	relay_ctx_free(&w->w_relay);
	slab_free(&w->w_conns);
	free(w);
	worker_set_data(wk, NULL);
}

/* ---- the main thread ---- */

static void
on_tick(void *arg)
{
	(void)arg;
	tableset_tick(cf.ts);
	alog_tick(cf.log);
}

static void
on_hup(void *arg)
{
	char	 ebuf[600];
	int	 n;

	(void)arg;
	if (cf.file == NULL) {
		log_info("HUP: no -f file to read");
		return;
	}
	/* A bad file, or an emptied one, leaves the table as it was. */
	if ((n = bset_reload(&cf.bs, tableset_table(cf.ts, 0),
	    tableset_is_own(cf.ts, 0), ebuf, sizeof(ebuf))) == -1) {
		log_warnx("HUP: %s", esc_arg(ebuf));
		return;
	}
	log_info("HUP: %d backends from %s", n, esc_arg(cf.file));
}

/*
 * -s PATTERN=TABLE: add a route.  A pattern is a server name or "*." and
 * one, of the bytes sni_parse() lets through.
 */
static void
route_add(char *arg)
{
	struct route	*r;
	char		*eq, *p, ebuf[512];
	size_t		 k;

	if ((eq = strchr(arg, '=')) == NULL)
		errx(2, "bad route '%s': PATTERN=TABLE", esc_arg(arg));
	*eq = '\0';
	p = strncmp(arg, "*.", 2) == 0 ? arg + 2 : arg;
	if (*p == '\0' || strlen(arg) >= SNI_NAME_MAX ||
	    strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.") != strlen(p)) {
		*eq = '=';
		errx(2, "bad route pattern in '%s': a name or *.name",
		    esc_arg(arg));
	}
	if (table_name_check(eq + 1, ebuf, sizeof(ebuf)) == -1)
		errx(2, "%s", esc_arg(ebuf));
	for (k = 0; k < cf.nroutes; k++)
		if (strcasecmp(cf.routes[k].rt_pattern, arg) == 0)
			errx(2, "route pattern '%s' named twice", esc_arg(arg));
	if ((r = reallocarray(cf.routes, cf.nroutes + 1,
	    sizeof(*r))) == NULL)
		err(1, NULL);
	cf.routes = r;
	r[cf.nroutes].rt_pattern = arg;
	r[cf.nroutes].rt_table = eq + 1;
	cf.nroutes++;
}

static uint64_t
dur_arg(const char *s, int ch, uint64_t min)
{
	uint64_t	 ms;
	char		 why[128];

	if (dur_range(s, min, DUR_MAX_MS, &ms, why, sizeof(why)) == -1)
		errx(2, "bad -%c '%s': %s", ch, esc_arg(s), why);
	return (ms);
}

/* -x FAILS/TIME: skip a backend locally after FAILS failures in a row. */
static void
eject_arg(const char *s)
{
	char	 why[100];

	if (balance_eject_parse(s, &cf.eject_fails, &cf.eject_ms, why,
	    sizeof(why)) == -1)
		errx(2, "bad -x '%s': %s", esc_arg(s), why);
}

static mode_t
mode_arg(const char *s)
{
	mode_t	 m;

	if (table_mode_parse(s, &m) == -1)
		errx(2, "bad mode '%s': octal, 1 to 0777", esc_arg(s));
	return (m);
}

static void
parse_args(int argc, char *argv[])
{
	const char	*e, *ocols = NULL;
	char		 ebuf[1024];
	int		 ch;
	long		 ncpu;

	cf.algo = BALANCE_RR;
	cf.dial.dc_retries = 3;
	cf.dial.dc_queue_len = 1024;
	cf.dial.dc_conn_ms = 5000;
	cf.dial.dc_queue_ms = 5000;
	cf.idle_ms = 300000;
	cf.grace_ms = 10000;
	cf.eject_fails = 3;
	cf.eject_ms = 10000;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cf.nworkers = ncpu > 0 ? (int)ncpu : 1;

	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		usage(0);
	while ((ch = getopt(argc, argv,
	    "1a:c:f:g:Hhi:jl:m:n:o:P:pQ:qr:S:s:t:Vvw:x:")) != -1) {
		switch (ch) {
		case '1':
			cf.print_addr = 1;
			break;
		case 'a':
			if ((cf.algo = balance_algo_parse(optarg)) == -1)
				errx(2, "bad algorithm '%s': rr, lc, p2c, "
				    "source or maglev", esc_arg(optarg));
			break;
		case 'c':
			cf.dial.dc_conn_ms = dur_arg(optarg, ch, 1);
			break;
		case 'f':
			cf.file = optarg;
			break;
		case 'g':
			cf.grace_ms = dur_arg(optarg, ch, 0);
			break;
		case 'H':
			cf.noheader = 1;
			break;
		case 'i':
			cf.idle_ms = dur_arg(optarg, ch, 1);
			break;
		case 'j':
			cf.json = 1;
			break;
		case 'l':
			cf.listen_spec = optarg;
			break;
		case 'm':
			cf.mode = mode_arg(optarg);
			break;
		case 'n':
			cf.dial.dc_queue_len = (uint32_t)strtonum(optarg, 0,
			    1000000, &e);
			if (e != NULL)
				errx(2, "bad queue length '%s': 0 to 1000000",
				    esc_arg(optarg));
			break;
		case 'o':
			ocols = optarg;
			break;
		case 'P':
			if (strcmp(optarg, "v1") == 0)
				cf.proxy_out = 1;
			else if (strcmp(optarg, "v2") == 0)
				cf.proxy_out = 2;
			else
				errx(2, "bad PROXY version '%s': v1 or v2",
				    esc_arg(optarg));
			break;
		case 'p':
			cf.proxy_in = 1;
			break;
		case 'Q':
			cf.dial.dc_queue_ms = dur_arg(optarg, ch, 1);
			break;
		case 'q':
			cf.quiet = 1;
			break;
		case 'r':
			cf.dial.dc_retries = (int)strtonum(optarg, 0,
			    BALANCE_TRIED_MAX - 1, &e);
			if (e != NULL)
				errx(2, "bad retries '%s': 0 to %d",
				    esc_arg(optarg), BALANCE_TRIED_MAX - 1);
			break;
		case 'S':
			cf.slowstart_ms = dur_arg(optarg, ch, 0);
			break;
		case 's':
			route_add(optarg);
			break;
		case 't':
			if (cf.table_spec != NULL)
				errx(2, "-t given twice: one table (-s routes "
				    "to others)");
			cf.table_spec = optarg;
			break;
		case 'V':
			printf("lb-tcp %s\n", LB_VERSION);
			exit(0);
		case 'v':
			cf.verbose++;
			break;
		case 'w':
			cf.nworkers = (int)strtonum(optarg, 1, 256, &e);
			if (e != NULL)
				errx(2, "bad workers '%s': 1 to 256",
				    esc_arg(optarg));
			break;
		case 'x':
			eject_arg(optarg);
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (cols_parse(&cf.cols, log_fields, NLF, ocols != NULL ? ocols :
	    cf.nroutes > 0 ? "time,client,backend,bytes_in,bytes_out,ms,end,"
	    "sni" : "time,client,backend,bytes_in,bytes_out,ms,end", ebuf,
	    sizeof(ebuf)) == -1)
		errx(2, "-o: %s", ebuf);
}

/* Backends: syntax first (usage), then names (run time). */
static void
backends(int argc, char *argv[])
{
	char	 ebuf[600];
	int	 r;

	if (argc == 0 && cf.file == NULL && cf.table_spec == NULL &&
	    cf.nroutes == 0)
		errx(2, "no backends: name some, or give -f file or -t table");
	if ((r = bset_init(&cf.bs, argv, (size_t)argc, cf.file, ebuf,
	    sizeof(ebuf))) != 0)
		errx(r, "%s", esc_arg(ebuf));
	if (cf.file != NULL && bset_count(&cf.bs) == 0 &&
	    cf.table_spec == NULL && cf.nroutes == 0)
		errx(1, "%s: no backends", esc_arg(cf.file));
}

/* The table (ours, named after the listener, or -t) and the routes'. */
static void
tables(const struct addr *bound)
{
	char	 ebuf[600];
	size_t	 k;
	int	 i;

	if ((cf.ts = tableset_new(cf.mode)) == NULL)
		err(1, NULL);
	if (cf.table_spec == NULL)
		i = tableset_own(cf.ts, "tcp", cf.listen_spec, bound, ebuf,
		    sizeof(ebuf));
	else
		i = tableset_add(cf.ts, cf.table_spec, ebuf, sizeof(ebuf));
	if (i == -1)
		errx(1, "%s", esc_arg(ebuf));
	if (bset_load(&cf.bs, tableset_table(cf.ts, 0),
	    tableset_is_own(cf.ts, 0), ebuf, sizeof(ebuf)) == -1)
		errx(1, "%s", esc_arg(ebuf));
	for (k = 0; k < cf.nroutes; k++) {
		if ((i = tableset_add(cf.ts, cf.routes[k].rt_table, ebuf,
		    sizeof(ebuf))) == -1)
			errx(1, "%s", esc_arg(ebuf));
		cf.routes[k].rt_tab = (size_t)i;
		log_info("route %s: table %s", cf.routes[k].rt_pattern,
		    tableset_name(cf.ts, (size_t)i));
	}
}

static const struct worker_ops lbw_ops = {
	lbw_init, lbw_accept, lbw_cut, lbw_fini, on_tick, on_hup
};

int
main(int argc, char *argv[])
{
	struct worker_conf wc;
	const struct addr *bound;
	char		 ebuf[512], as[ADDR_STRLEN];
	long		 nofile;

	/* From the first instruction: a TERM now waits for the loop. */
	worker_signals();
	log_init("lb-tcp", 0);
	parse_args(argc, argv);
	argc -= optind;
	argv += optind;
	log_init("lb-tcp", cf.verbose);
	if (cf.listen_spec == NULL)
		errx(2, "no listener: give -l [addr]:port");
	if (addr_check(cf.listen_spec, ADDR_PASSIVE, ebuf, sizeof(ebuf)) == -1)
		errx(2, "bad listen address '%s': %s",
		    esc_arg(cf.listen_spec), esc_arg(ebuf));
	if (cf.table_spec != NULL && table_name_check(cf.table_spec, ebuf,
	    sizeof(ebuf)) == -1)
		errx(2, "%s", esc_arg(ebuf));
	if (cf.idle_ms == 0 || cf.dial.dc_conn_ms == 0)
		errx(2, "timeouts must be above zero");
	backends(argc, argv);
	if (addr_resolve(cf.listen_spec, ADDR_PASSIVE, &cf.listen, ebuf,
	    sizeof(ebuf)) == -1)
		errx(1, "listen address %s", esc_arg(ebuf));

	/* Idle pipes are descriptors too: fewer when there are few. */
	nofile = sock_nofile_raise();
	cf.pipe_pool = (size_t)(nofile / (16 * cf.nworkers));
	if (cf.pipe_pool > PIPE_POOL)
		cf.pipe_pool = PIPE_POOL;
	memset(&wc, 0, sizeof(wc));
	wc.wc_ops = &lbw_ops;
	wc.wc_nworkers = cf.nworkers;
	wc.wc_listen = &cf.listen;
	wc.wc_nlisten = 1;
	wc.wc_grace_ms = cf.grace_ms;
	wc.wc_fds = CONN_FDS;
	wc.wc_fds_spare = 16;
	wc.wc_verbose = cf.verbose;
	if (worker_listen(&wc, ebuf, sizeof(ebuf)) == -1)
		errx(1, "listen %s", esc_arg(ebuf));
	bound = worker_bound(0);
	tables(bound);
	if ((cf.log = alog_new(STDOUT_FILENO, cf.nworkers, 0)) == NULL)
		err(1, "access log");

	if (cf.print_addr)
		printf("%s\ntable %s\n", addr_fmt(bound, as, sizeof(as)),
		    tableset_name(cf.ts, 0));
	/* The header line names the fields of the lines that follow. */
	if (!cf.quiet && !cf.json && !cf.noheader)
		cols_print_header(stdout, &cf.cols);
	fflush(stdout);
	log_info("listening on %s, table %s, %d workers, %s",
	    addr_fmt(bound, as, sizeof(as)), tableset_name(cf.ts, 0),
	    cf.nworkers, balance_algo_str(cf.algo));
	if (worker_run(&wc, ebuf, sizeof(ebuf)) == -1)
		errx(1, "%s", esc_arg(ebuf));
	alog_free(cf.log);
	tableset_free(cf.ts);
	free(cf.routes);
	bset_free(&cf.bs);
	return (0);
}
