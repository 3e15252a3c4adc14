/* lb-tcp: the Layer 4 balancer: accept, pick a backend, splice both ways. */
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <linux/filter.h>

#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "balance.h"
#include "blist.h"
#include "dur.h"
#include "evloop.h"
#include "log.h"
#include "proxyproto.h"
#include "relay.h"
#include "sni.h"
#include "sock.h"
#include "table.h"

#define CONN_CHUNK	256		/* connections allocated at a time */
#define LOG_BUFSZ	65536
#define LOG_FLUSH_MS	100
#define ACCEPT_PAUSE_MS	100		/* out of descriptors: try again after */
#define QUEUE_POLL_MS	20		/* a queued connection looks again */
#define HANDOVER_MS	200		/* on TERM: keep accepting this long */
#define PIPE_POOL	256		/* idle pipes kept per worker */
#define HELLO_MAX	16384		/* -s: most read of a ClientHello */

enum conn_state {
	CONN_FREE,
	CONN_PROXYHDR,			/* -p: reading the client's PROXY header */
	CONN_HELLO,			/* -s: peeking at the ClientHello */
	CONN_QUEUED,			/* every backend at maxconn: waiting */
	CONN_CONNECTING,
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

struct worker;

struct conn {
	struct worker	*c_w;
	struct conn	*c_next, *c_prev;	/* free list or queue */
	int		 c_state;		/* enum conn_state */
	int		 c_cfd, c_sfd;
	int		 c_picked;
	uint8_t		 c_seen[2];		/* events since evloop_add, by side */
	uint8_t		 c_known;		/* c_seen[1] is all there was */
	int		 c_attempts;
	uint64_t	 c_start;		/* evloop ms */
	uint64_t	 c_last;		/* last activity, evloop ms */
	uint64_t	 c_up, c_down;		/* bytes already counted */
	struct evtimer	 c_timer;
	struct addr	 c_client;
	struct addr	 c_dst;			/* the address it reached (-P) */
	struct balance_tried c_tried;
	struct balance_pick c_pick;
	struct relay	 c_relay;
	/* The table it was routed to (-s), and the server name it asked. */
	struct balance	*c_bal;
	struct table	*c_table;
	char		*c_sni;
	/* Bytes to send the backend first: the PROXY header hook. */
	size_t		 c_prelen;
	char		 c_pre[128];
};

struct worker {
	int		 w_id;
	pthread_t	 w_thread;
	struct evloop	*w_ev;
	int		 w_lfd;			/* -1 once closed */
	int		 w_lshared;		/* the fd is another worker's too */
	int		 w_efd;			/* eventfd: stop */
	struct balance	*w_bal;
	struct balance	**w_rbal;		/* -s: per table; [0]: w_bal */
	unsigned char	*w_hello;		/* -s: HELLO_MAX bytes */
	struct relay_ctx w_relay;
	struct conn	*w_free;
	struct conn	**w_chunks;
	size_t		 w_nchunks;
	uint64_t	 w_active;		/* conns not free */
	struct conn	*w_qhead, *w_qtail;
	uint64_t	 w_nqueued;
	int		 w_stopping;
	int		 w_paused;
	int		 w_inqueue;
	struct evtimer	 w_accept_timer, w_queue_timer, w_flush_timer;
	struct evtimer	 w_stop_timer;
	char		*w_log;
	size_t		 w_loglen;
	time_t		 w_tsec;
	char		 w_tbuf[32];
};

/* -s PATTERN=TABLE: a server name, or "*." and a suffix, to a table. */
struct route {
	char		*rt_pattern;
	const char	*rt_table;
	size_t		 rt_tab;		/* index in cf.tables */
};

/* Set before the workers start, read-only after. */
static struct {
	int		 algo;
	int		 json, quiet, verbose, print_addr;
	int		 proxy_in, proxy_out;
	int		 nworkers;
	int		 retries;
	uint32_t	 queue_len;
	uint64_t	 conn_ms, idle_ms, queue_ms, grace_ms, slowstart_ms;
	const char	*listen_spec, *table_spec, *file;
	struct addr	 listen;
	struct table	*table;
	char		 table_name[TABLE_NAME_MAX + 1];
	int		 own_table;
	/* -s: routes by server name, in order; tables[0] is table. */
	struct route	*routes;
	size_t		 nroutes;
	struct table	**tables;
	size_t		 ntables;
} cf;

static struct worker	*workers;

static void	conn_connect(struct conn *c);
static int	end_of(int relay_end);
static void	conn_event(struct evloop *, int, int, void *);
static void	do_accept(struct worker *w);
static void	hello_read(struct conn *c);

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: lb-tcp [-1hjpqVv] [-a rr|lc|p2c|source|maglev] "
	    "[-c timeout] [-f file]\n"
	    "              [-g grace] [-i timeout] [-n queue] [-P v1|v2] "
	    "[-Q timeout]\n"
	    "              [-r retries] [-S duration] [-s pattern=table] "
	    "[-t table]\n"
	    "              [-w workers] -l [addr]:port [backend ...]\n");
	exit(status);
}

/* ---- the access log ---- */

static void
log_flush(struct worker *w)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < w->w_loglen) {
		n = write(STDOUT_FILENO, w->w_log + off, w->w_loglen - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* nobody reads: drop it */
		off += (size_t)n;
	}
	w->w_loglen = 0;
}

static void
on_flush(struct evloop *ev, void *arg)
{
	(void)ev;
	log_flush(arg);
}

/* The time of ts to the second, formatted once a second. */
static const char *
log_time(struct worker *w, const struct timespec *ts)
{
	struct tm	 tm;

	if (ts->tv_sec != w->w_tsec) {
		gmtime_r(&ts->tv_sec, &tm);
		strftime(w->w_tbuf, sizeof(w->w_tbuf), "%Y-%m-%dT%H:%M:%S",
		    &tm);
		w->w_tsec = ts->tv_sec;
	}
	return (w->w_tbuf);
}

static void
log_conn(struct conn *c, int why)
{
	struct worker	*w = c->c_w;
	struct timespec	 ts;
	char		 client[ADDR_STRLEN], sni[SNI_NAME_MAX + 16];
	const char	*be = c->c_attempts > 0 ? c->c_pick.bp_name : "-";
	uint64_t	 up, down, ms;
	int		 n;

	if (cf.quiet)
		return;
	if (w->w_loglen > LOG_BUFSZ - 2048)
		log_flush(w);
	addr_fmt(&c->c_client, client, sizeof(client));
	up = c->c_state == CONN_RELAY ? relay_bytes(&c->c_relay, RELAY_UP) : 0;
	down = c->c_state == CONN_RELAY ? relay_bytes(&c->c_relay,
	    RELAY_DOWN) : 0;
	ms = evloop_now(w->w_ev) - c->c_start;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* -s: one more field, the server name asked for; "-" for none. */
	/* sni_parse() let only A-Z a-z 0-9 - _ . through: no escaping. */
	sni[0] = '\0';
	if (cf.nroutes > 0 && cf.json)
		snprintf(sni, sizeof(sni), ",\"sni\":\"%s\"",
		    c->c_sni != NULL ? c->c_sni : "");
	else if (cf.nroutes > 0)
		snprintf(sni, sizeof(sni), "\t%s",
		    c->c_sni != NULL ? c->c_sni : "-");
	if (cf.json)
		n = snprintf(w->w_log + w->w_loglen, LOG_BUFSZ - w->w_loglen,
		    "{\"time\":\"%s.%03ldZ\",\"client\":\"%s\",\"backend\":"
		    "\"%s\",\"up\":%llu,\"down\":%llu,\"ms\":%llu,\"end\":"
		    "\"%s\"%s}\n", log_time(w, &ts), ts.tv_nsec / 1000000, client,
		    be, (unsigned long long)up, (unsigned long long)down,
		    (unsigned long long)ms, end_names[why], sni);
	else
		n = snprintf(w->w_log + w->w_loglen, LOG_BUFSZ - w->w_loglen,
		    "%s.%03ldZ\t%s\t%s\t%llu\t%llu\t%llu\t%s%s\n", log_time(w, &ts),
		    ts.tv_nsec / 1000000, client, be, (unsigned long long)up,
		    (unsigned long long)down, (unsigned long long)ms,
		    end_names[why], sni);
	if (n > 0 && (size_t)n < LOG_BUFSZ - w->w_loglen)
		w->w_loglen += (size_t)n;
	if (w->w_flush_timer.et_idx == 0)
		evtimer_set(w->w_ev, &w->w_flush_timer, LOG_FLUSH_MS, on_flush,
		    w);
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

static struct conn *
conn_get(struct worker *w)
{
	struct conn	*v, **nc;
	size_t		 i;

	if (w->w_free == NULL) {
		if ((v = calloc(CONN_CHUNK, sizeof(*v))) == NULL)
			return (NULL);
		if ((nc = reallocarray(w->w_chunks, w->w_nchunks + 1,
		    sizeof(*nc))) == NULL) {
			free(v);
			return (NULL);
		}
		w->w_chunks = nc;
		w->w_chunks[w->w_nchunks++] = v;
		for (i = 0; i < CONN_CHUNK; i++) {
			v[i].c_w = w;
			v[i].c_next = w->w_free;
			w->w_free = &v[i];
		}
	}
	v = w->w_free;
	w->w_free = v->c_next;
	v->c_next = v->c_prev = NULL;
	v->c_cfd = v->c_sfd = -1;
	v->c_picked = v->c_attempts = 0;
	v->c_seen[0] = v->c_seen[1] = v->c_known = 0;
	v->c_up = v->c_down = 0;
	v->c_prelen = 0;
	v->c_tried.bt_n = 0;
	v->c_pick.bp_name[0] = '\0';
	v->c_bal = w->w_bal;
	v->c_table = cf.table;
	v->c_sni = NULL;
	memset(&v->c_timer, 0, sizeof(v->c_timer));
	w->w_active++;
	return (v);
}

static void
queue_del(struct conn *c)
{
	struct worker	*w = c->c_w;

	if (c->c_prev != NULL)
		c->c_prev->c_next = c->c_next;
	else
		w->w_qhead = c->c_next;
	if (c->c_next != NULL)
		c->c_next->c_prev = c->c_prev;
	else
		w->w_qtail = c->c_prev;
	c->c_next = c->c_prev = NULL;
	w->w_nqueued--;
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
	if ((tc = table_counters(c->c_table, c->c_pick.bp_slot)) != NULL) {
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
queue_run(struct worker *w)
{
	struct conn	*c;
	uint64_t	 before;

	/* Not again from a connection it ends on the way. */
	if (w->w_inqueue)
		return;
	w->w_inqueue = 1;
	/* In order: stop at the first that must wait on. */
	while ((c = w->w_qhead) != NULL) {
		before = w->w_nqueued;
		queue_del(c);
		conn_connect(c);
		if (w->w_nqueued >= before)
			break;
	}
	w->w_inqueue = 0;
}

static void
on_queue_poll(struct evloop *ev, void *arg)
{
	struct worker	*w = arg;

	queue_run(w);
	if (w->w_qhead != NULL)
		evtimer_set(ev, &w->w_queue_timer, QUEUE_POLL_MS,
		    on_queue_poll, w);
}

static void
conn_finish(struct conn *c, int why)
{
	struct worker	*w = c->c_w;
	struct evloop	*ev = w->w_ev;

	log_conn(c, why);
	evtimer_cancel(ev, &c->c_timer);
	if (c->c_state == CONN_QUEUED)
		queue_del(c);
	/* Closed right below, and never shared: no EPOLL_CTL_DEL needed. */
	if (c->c_state == CONN_RELAY) {
		conn_count(c);
		evloop_forget(ev, c->c_cfd);
		evloop_forget(ev, c->c_sfd);
		relay_close(&c->c_relay);
	} else {
		if (c->c_cfd != -1) {
			evloop_forget(ev, c->c_cfd);
			close(c->c_cfd);
		}
		if (c->c_sfd != -1) {
			evloop_forget(ev, c->c_sfd);
			close(c->c_sfd);
		}
	}
	if (c->c_picked)
		balance_done(c->c_bal, &c->c_pick);
	c->c_picked = 0;
	free(c->c_sni);
	c->c_sni = NULL;
	c->c_cfd = c->c_sfd = -1;
	c->c_state = CONN_FREE;
	c->c_prev = NULL;
	c->c_next = w->w_free;
	w->w_free = c;
	w->w_active--;
	/* A slot may have come free: the queue goes first. */
	if (w->w_qhead != NULL)
		queue_run(w);
	if (w->w_paused) {
		w->w_paused = 0;
		evtimer_cancel(ev, &w->w_accept_timer);
		do_accept(w);
	}
	if (w->w_stopping && w->w_lfd == -1 && w->w_active == 0)
		evloop_stop(ev);
}

/* The backend picked did not connect: count it failed, let it go. */
static void
conn_unpick(struct conn *c)
{
	int	 saved = errno;

	balance_fail(c->c_bal, &c->c_pick);
	balance_done(c->c_bal, &c->c_pick);
	c->c_picked = 0;
	if (c->c_sfd != -1) {
		evloop_forget(c->c_w->w_ev, c->c_sfd);
		close(c->c_sfd);
		c->c_sfd = -1;
	}
	errno = saved;			/* the caller may still look at it */
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
	case CONN_QUEUED:
		conn_finish(c, END_QUEUE_TIMEOUT);
		break;
	case CONN_CONNECTING:
		/* A silent backend: count it failed and try the next. */
		conn_unpick(c);
		log_info("%s: connect timed out", c->c_pick.bp_name);
		conn_connect(c);
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
	struct worker	*w = c->c_w;
	int		 e;

	ssize_t		 n;

	balance_ok(c->c_bal, &c->c_pick);
	if (cf.proxy_out) {
		n = proxyproto_write(cf.proxy_out,
		    (const struct sockaddr *)&c->c_client.a_ss,
		    (const struct sockaddr *)&c->c_dst.a_ss, c->c_pre,
		    sizeof(c->c_pre));
		c->c_prelen = n > 0 ? (size_t)n : 0;
	}
	c->c_state = CONN_RELAY;
	relay_start(&c->c_relay, &w->w_relay, c->c_cfd, c->c_sfd);
	/* Every event of the client so far came through conn_event(). */
	relay_seen(&c->c_relay, 0, c->c_seen[0]);
	if (c->c_known)
		relay_seen(&c->c_relay, 1, c->c_seen[1]);
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

/*
 * Pick a backend and connect; a refusal tries the next, up to the retry
 * limit.  Every backend full: the connection waits in the queue.
 */
static void
conn_connect(struct conn *c)
{
	struct worker	*w = c->c_w;
	const void	*key;
	size_t		 keylen;
	int		 fd, pending;

	key = conn_key(c, &keylen);
	for (;;) {
		if (c->c_attempts > cf.retries) {
			conn_finish(c, END_CONNECT_FAIL);
			return;
		}
		if (balance_pick(c->c_bal, key, keylen, &c->c_tried,
		    &c->c_pick) == -1) {
			if (c->c_attempts > 0)
				conn_finish(c, END_CONNECT_FAIL);
			else if (balance_why(c->c_bal) != BALANCE_FULL)
				conn_finish(c, END_NO_BACKEND);
			else if (cf.queue_len == 0 || cf.queue_ms == 0 ||
			    (w->w_nqueued >= cf.queue_len &&
			    c->c_state != CONN_QUEUED))
				conn_finish(c, END_QUEUE_FULL);
			else {
				/* Back in line, at the head if it was there. */
				if (c->c_state != CONN_QUEUED) {
					c->c_state = CONN_QUEUED;
					evtimer_set(w->w_ev, &c->c_timer,
					    cf.queue_ms, on_conn_timer, c);
					c->c_prev = w->w_qtail;
					c->c_next = NULL;
					if (w->w_qtail != NULL)
						w->w_qtail->c_next = c;
					else
						w->w_qhead = c;
					w->w_qtail = c;
				} else {
					c->c_prev = NULL;
					c->c_next = w->w_qhead;
					if (w->w_qhead != NULL)
						w->w_qhead->c_prev = c;
					else
						w->w_qtail = c;
					w->w_qhead = c;
				}
				w->w_nqueued++;
				if (w->w_queue_timer.et_idx == 0)
					evtimer_set(w->w_ev, &w->w_queue_timer,
					    QUEUE_POLL_MS, on_queue_poll, w);
			}
			return;
		}
		if (c->c_state == CONN_QUEUED) {
			/* queue_run() took it out: its wait is over. */
			evtimer_cancel(w->w_ev, &c->c_timer);
			c->c_state = CONN_CONNECTING;
		}
		c->c_picked = 1;
		c->c_attempts++;
		if ((fd = sock_connect(&c->c_pick.bp_addr, &pending)) == -1) {
			log_info("%s: connect: %s", c->c_pick.bp_name,
			    strerror(errno));
			conn_unpick(c);
			if (errno == EMFILE || errno == ENFILE) {
				conn_finish(c, END_ERROR);
				return;
			}
			continue;
		}
		c->c_sfd = fd;
		c->c_seen[1] = 0;
		c->c_known = pending;	/* else relay at once, events unseen */
		if (evloop_add(w->w_ev, fd, EVLOOP_READ | EVLOOP_WRITE,
		    conn_event, c) == -1) {
			close(fd);
			c->c_sfd = -1;
			conn_finish(c, END_ERROR);
			return;
		}
		if (!pending) {
			conn_relay(c);
			return;
		}
		c->c_state = CONN_CONNECTING;
		evtimer_set(w->w_ev, &c->c_timer, cf.conn_ms, on_conn_timer, c);
		return;
	}
}

/*
 * -p: peek at what the client sent until a whole PROXY header is there,
 * then take exactly the header off the socket; the rest is the payload.
 */
static void
proxy_read(struct conn *c)
{
	struct worker	*w = c->c_w;
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
	evtimer_cancel(w->w_ev, &c->c_timer);
	c->c_state = CONN_CONNECTING;
	conn_connect(c);
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
	struct worker	*w = c->c_w;
	char		 name[SNI_NAME_MAX];
	ssize_t		 n;
	size_t		 i;
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
		if (i < cf.nroutes) {
			c->c_bal = w->w_rbal[cf.routes[i].rt_tab];
			c->c_table = cf.tables[cf.routes[i].rt_tab];
		}
	}
	evtimer_cancel(w->w_ev, &c->c_timer);
	c->c_state = CONN_CONNECTING;
	conn_connect(c);
}

static void
conn_event(struct evloop *ev, int fd, int what, void *arg)
{
	struct conn	*c = arg;
	int		 e;

	if (c->c_state != CONN_RELAY)
		c->c_seen[fd == c->c_cfd ? 0 : 1] |= (uint8_t)what;
	switch (c->c_state) {
	case CONN_PROXYHDR:
		if (fd == c->c_cfd)
			proxy_read(c);
		return;
	case CONN_HELLO:
		if (fd == c->c_cfd)
			hello_read(c);
		return;
	case CONN_CONNECTING:
		if (fd != c->c_sfd || !(what & (EVLOOP_WRITE | EVLOOP_HUP)))
			return;		/* the relay will read it */
		/* Writable with no error or hang-up: no SO_ERROR to ask. */
		if ((what & EVLOOP_HUP) && sock_connected(fd) == -1) {
			log_info("%s: connect: %s", c->c_pick.bp_name,
			    strerror(errno));
			evtimer_cancel(ev, &c->c_timer);
			conn_unpick(c);
			conn_connect(c);
			return;
		}
		evtimer_cancel(ev, &c->c_timer);
		conn_relay(c);
		return;
	case CONN_RELAY:
		c->c_last = evloop_now(ev);
		if ((e = relay_io(&c->c_relay, fd, what)) != RELAY_OPEN)
			conn_finish(c, end_of(e));
		else
			conn_count(c);
		return;
	default:
		/* Queued: the client's bytes wait in the kernel. */
		return;
	}
}

/* ---- the listener ---- */

static void
on_accept_timer(struct evloop *ev, void *arg)
{
	struct worker	*w = arg;

	(void)ev;
	w->w_paused = 0;
	do_accept(w);
}

static void
do_accept(struct worker *w)
{
	struct conn	*c;
	struct addr	 a;
	int		 fd;

	while (w->w_lfd != -1 && !w->w_paused) {
		a.a_len = sizeof(a.a_ss);
		fd = accept4(w->w_lfd, (struct sockaddr *)&a.a_ss, &a.a_len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Leave them in the backlog; look again soon. */
				if (!w->w_paused)
					log_info("accept: %s: pausing",
					    strerror(errno));
				w->w_paused = 1;
				evtimer_set(w->w_ev, &w->w_accept_timer,
				    ACCEPT_PAUSE_MS, on_accept_timer, w);
			}
			return;
		}
		if ((c = conn_get(w)) == NULL) {
			close(fd);
			continue;
		}
		c->c_cfd = fd;
		c->c_client = a;
		c->c_start = evloop_now(w->w_ev);
		c->c_state = cf.proxy_in ? CONN_PROXYHDR : CONN_CONNECTING;
		if (cf.proxy_out) {
			c->c_dst.a_len = sizeof(c->c_dst.a_ss);
			if (getsockname(fd, (struct sockaddr *)&c->c_dst.a_ss,
			    &c->c_dst.a_len) == -1)
				c->c_dst.a_ss.ss_family = AF_UNSPEC;
		}
		if (evloop_add(w->w_ev, fd, EVLOOP_READ | EVLOOP_WRITE,
		    conn_event, c) == -1) {
			conn_finish(c, END_ERROR);
			continue;
		}
		if (cf.proxy_in || cf.nroutes > 0) {
			evtimer_set(w->w_ev, &c->c_timer, cf.conn_ms,
			    on_conn_timer, c);
			if (cf.proxy_in)
				proxy_read(c);
			else {
				c->c_state = CONN_HELLO;
				hello_read(c);
			}
		} else
			conn_connect(c);
	}
}

static void
on_listen(struct evloop *ev, int fd, int what, void *arg)
{
	(void)ev;
	(void)fd;
	(void)what;
	do_accept(arg);
}

/* ---- stopping ---- */

static void
on_grace(struct evloop *ev, void *arg)
{
	struct worker	*w = arg;
	struct conn	*c;
	size_t		 i, k;

	/* Whatever is still open is cut. */
	for (i = 0; i < w->w_nchunks; i++)
		for (k = 0; k < CONN_CHUNK; k++) {
			c = &w->w_chunks[i][k];
			if (c->c_state != CONN_FREE)
				conn_finish(c, END_STOPPED);
		}
	evloop_stop(ev);
}

static void
on_handover(struct evloop *ev, void *arg)
{
	struct worker	*w = arg;

	/* The last who came in are served; then no more. */
	do_accept(w);
	evloop_del(ev, w->w_lfd);
	if (!w->w_lshared)
		close(w->w_lfd);
	w->w_lfd = -1;
	evtimer_cancel(ev, &w->w_accept_timer);
	if (w->w_active == 0) {
		evloop_stop(ev);
		return;
	}
	evtimer_set(ev, &w->w_stop_timer, cf.grace_ms > HANDOVER_MS ?
	    cf.grace_ms - HANDOVER_MS : 0, on_grace, w);
}

static void
on_stop(struct evloop *ev, int fd, int what, void *arg)
{
	struct worker	*w = arg;
	uint64_t	 v;

	(void)what;
	if (read(fd, &v, sizeof(v)) != sizeof(v) || w->w_stopping)
		return;
	w->w_stopping = 1;
	/*
	 * A new instance on the same port takes new connections from now
	 * on (see steer_away()); keep accepting a moment for those already
	 * on their way to us, so that none is refused.
	 */
	evtimer_set(ev, &w->w_stop_timer, cf.grace_ms < HANDOVER_MS ?
	    cf.grace_ms : HANDOVER_MS, on_handover, w);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	if (evloop_run(w->w_ev) == -1)
		fatal("worker %d: epoll", w->w_id);
	log_flush(w);
	return (NULL);
}

/*
 * Ask the kernel to hand new connections on our port to the sockets
 * bound after ours (a new instance's): a classic BPF program that
 * returns the index of the first of them.  With none, the index is out
 * of range and the kernel hashes as usual.
 */
static void
steer_away(int fd, int nsocks)
{
	struct sock_filter code[] = {
		{ BPF_RET | BPF_K, 0, 0, (uint32_t)nsocks },
	};
	struct sock_fprog prog = { 1, code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
	    sizeof(prog)) == -1)
		log_info("SO_ATTACH_REUSEPORT_CBPF: %s", strerror(errno));
}

/* ---- the table ---- */

/* The table's name when lb-tcp makes its own: tcp-PORT, tcp-HOST-PORT. */
static void
own_name(const struct addr *bound, char *buf, size_t len)
{
	char	 s[ADDR_STRLEN], *p;
	const char *spec = cf.listen_spec;
	size_t	 n;

	if (strncmp(spec, "unix:", 5) == 0)
		snprintf(s, sizeof(s), "unix-%s", spec + 5);
	else if (spec[0] == ':')
		snprintf(s, sizeof(s), "%d", addr_port(bound));
	else {
		addr_fmt(bound, s, sizeof(s));
		/* "[::1]:80" -> "::1-80" */
		if ((p = strrchr(s, ':')) != NULL)
			*p = '-';
		for (p = s; *p; p++)
			if (*p == '[' || *p == ']') {
				memmove(p, p + 1, strlen(p));
				p--;
			}
	}
	n = strlen(s);
	if (n > TABLE_NAME_MAX - 4)
		s[TABLE_NAME_MAX - 4] = '\0';
	snprintf(buf, len, "tcp-%.60s", s);
	for (p = buf; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		    *p == '_'))
			*p = '_';
}

/*
 * Bring the backends of the command line and the file (v[0..n)) into
 * the table: with sync, the table holds exactly those afterwards;
 * otherwise missing ones are added and those of the file updated.
 * prev[0..nprev) names the file's backends last time: those gone from
 * it are removed.  Returns 0 or -1 with err.
 */
static int
table_load(struct blist_entry *v, size_t n, int sync, char **prev,
    size_t nprev, char *err, size_t errlen)
{
	struct table	*t = cf.table;
	struct table_backend *be;
	size_t		 k, j;
	uint32_t	 i;
	int		 s;

	if (table_begin(t, err, errlen) == -1)
		return (-1);
	for (i = 0; i < table_hw(t); i++) {
		be = table_slot(t, i);
		if (be->be_uid == 0)
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(be->be_name, v[k].ble_name) == 0)
				break;
		if (k < n)
			continue;
		for (j = 0; j < nprev; j++)
			if (strcmp(be->be_name, prev[j]) == 0)
				break;
		if (sync || j < nprev)
			table_free(t, i);
	}
	for (k = 0; k < n; k++) {
		if ((s = table_find(t, v[k].ble_name)) != -1 &&
		    v[k].ble_line == 0 && !sync)
			continue;	/* there: the operator owns it now */
		if (s == -1 && (s = table_alloc(t)) == -1) {
			table_abort(t);
			snprintf(err, errlen, "table %s: full (%u slots): "
			    "cannot add '%s'", table_name(t),
			    table_capacity(t), v[k].ble_name);
			return (-1);
		}
		v[k].ble_set |= BLIST_NAME | BLIST_WEIGHT | BLIST_MAXCONN |
		    BLIST_STATE | BLIST_BACKUP;
		blist_apply(table_slot(t, (uint32_t)s), &v[k]);
	}
	table_commit(t);
	return (0);
}

/* Read the -f file and resolve it, appending to *v; -1 with err. */
static int
file_read(struct blist_entry **v, size_t *n, char *err, size_t errlen)
{
	struct blist_entry *fv = NULL, *nv;
	FILE		*fp;
	char		 why[300];
	size_t		 fn, k;

	if ((fp = fopen(cf.file, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", cf.file, strerror(errno));
		return (-1);
	}
	if (blist_read(fp, &fv, &fn, why, sizeof(why)) == -1) {
		fclose(fp);
		snprintf(err, errlen, "%s: %s", cf.file, why);
		return (-1);
	}
	fclose(fp);
	for (k = 0; k < fn; k++)
		if (blist_resolve(&fv[k], why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: line %d: %s", cf.file,
			    fv[k].ble_line, why);
			free(fv);
			return (-1);
		}
	if (fn == 0) {
		free(fv);
		return (0);
	}
	if ((nv = reallocarray(*v, *n + fn, sizeof(**v))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		free(fv);
		return (-1);
	}
	memcpy(nv + *n, fv, fn * sizeof(*fv));
	*v = nv;
	*n += fn;
	free(fv);
	return (0);
}

/* ---- main ---- */

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
		errx(2, "bad route '%s': PATTERN=TABLE", arg);
	*eq = '\0';
	p = strncmp(arg, "*.", 2) == 0 ? arg + 2 : arg;
	if (*p == '\0' || strlen(arg) >= SNI_NAME_MAX ||
	    strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.") != strlen(p)) {
		*eq = '=';
		errx(2, "bad route pattern in '%s': a name or *.name", arg);
	}
	if (table_name_check(eq + 1, ebuf, sizeof(ebuf)) == -1)
		errx(2, "%s", ebuf);
	for (k = 0; k < cf.nroutes; k++)
		if (strcasecmp(cf.routes[k].rt_pattern, arg) == 0)
			errx(2, "route pattern '%s' named twice", arg);
	if ((r = reallocarray(cf.routes, cf.nroutes + 1,
	    sizeof(*r))) == NULL)
		err(1, NULL);
	cf.routes = r;
	r[cf.nroutes].rt_pattern = arg;
	r[cf.nroutes].rt_table = eq + 1;
	cf.nroutes++;
}

/*
 * Attach the tables of the routes (made if missing, as with -t, and
 * left behind); a table named more than once is opened once.
 */
static void
route_tables(void)
{
	struct table	*t;
	size_t		 k, j;
	char		 ebuf[512];

	if ((cf.tables = calloc(cf.nroutes + 1, sizeof(*cf.tables))) == NULL)
		err(1, NULL);
	cf.tables[0] = cf.table;
	cf.ntables = 1;
	for (k = 0; k < cf.nroutes; k++) {
		if (strcmp(cf.routes[k].rt_table, cf.table_name) == 0) {
			cf.routes[k].rt_tab = 0;
			continue;
		}
		for (j = 0; j < k; j++)
			if (strcmp(cf.routes[j].rt_table,
			    cf.routes[k].rt_table) == 0)
				break;
		if (j < k) {
			cf.routes[k].rt_tab = cf.routes[j].rt_tab;
			continue;
		}
		if ((t = table_open(cf.routes[k].rt_table, TABLE_RDWR |
		    TABLE_CREATE, 0, 0, ebuf, sizeof(ebuf))) == NULL)
			errx(1, "table %s: %s", cf.routes[k].rt_table, ebuf);
		if (table_register(t, ebuf, sizeof(ebuf)) == -1)
			errx(1, "table %s: %s", cf.routes[k].rt_table, ebuf);
		cf.routes[k].rt_tab = cf.ntables;
		cf.tables[cf.ntables++] = t;
	}
	for (k = 0; k < cf.nroutes; k++)
		log_info("route %s: table %s", cf.routes[k].rt_pattern,
		    table_name(cf.tables[cf.routes[k].rt_tab]));
}

static uint64_t
dur_arg(const char *s, int ch)
{
	uint64_t	 ms;

	if (dur_parse(s, &ms) == -1)
		errx(2, "bad duration for -%c '%s': like 250ms, 2s, 1m", ch, s);
	return (ms);
}

int
main(int argc, char *argv[])
{
	struct blist_entry *v = NULL;
	struct addr	 bound;
	struct worker	*w;
	sigset_t	 sigs;
	const char	*e;
	char		 ebuf[512], as[ADDR_STRLEN], **fnames = NULL;
	size_t		 n = 0, nargs, k, nfnames = 0;
	long		 ncpu, nofile;
	int		 ch, i, sig, lfd, shared_fd = -1, sync;

	log_init("lb-tcp", 0);
	cf.algo = BALANCE_RR;
	cf.retries = 3;
	cf.queue_len = 1024;
	cf.conn_ms = 5000;
	cf.idle_ms = 300000;
	cf.queue_ms = 5000;
	cf.grace_ms = 10000;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cf.nworkers = ncpu > 0 ? (int)ncpu : 1;

	while ((ch = getopt(argc, argv,
	    "1a:c:f:g:hi:jl:n:P:pQ:qr:S:s:t:Vvw:")) != -1) {
		switch (ch) {
		case '1':
			cf.print_addr = 1;
			break;
		case 'a':
			if ((cf.algo = balance_algo_parse(optarg)) == -1)
				errx(2, "bad algorithm '%s': rr, lc, p2c, "
				    "source or maglev", optarg);
			break;
		case 'c':
			cf.conn_ms = dur_arg(optarg, ch);
			break;
		case 'f':
			cf.file = optarg;
			break;
		case 'g':
			cf.grace_ms = dur_arg(optarg, ch);
			break;
		case 'i':
			cf.idle_ms = dur_arg(optarg, ch);
			break;
		case 'j':
			cf.json = 1;
			break;
		case 'l':
			cf.listen_spec = optarg;
			break;
		case 'n':
			cf.queue_len = (uint32_t)strtonum(optarg, 0, 1000000,
			    &e);
			if (e != NULL)
				errx(2, "bad queue length '%s': 0 to 1000000",
				    optarg);
			break;
		case 'P':
			if (strcmp(optarg, "v1") == 0)
				cf.proxy_out = 1;
			else if (strcmp(optarg, "v2") == 0)
				cf.proxy_out = 2;
			else
				errx(2, "bad PROXY version '%s': v1 or v2",
				    optarg);
			break;
		case 'p':
			cf.proxy_in = 1;
			break;
		case 'Q':
			cf.queue_ms = dur_arg(optarg, ch);
			break;
		case 'q':
			cf.quiet = 1;
			break;
		case 'r':
			cf.retries = (int)strtonum(optarg, 0,
			    BALANCE_TRIED_MAX - 1, &e);
			if (e != NULL)
				errx(2, "bad retries '%s': 0 to %d", optarg,
				    BALANCE_TRIED_MAX - 1);
			break;
		case 'S':
			cf.slowstart_ms = dur_arg(optarg, ch);
			break;
		case 's':
			route_add(optarg);
			break;
		case 't':
			cf.table_spec = optarg;
			break;
		case 'V':
			printf("lb-tcp %s\n", LB_VERSION);
			return (0);
		case 'v':
			cf.verbose++;
			break;
		case 'w':
			cf.nworkers = (int)strtonum(optarg, 1, 256, &e);
			if (e != NULL)
				errx(2, "bad workers '%s': 1 to 256", optarg);
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	log_init("lb-tcp", cf.verbose);
	if (cf.listen_spec == NULL)
		errx(2, "no listener: give -l [addr]:port");
	if (addr_check(cf.listen_spec, ADDR_PASSIVE, ebuf, sizeof(ebuf)) == -1)
		errx(2, "bad listen address '%s': %s", cf.listen_spec, ebuf);
	if (cf.table_spec != NULL && table_name_check(cf.table_spec, ebuf,
	    sizeof(ebuf)) == -1)
		errx(2, "%s", ebuf);
	if (cf.idle_ms == 0 || cf.conn_ms == 0)
		errx(2, "timeouts must be above zero");

	/* Backends: syntax first (usage), then names (run time). */
	nargs = (size_t)argc;
	if (nargs == 0 && cf.file == NULL && cf.table_spec == NULL &&
	    cf.nroutes == 0)
		errx(2, "no backends: name some, or give -f file or -t table");
	if (nargs > 0 && (v = calloc(nargs, sizeof(*v))) == NULL)
		err(1, NULL);
	for (k = 0; k < nargs; k++) {
		if (blist_words(&argv[k], 1, &v[k], ebuf, sizeof(ebuf)) == -1)
			errx(2, "bad backend '%s': %s", argv[k], ebuf);
		for (i = 0; i < (int)k; i++)
			if (strcmp(v[i].ble_name, v[k].ble_name) == 0)
				errx(2, "backend '%s' named twice", argv[k]);
	}
	for (k = 0; k < nargs; k++)
		if (blist_resolve(&v[k], ebuf, sizeof(ebuf)) == -1)
			errx(1, "%s", ebuf);
	n = nargs;
	if (cf.file != NULL) {
		if (file_read(&v, &n, ebuf, sizeof(ebuf)) == -1)
			errx(1, "%s", ebuf);
		if (n == nargs && cf.table_spec == NULL && nargs == 0 &&
		    cf.nroutes == 0)
			errx(1, "%s: no backends", cf.file);
	}

	if (addr_resolve(cf.listen_spec, ADDR_PASSIVE, &cf.listen, ebuf,
	    sizeof(ebuf)) == -1)
		errx(1, "listen address %s", ebuf);
	nofile = sock_nofile_raise();
	log_info("open files: %ld", nofile);

	if ((workers = calloc((size_t)cf.nworkers, sizeof(*workers))) == NULL)
		err(1, NULL);
	/* Listeners first: port 0 is settled by the first of them. */
	for (i = 0; i < cf.nworkers; i++) {
		w = &workers[i];
		w->w_id = i;
		if (cf.listen.a_ss.ss_family == AF_UNIX && shared_fd != -1) {
			w->w_lfd = shared_fd;
			w->w_lshared = 1;
			continue;
		}
		if ((lfd = sock_listen(&cf.listen, SOCK_BACKLOG, ebuf,
		    sizeof(ebuf))) == -1)
			errx(1, "listen %s", ebuf);
		if (i == 0) {
			if (sock_bound(lfd, &bound) == -1)
				err(1, "getsockname");
			if (cf.listen.a_ss.ss_family != AF_UNIX)
				cf.listen = bound;
			else
				shared_fd = lfd;
		}
		w->w_lfd = lfd;
	}
	if (cf.listen.a_ss.ss_family == AF_UNIX) {
		workers[0].w_lshared = 1;	/* main closes it */
		bound = cf.listen;
	}

	/* The table: ours, named after the listener, or the one given. */
	if (cf.table_spec == NULL) {
		own_name(&bound, cf.table_name, sizeof(cf.table_name));
		cf.own_table = 1;
	} else
		strlcpy(cf.table_name, cf.table_spec, sizeof(cf.table_name));
	if ((cf.table = table_open(cf.table_name, TABLE_RDWR | TABLE_CREATE,
	    0, 0, ebuf, sizeof(ebuf))) == NULL)
		errx(1, "table %s: %s", cf.table_name, ebuf);
	if (table_register(cf.table, ebuf, sizeof(ebuf)) == -1)
		errx(1, "table %s: %s", cf.table_name, ebuf);
	sync = cf.own_table;
	if (table_load(v, n, sync, NULL, 0, ebuf, sizeof(ebuf)) == -1)
		errx(1, "%s", ebuf);
	for (k = nargs; k < n; k++) {
		if ((fnames = reallocarray(fnames, nfnames + 1,
		    sizeof(*fnames))) == NULL ||
		    (fnames[nfnames++] = strdup(v[k].ble_name)) == NULL)
			err(1, NULL);
	}
	if (cf.nroutes > 0)
		route_tables();

	for (i = 0; i < cf.nworkers; i++) {
		w = &workers[i];
		if ((w->w_ev = evloop_new()) == NULL)
			err(1, "evloop");
		if ((w->w_bal = balance_new(cf.table, cf.algo,
		    cf.slowstart_ms)) == NULL)
			err(1, "balance");
		if (cf.nroutes > 0) {
			if ((w->w_rbal = calloc(cf.ntables,
			    sizeof(*w->w_rbal))) == NULL ||
			    (w->w_hello = malloc(HELLO_MAX)) == NULL)
				err(1, NULL);
			w->w_rbal[0] = w->w_bal;
			for (k = 1; k < cf.ntables; k++)
				if ((w->w_rbal[k] = balance_new(cf.tables[k],
				    cf.algo, cf.slowstart_ms)) == NULL)
					err(1, "balance");
		}
		if (relay_ctx_init(&w->w_relay, 0, PIPE_POOL) == -1)
			err(1, "relay");
		if ((w->w_log = malloc(LOG_BUFSZ)) == NULL)
			err(1, NULL);
		if ((w->w_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
			err(1, "eventfd");
		if (evloop_add(w->w_ev, w->w_lfd, EVLOOP_READ, on_listen,
		    w) == -1 || evloop_add(w->w_ev, w->w_efd, EVLOOP_READ,
		    on_stop, w) == -1)
			err(1, "epoll");
	}

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	/* Workers inherit the mask: signals come to this thread alone. */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	if (cf.print_addr) {
		printf("%s\n", addr_fmt(&bound, as, sizeof(as)));
		fflush(stdout);
	}
	log_info("listening on %s, table %s, %d workers, %s",
	    addr_fmt(&bound, as, sizeof(as)), cf.table_name, cf.nworkers,
	    balance_algo_str(cf.algo));
	for (i = 0; i < cf.nworkers; i++)
		if ((errno = pthread_create(&workers[i].w_thread, NULL,
		    worker_main, &workers[i])) != 0)
			err(1, "pthread_create");

	for (;;) {
		struct timespec	 tick = { 1, 0 };

		/*
		 * Once a second, take back the connections of processes that
		 * died attached to our tables: least connections and maxconn
		 * read the counters, which no reader corrects.
		 */
		if ((sig = sigtimedwait(&sigs, NULL, &tick)) == -1) {
			if (errno == EAGAIN) {
				table_reclaim(cf.table);
				for (k = 1; k < cf.ntables; k++)
					table_reclaim(cf.tables[k]);
				continue;
			}
			if (errno == EINTR)
				continue;
			fatal("sigtimedwait");
		}
		if (sig != SIGHUP)
			break;
		if (cf.file == NULL) {
			log_info("HUP: no -f file to read");
			continue;
		}
		/* A bad file leaves the table as it was. */
		n = nargs;
		if (file_read(&v, &n, ebuf, sizeof(ebuf)) == -1 ||
		    table_load(v, n, sync, fnames, nfnames, ebuf,
		    sizeof(ebuf)) == -1) {
			log_warnx("HUP: %s", ebuf);
			continue;
		}
		for (k = 0; k < nfnames; k++)
			free(fnames[k]);
		nfnames = 0;
		for (k = nargs; k < n; k++) {
			if ((fnames = reallocarray(fnames, nfnames + 1,
			    sizeof(*fnames))) == NULL ||
			    (fnames[nfnames++] = strdup(v[k].ble_name)) ==
			    NULL)
				fatal("HUP");
		}
		log_info("HUP: %zu backends from %s", n - nargs, cf.file);
	}

	log_info("stopping: %llu ms of grace",
	    (unsigned long long)cf.grace_ms);
	if (cf.listen.a_ss.ss_family != AF_UNIX)
		steer_away(workers[0].w_lfd, cf.nworkers);
	for (i = 0; i < cf.nworkers; i++) {
		uint64_t one = 1;

		if (write(workers[i].w_efd, &one, sizeof(one)) == -1)
			log_warn("eventfd");
	}
	for (i = 0; i < cf.nworkers; i++)
		pthread_join(workers[i].w_thread, NULL);
	if (shared_fd != -1) {
		close(shared_fd);
		unlink(((struct sockaddr_un *)&bound.a_ss)->sun_path);
	}
	if (cf.own_table) {
		struct table_proc procs[2];

		/* Another instance on the same port may still use it. */
		if (table_procs(cf.table, procs, 2) <= 1)
			table_destroy(cf.table_name, NULL, 0);
	}
	for (i = 0; i < cf.nworkers; i++) {
		w = &workers[i];
		for (k = 0; k < w->w_nchunks; k++)
			free(w->w_chunks[k]);
		free(w->w_chunks);
		balance_free(w->w_bal);
		for (k = 1; k < cf.ntables && w->w_rbal != NULL; k++)
			balance_free(w->w_rbal[k]);
		free(w->w_rbal);
		free(w->w_hello);
		relay_ctx_free(&w->w_relay);
		evloop_free(w->w_ev);
		close(w->w_efd);
		free(w->w_log);
	}
	for (k = 1; k < cf.ntables; k++)
		table_close(cf.tables[k]);
	table_close(cf.table);
	free(cf.tables);
	free(cf.routes);
	for (k = 0; k < nfnames; k++)
		free(fnames[k]);
	free(fnames);
	free(workers);
	free(v);
	return (0);
}
