/* lb-check: probe every backend of a table and write its health there. */
#include <sys/signalfd.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cols.h"
#include "dur.h"
#include "esc.h"
#include "lb-check.h"
#include "log.h"
#include "sock.h"
#include "tlsctx.h"

#define LBC_TICK	100		/* ms between looks at the table */
#define LBC_RETRY	50		/* ms before a probe that lacked fds */
#define LBC_SLOT_MAX	20		/* ms: the widest grid probes start on */
#define LBC_RECLAIM	10		/* ticks between reclaims: a second */

struct ck_conf	 conf;
struct evloop	*ev;

static struct table	*tbl;
static struct table_snap snap;
static struct backend	**byslot;	/* table_capacity() entries */
static TAILQ_HEAD(, backend) lbc_all = TAILQ_HEAD_INITIALIZER(lbc_all);
static TAILQ_HEAD(, backend) dirtyq = TAILQ_HEAD_INITIALIZER(dirtyq);
static struct evtimer	 tick, flusher;
static int		 opt_once, opt_json, opt_quiet, opt_verbose, opt_noheader;
static struct cols	 opt_cols;	/* -o: the fields of a line */
static int		 out_gone;	/* nobody reads stdout any more */
static int		 stopping, inflight, once_left, once_down, gone;
static int		 reclaim_ticks;
static int		 sigfd = -1;
static uint64_t		 lbc_slot = 1;	/* ms: the grid probes start on */
static char		 errbuf[256];
static FILE		*out;

/* how late probes started, for -v's last words and the benchmark */
#define LBC_LATE_MAX	1000		/* ms: the histogram's last bucket */
static uint64_t		 st_probes, st_late_sum, st_late_max;
static uint32_t		 st_late[LBC_LATE_MAX + 1];

static uint64_t		 rnd_state;

static void	probe_fire(struct evloop *, void *);
static void	flush(struct evloop *, void *);

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: lb-check [-1HhjqVv] [-A cafile] [-c maxexec] "
	    "[-D downinter] [-F fastinter]\n"
	    "                [-f fall] [-i interval] [-m mode] "
	    "[-o field,...] [-p fails]\n"
	    "                [-r rise] [-T timeout] [-t table] [check]\n"
	    "       check: tcp\n"
	    "              http [path] [status=200-399] [body=text] "
	    "[host=name] [method=GET]\n"
	    "                   [tls] [sni=name] [noverify]\n"
	    "              tls [sni=name] [noverify]\n"
	    "              exec command [arg ...]\n");
	if (status == 0)
		printf("\n"
		    "Probes every backend of the table and writes its health "
		    "there; prints a\n"
		    "line per change of health (every probe with -v), under a "
		    "# header line:\n"
		    "  time table backend addr from to reason check_ms\n"
		    "  -1              probe each backend once; exit 1 if any "
		    "is down\n"
		    "  -i, -F, -D, -T  intervals (up, changing, down) and the "
		    "timeout: 2s, 0.5s...\n"
		    "  -r, -f          passed probes to come up, failed ones "
		    "to go down\n"
		    "  -p fails        down at once after fails connect "
		    "failures in a row\n"
		    "  -H, -j, -o      no header line; JSON lines; these "
		    "fields, in this order\n"
		    "See lb-check(1); the words of the fields: lb-table(5), "
		    "VOCABULARY.\n");
	exit(status);
}

/* The fields of a line: the words of VOCABULARY in lb-table(5). */
enum { F_TIME, F_TABLE, F_BACKEND, F_ADDR, F_FROM, F_TO, F_REASON,
    F_CHECK_MS, NFIELDS };
static const struct cols_field fields[NFIELDS] = { { "time", COLS_TEXT },
    { "table", COLS_TEXT }, { "backend", COLS_TEXT }, { "addr", COLS_TEXT },
    { "from", COLS_TEXT }, { "to", COLS_TEXT }, { "reason", COLS_TEXT },
    { "check_ms", COLS_NUM } };

/*
 * One line on stdout: a change of health, a -v result, or a -1 line.
 * Flushed at once: scripts read it as it comes.  When nobody reads any
 * more, lb-check goes on, as a program that serves does (see OUTPUT in
 * lb-table(5)): the health it writes to the table is its job, the lines
 * only tell of it.  It says so once, and writes no more lines.
 */
static void
emit(const struct backend *b, int old, int new, const char *reason,
    uint32_t ms)
{
	struct cols_val	 v[NFIELDS];
	char		 ts[64];
	struct timespec	 now;
	struct tm	 tm;
	const char	*from = table_health_str(old), *to = table_health_str(new);

	if (opt_quiet || out_gone)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(now.tv_nsec / 1000000) % 1000);
	cols_text(&v[F_TIME], ts, strlen(ts));
	cols_text(&v[F_TABLE], conf.cc_table, strlen(conf.cc_table));
	cols_text(&v[F_BACKEND], b->b_name, strlen(b->b_name));
	cols_text(&v[F_ADDR], b->b_addr, strlen(b->b_addr));
	cols_text(&v[F_FROM], from, strlen(from));
	cols_text(&v[F_TO], to, strlen(to));
	cols_text(&v[F_REASON], reason, strlen(reason));
	cols_num(&v[F_CHECK_MS], ms);
	if (cols_print(out, &opt_cols, v, opt_json) == -1 ||
	    fflush(out) == EOF) {
		log_warnx("stdout: %s: no more lines are written; the checks go "
		    "on", strerror(errno));
		out_gone = 1;
	}
}

/*
 * A number in [0, n) for jitter: xorshift64*, seeded once from
 * arc4random.  Not for secrets; it costs no system call per probe.
 */
static uint32_t
jitter(uint32_t n)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return (n == 0 ? 0 :
	    (uint32_t)((rnd_state * 2685821657736338717ULL) >> 32) % n);
}

/* Take a snapshot entry's address into b. */
static void
set_addr(struct backend *b, const struct table_backend *be)
{
	const char	*a = be->be_addr, *c;
	size_t		 n;

	strlcpy(b->b_addr, be->be_addr, sizeof(b->b_addr));
	b->b_sa_ok = table_backend_addr(be, &b->b_sa) == 0;
	b->b_host[0] = b->b_port[0] = '\0';
	if (be->be_family == AF_UNIX)
		return;
	if (*a == '[' && (c = strchr(a, ']')) != NULL) {
		n = (size_t)(c - a - 1);
		if (n < sizeof(b->b_host))
			memcpy(b->b_host, a + 1, n), b->b_host[n] = '\0';
	} else if ((c = strrchr(a, ':')) != NULL) {
		n = (size_t)(c - a);
		if (n < sizeof(b->b_host))
			memcpy(b->b_host, a, n), b->b_host[n] = '\0';
	}
	snprintf(b->b_port, sizeof(b->b_port), "%u", be->be_port);
}

/*
 * Probes start on a grid of lbc_slot ms: those due in the same slot
 * share one wake-up of the loop, and the kernel's caches stay warm
 * from one connect to the next (a wake-up per probe costs about twice
 * the kernel time).  The grid rounds down: a probe may come up to a
 * slot early, never late.
 */
static void
schedule(struct backend *b, uint64_t delay)
{
	uint64_t	 now = evloop_now(ev), at = now + delay;

	at -= at % lbc_slot;
	if (at < now)
		at = now;
	b->b_due = at;
	evtimer_set(ev, &b->b_next, at - now, probe_fire, b);
}

static void
dirty_remove(struct backend *b)
{
	if (b->b_dirty) {
		TAILQ_REMOVE(&dirtyq, b, b_dentry);
		b->b_dirty = 0;
	}
}

static struct backend *
backend_new(const struct table_backend *be, uint32_t i)
{
	struct backend	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return (NULL);
	b->b_idx = i;
	b->b_uid = be->be_uid;
	b->b_fd = b->b_pipe = -1;
	b->b_pid = -1;
	strlcpy(b->b_name, be->be_name, sizeof(b->b_name));
	set_addr(b, be);
	b->b_health = be->be_health;
	b->b_share = be->be_share;
	/* Health survives a restart: an up backend needs fall failures. */
	b->b_cs.cs_health = opt_once ? TABLE_HEALTH_UNKNOWN : be->be_health;
	b->b_pbase = atomic_load_explicit(&table_counters(tbl, i)->
	    c_consec_fail, memory_order_relaxed);
	TAILQ_INSERT_TAIL(&lbc_all, b, b_entry);
	return (b);
}

/* Forget b: stop its probe; a running child keeps it until reaped. */
static void
backend_del(struct backend *b)
{
	evtimer_cancel(ev, &b->b_next);
	dirty_remove(b);
	TAILQ_REMOVE(&lbc_all, b, b_entry);
	if (b->b_phase == PH_EXEC) {
		b->b_gone = 1;
		exec_abort(b);
		return;
	}
	if (b->b_phase != PH_IDLE) {
		inflight--;
		if (conf.cc_kind == CK_EXEC)
			exec_abort(b);
		else
			probe_abort(b);
	}
	if (conf.cc_kind != CK_EXEC)
		probe_forget(b);
	free(b);
}

void
lbc_release(struct backend *b)
{
	inflight--;
	free(b);
	if (stopping && inflight == 0)
		flush(ev, NULL);
}

/* Bring our backends in line with the table's, by slot and uid. */
static void
resync(void)
{
	const struct table_backend *be;
	struct backend	*b;
	uint32_t	 i, cap = table_capacity(tbl);

	if (table_snapshot(tbl, &snap, errbuf, sizeof(errbuf)) == -1) {
		log_warnx("table %s: %s", esc_arg(conf.cc_table),
		    esc_arg(errbuf));
		return;
	}
	for (i = 0; i < cap; i++) {
		be = i < snap.sn_n && snap.sn_be[i].be_uid != 0 &&
		    !(snap.sn_be[i].be_flags & TABLE_BE_CORRUPT) ?
		    &snap.sn_be[i] : NULL;
		b = byslot[i];
		if (b == NULL && be == NULL)
			continue;
		if (b != NULL && (be == NULL || be->be_uid != b->b_uid)) {
			log_info("%s: no longer in the table", b->b_name);
			backend_del(b);
			byslot[i] = b = NULL;
		}
		if (be == NULL)
			continue;
		if (b == NULL) {
			if ((b = backend_new(be, i)) == NULL) {
				log_warn("backend %s", be->be_name);
				continue;
			}
			byslot[i] = b;
			/* Spread the first round over an interval. */
			if (!stopping)
				schedule(b, opt_once ? 0 :
				    jitter((uint32_t)conf.cc_inter));
			continue;
		}
		if (strcmp(be->be_addr, b->b_addr) != 0)
			set_addr(b, be);
		/* Someone else set health (a new address makes it unknown). */
		if (be->be_health != b->b_health && !b->b_dirty) {
			b->b_health = be->be_health;
			memset(&b->b_cs, 0, sizeof(b->b_cs));
			b->b_cs.cs_health = be->be_health;
		}
		if (!b->b_dirty)
			b->b_share = be->be_share;
	}
}

static void
stats_note(uint64_t now, uint64_t due)
{
	uint64_t	 late;

	late = now > due ? now - due : 0;
	st_probes++;
	st_late_sum += late;
	if (late > st_late_max)
		st_late_max = late;
	st_late[late < LBC_LATE_MAX ? late : LBC_LATE_MAX]++;
}

/* The 99th percentile of how late probes started, in ms. */
static uint64_t
stats_p99(void)
{
	uint64_t	 n = 0, want = st_probes - st_probes / 100;
	int		 i;

	for (i = 0; i <= LBC_LATE_MAX; i++)
		if ((n += st_late[i]) >= want)
			return ((uint64_t)i);
	return (LBC_LATE_MAX);
}

static void
probe_fire(struct evloop *loop, void *arg)
{
	struct backend	*b = arg;

	(void)loop;
	if (stopping)
		return;
	b->b_start = evloop_clock();
	stats_note(b->b_start, b->b_due);
	inflight++;
	probe_start(b);
}

void
lbc_retry(struct backend *b)
{
	inflight--;
	b->b_phase = PH_IDLE;
	if (stopping) {
		if (inflight == 0)
			flush(ev, NULL);
		return;
	}
	schedule(b, LBC_RETRY);
}

/* The interval until b's next probe: fast while changing, slow down. */
static uint64_t
next_interval(const struct backend *b)
{
	uint64_t	 iv;

	if (check_changing(&b->b_cs) ||
	    (b->b_cs.cs_passive && b->b_cs.cs_health == TABLE_HEALTH_DOWN))
		iv = conf.cc_fast;
	else if (b->b_cs.cs_health == TABLE_HEALTH_DOWN)
		iv = conf.cc_down;
	else
		iv = conf.cc_inter;
	/* Up to a tenth earlier, so that probes do not bunch up. */
	return (iv - jitter((uint32_t)(iv / 10 + 1)));
}

static void
mark_dirty(struct backend *b, int health, int share, const char *reason,
    uint32_t ms)
{
	b->b_new = health;
	b->b_newshare = share;
	b->b_ms = ms;
	strlcpy(b->b_reason, reason, sizeof(b->b_reason));
	if (!b->b_dirty) {
		b->b_dirty = 1;
		TAILQ_INSERT_TAIL(&dirtyq, b, b_dentry);
	}
	/* One write for all the changes of this turn of the loop. */
	if (flusher.et_idx == 0)
		evtimer_set(ev, &flusher, 0, flush, NULL);
}

void
lbc_result(struct backend *b, int result, const char *wdetail,
    const char *rdetail, int agent, int share)
{
	char		 word[TABLE_REASON_MAX], reason[TABLE_REASON_MAX];
	uint64_t	 now = evloop_clock(), next, g;
	uint32_t	 ms;
	int		 old, new, nshare;

	inflight--;
	b->b_phase = PH_IDLE;
	ms = (uint32_t)(now - b->b_start);
	check_result_word(result, wdetail, word, sizeof(word));
	if (result == CHECK_EXFAIL && (agent & CHECK_AGENT_MAINT))
		strlcpy(reason, "maint", sizeof(reason));
	else
		check_reason(result, rdetail, conf.cc_timeout, reason,
		    sizeof(reason));
	/*
	 * The slot is still b's unless someone else changed the table since
	 * our snapshot; then the next tick's resync knows, and this one
	 * result is not written rather than written on another backend.
	 */
	g = table_generation(tbl);
	if (g == snap.sn_gen)
		table_check_put(tbl, b->b_idx, ms, word);

	old = b->b_dirty ? b->b_new : b->b_health;
	new = check_step(&b->b_cs, check_passed(result), agent, conf.cc_rise,
	    conf.cc_fall);
	nshare = b->b_dirty ? b->b_newshare : b->b_share;
	if (agent & CHECK_AGENT_SHARE)
		nshare = share;
	else if (conf.cc_kind != CK_EXEC)
		nshare = 100;		/* no agent to keep a share */
	if (new == TABLE_HEALTH_UP && old != TABLE_HEALTH_UP)
		b->b_pbase = atomic_load_explicit(&table_counters(tbl,
		    b->b_idx)->c_consec_fail, memory_order_relaxed);
	if (opt_once) {
		mark_dirty(b, new, nshare, reason, ms);
		if (new == TABLE_HEALTH_DOWN)
			once_down = 1;
		if (--once_left == 0 && flusher.et_idx == 0)
			evtimer_set(ev, &flusher, 0, flush, NULL);
		return;
	}
	if (new != old || nshare != (b->b_dirty ? b->b_newshare : b->b_share))
		mark_dirty(b, new, nshare, new != old ? reason :
		    (b->b_dirty ? b->b_reason : reason), ms);
	else if (opt_verbose)
		emit(b, old, new, reason, ms);
	if (stopping) {
		if (inflight == 0)
			evtimer_set(ev, &flusher, 0, flush, NULL);
		return;
	}
	next = b->b_start + next_interval(b);
	schedule(b, next > now ? next - now : 0);
}

/* Write the pending changes of health in one transaction. */
static void
flush(struct evloop *loop, void *arg)
{
	struct table_backend *be;
	struct backend	*b;
	uint64_t	 now = table_now_ms(), g;
	int		 changed;

	(void)loop;
	(void)arg;
	if (!TAILQ_EMPTY(&dirtyq)) {
		if (table_begin(tbl, errbuf, sizeof(errbuf)) == -1) {
			log_warnx("table %s: %s", esc_arg(conf.cc_table),
			    esc_arg(errbuf));
			evtimer_set(ev, &flusher, LBC_TICK, flush, NULL);
			return;
		}
		g = table_generation(tbl);	/* stable: we hold the lock */
		TAILQ_FOREACH(b, &dirtyq, b_dentry) {
			/* The table may have moved on since our snapshot. */
			be = table_slot(tbl, b->b_idx);
			if (be == NULL || be->be_uid != b->b_uid)
				continue;
			if (be->be_health != b->b_new) {
				be->be_health = (uint8_t)b->b_new;
				be->be_health_since = now;
				memset(be->be_reason, 0,
				    sizeof(be->be_reason));
				strlcpy(be->be_reason, b->b_reason,
				    sizeof(be->be_reason));
			}
			be->be_share = (uint8_t)b->b_newshare;
		}
		if (table_commit(tbl) == -1) {
			log_warnx("table %s: commit failed", esc_arg(conf.cc_table));
			evtimer_set(ev, &flusher, LBC_TICK, flush, NULL);
			return;
		}
		/*
		 * Our own write moved no slot: when nothing else came
		 * before it, the snapshot still holds, bar the health we
		 * keep ourselves.
		 */
		if (snap.sn_gen == g)
			snap.sn_gen = g + 1;
		while ((b = TAILQ_FIRST(&dirtyq)) != NULL) {
			dirty_remove(b);
			changed = b->b_new != b->b_health;
			if (changed || opt_once || opt_verbose)
				emit(b, b->b_health, b->b_new, b->b_reason,
				    b->b_ms);
			b->b_health = b->b_new;
			b->b_share = b->b_newshare;
		}
	}
	if ((opt_once && once_left == 0) || (stopping && inflight == 0))
		evloop_stop(ev);
}

/* Every tick: follow the table, and read the proxies' failure runs. */
static void	stop(void);

static void
tick_fn(struct evloop *loop, void *arg)
{
	struct backend	*b;
	uint64_t	 c;
	char		 reason[TABLE_REASON_MAX];

	(void)loop;
	(void)arg;
	if (stopping)
		return;
	/* A destroyed table has nobody left to read its health. */
	if (table_stale(tbl)) {
		log_warnx("table %s: the table was removed",
		    esc_arg(table_name(tbl)));
		gone = 1;
		stop();
		return;
	}
	/*
	 * As the proxies do, once a second: free dead processes' entries,
	 * and repair ours if another process wrote over it.
	 */
	if (++reclaim_ticks >= LBC_RECLAIM) {
		reclaim_ticks = 0;
		table_reclaim(tbl);
	}
	if (table_generation(tbl) != snap.sn_gen)
		resync();
	if (conf.cc_passive > 0) {
		TAILQ_FOREACH(b, &lbc_all, b_entry) {
			c = atomic_load_explicit(&table_counters(tbl,
			    b->b_idx)->c_consec_fail, memory_order_relaxed);
			if (c < b->b_pbase)
				b->b_pbase = 0;
			if (b->b_cs.cs_health == TABLE_HEALTH_DOWN ||
			    c - b->b_pbase < (uint64_t)conf.cc_passive)
				continue;
			snprintf(reason, sizeof(reason),
			    "passive: %llu connect failures",
			    (unsigned long long)(c - b->b_pbase));
			b->b_pbase = c;
			check_mark_down(&b->b_cs);
			mark_dirty(b, TABLE_HEALTH_DOWN, b->b_dirty ?
			    b->b_newshare : b->b_share, reason, 0);
			if (b->b_phase == PH_IDLE)
				schedule(b, conf.cc_fast);
		}
	}
	evtimer_set(ev, &tick, LBC_TICK, tick_fn, NULL);
}

static void
stop(void)
{
	struct backend	*b;

	if (stopping)
		return;
	stopping = 1;
	/* Finish the probes in flight; start no more. */
	TAILQ_FOREACH(b, &lbc_all, b_entry) {
		evtimer_cancel(ev, &b->b_next);
		if (b->b_phase == PH_QUEUED) {
			exec_abort(b);
			inflight--;
		}
	}
	evtimer_cancel(ev, &tick);
	if (inflight == 0)
		evtimer_set(ev, &flusher, 0, flush, NULL);
}

static void
sig_read(struct evloop *loop, int fd, int what, void *arg)
{
	struct signalfd_siginfo si;
	int		 chld = 0;

	(void)loop;
	(void)what;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			chld = 1;
		else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			stop();
		/* HUP: nothing comes from files; the table is followed live. */
	}
	if (chld)
		exec_sigchld();
}

static int
yesno(const char *key, const char *v)
{
	if (strcmp(v, "yes") == 0)
		return (1);
	if (strcmp(v, "no") == 0)
		return (0);
	errx(2, "bad %s '%s': yes or no", key, esc_arg(v));
}

/* A value that goes into a request line or header: no blanks, no CTLs. */
static const char *
token(const char *key, const char *v, int spaces)
{
	const unsigned char *p;

	if (*v == '\0')
		errx(2, "bad %s '': empty", key);
	for (p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || (*p == ' ' && !spaces))
			errx(2, "bad %s '%s': no blanks or control characters",
			    key, esc_arg(v));
	return (v);
}

static void
parse_check(int argc, char **argv)
{
	const char	*kv, *v;
	int		 i = 1;

	conf.cc_kind = CK_TCP;
	conf.cc_path = "/";
	conf.cc_method = "GET";
	check_status_parse("200-399", &conf.cc_status);
	if (argc == 0 || strcmp(argv[0], "tcp") == 0) {
		if (argc > 1)
			errx(2, "bad tcp option '%s': tcp takes none",
			    esc_arg(argv[1]));
		return;
	}
	if (strcmp(argv[0], "exec") == 0) {
		conf.cc_kind = CK_EXEC;
		if (argc < 2)
			errx(2, "exec: a command is needed");
		if ((conf.cc_prog = exec_which(argv[1])) == NULL)
			errx(2, "exec: '%s': no such program",
			    esc_arg(argv[1]));
		conf.cc_argv = argv + 1;
		return;
	}
	if (strcmp(argv[0], "http") == 0) {
		conf.cc_kind = CK_HTTP;
		if (argc > 1 && argv[1][0] == '/') {
			conf.cc_path = token("path", argv[1], 0);
			i = 2;
		}
	} else if (strcmp(argv[0], "tls") == 0) {
		conf.cc_kind = CK_TLS;
		conf.cc_tls = 1;
	} else
		errx(2, "unknown check '%s': tcp, http, tls or exec",
		    esc_arg(argv[0]));
	for (; i < argc; i++) {
		kv = argv[i];
		/* Words as lb-http's rules have them: tls, noverify. */
		if (strcmp(kv, "noverify") == 0) {
			conf.cc_noverify = 1;
			continue;
		}
		if (strcmp(kv, "tls") == 0 && conf.cc_kind == CK_HTTP) {
			conf.cc_tls = 1;
			continue;
		}
		if ((v = strchr(kv, '=')) == NULL)
			errx(2, "bad %s option '%s': %s", argv[0], esc_arg(kv),
			    conf.cc_kind == CK_HTTP ? "key=value, tls or "
			    "noverify" : "sni=name or noverify");
		v++;
		if (strncmp(kv, "sni=", 4) == 0)
			conf.cc_sni = token("sni", v, 0);
		else if (strncmp(kv, "verify=", 7) == 0)
			conf.cc_noverify = !yesno("verify", v);
		else if (conf.cc_kind != CK_HTTP)
			errx(2, "bad tls option '%s': sni=name or noverify",
			    esc_arg(kv));
		else if (strncmp(kv, "status=", 7) == 0) {
			if (check_status_parse(v, &conf.cc_status) == -1)
				errx(2, "bad status range '%s': N or N-M, "
				    "100 to 599, comma separated", esc_arg(v));
		} else if (strncmp(kv, "body=", 5) == 0)
			conf.cc_body = token("body", v, 1);
		else if (strncmp(kv, "host=", 5) == 0)
			conf.cc_host = token("host", v, 0);
		else if (strncmp(kv, "method=", 7) == 0)
			conf.cc_method = token("method", v, 0);
		else if (strncmp(kv, "tls=", 4) == 0)
			conf.cc_tls = yesno("tls", v);
		else
			errx(2, "bad http option '%s': status, body, host, "
			    "method, tls, sni or noverify", esc_arg(kv));
	}
	/* What cannot fit would be retried forever: refuse it now. */
	if (probe_conf_check(errbuf, sizeof(errbuf)) == -1)
		errx(2, "%s", esc_arg(errbuf));
}

static uint64_t
dur_opt(int opt, const char *name, const char *v)
{
	uint64_t	 ms;
	char		 why[128];

	if (dur_range(v, 1, DUR_MAX_MS, &ms, why, sizeof(why)) == -1)
		errx(2, "bad %s '%s' (-%c): %s", name, esc_arg(v), opt, why);
	return (ms);
}

/* Refuse to start beside another checker of the same table. */
static void
one_checker(void)
{
	struct table_proc p[TABLE_NREG];
	pid_t		 me = getpid();
	int		 n, i;

	if (table_register(tbl, errbuf, sizeof(errbuf)) == -1)
		errx(1, "table %s: %s", esc_arg(conf.cc_table),
		    esc_arg(errbuf));
	n = table_procs(tbl, p, TABLE_NREG);
	for (i = 0; i < n && i < TABLE_NREG; i++) {
		if (p[i].tp_pid == me || strcmp(p[i].tp_prog, "lb-check") != 0)
			continue;
		table_close(tbl);
		errx(1, "table %s: already checked by lb-check pid %d",
		    esc_arg(conf.cc_table), (int)p[i].tp_pid);
	}
}

int
main(int argc, char *argv[])
{
	sigset_t	 mask;
	const char	*e, *inter = NULL, *fast = NULL, *down = NULL,
			*timeout = NULL, *ocols = NULL;
	mode_t		 mode = 0;
	char		 ebuf[1200];
	int		 ch, rc;

	log_init("lb-check", 0);
	out = stdout;
	while (rnd_state == 0)
		rnd_state = (uint64_t)arc4random() << 32 | arc4random();
	conf.cc_rise = 2;
	conf.cc_fall = 3;
	conf.cc_maxexec = 32;
	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		usage(0);
	while ((ch = getopt(argc, argv, "+1A:c:D:F:f:Hhi:jm:o:p:qr:T:t:Vv")) !=
	    -1) {
		switch (ch) {
		case '1':
			opt_once = 1;
			break;
		case 'A':
			conf.cc_cafile = optarg;
			break;
		case 'c':
			conf.cc_maxexec = (int)strtonum(optarg, 1, 1024, &e);
			if (e != NULL)
				errx(2, "bad exec limit '%s': 1 to 1024 (-c)",
				    esc_arg(optarg));
			break;
		case 'D':
			down = optarg;
			break;
		case 'F':
			fast = optarg;
			break;
		case 'f':
			conf.cc_fall = (int)strtonum(optarg, 1, 100, &e);
			if (e != NULL)
				errx(2, "bad fall '%s': 1 to 100 (-f)",
				    esc_arg(optarg));
			break;
		case 'H':
			opt_noheader = 1;
			break;
		case 'h':
			usage(0);
		case 'i':
			inter = optarg;
			break;
		case 'j':
			opt_json = 1;
			break;
		case 'm':
			if (table_mode_parse(optarg, &mode) == -1)
				errx(2, "bad mode '%s': octal, 1 to 0777",
				    esc_arg(optarg));
			break;
		case 'o':
			ocols = optarg;
			break;
		case 'p':
			conf.cc_passive = (int)strtonum(optarg, 1, 1000000,
			    &e);
			if (e != NULL)
				errx(2, "bad passive limit '%s': 1 to 1000000 "
				    "(-p)", esc_arg(optarg));
			break;
		case 'q':
			opt_quiet = 1;
			break;
		case 'r':
			conf.cc_rise = (int)strtonum(optarg, 1, 100, &e);
			if (e != NULL)
				errx(2, "bad rise '%s': 1 to 100 (-r)",
				    esc_arg(optarg));
			break;
		case 'T':
			timeout = optarg;
			break;
		case 't':
			if (conf.cc_table != NULL)
				errx(2, "-t given twice: one table");
			conf.cc_table = optarg;
			break;
		case 'V':
			printf("lb-check %s\n", LB_VERSION);
			return (0);
		case 'v':
			opt_verbose = 1;
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	log_init("lb-check", opt_verbose);

	conf.cc_inter = inter ? dur_opt('i', "interval", inter) : 2000;
	conf.cc_fast = fast ? dur_opt('F', "fast interval", fast) :
	    (conf.cc_inter / 4 > 100 ? conf.cc_inter / 4 : conf.cc_inter);
	conf.cc_down = down ? dur_opt('D', "down interval", down) :
	    conf.cc_inter;
	conf.cc_timeout = timeout ? dur_opt('T', "timeout", timeout) :
	    (conf.cc_inter < 1000 ? conf.cc_inter : 1000);
	if (conf.cc_inter > UINT32_MAX || conf.cc_fast > UINT32_MAX ||
	    conf.cc_down > UINT32_MAX)
		errx(2, "bad interval: at most 49 days");
	/* A tenth of the shortest interval, at most LBC_SLOT_MAX. */
	lbc_slot = conf.cc_inter;
	if (conf.cc_fast < lbc_slot)
		lbc_slot = conf.cc_fast;
	if (conf.cc_down < lbc_slot)
		lbc_slot = conf.cc_down;
	lbc_slot /= 10;
	if (lbc_slot > LBC_SLOT_MAX)
		lbc_slot = LBC_SLOT_MAX;
	if (lbc_slot == 0)
		lbc_slot = 1;
	if (conf.cc_timeout > conf.cc_inter)
		errx(2, "bad timeout '%s' (-T): longer than the interval %s",
		    esc_arg(timeout), inter ? esc_arg(inter) : "2s");
	if (cols_parse(&opt_cols, fields, NFIELDS, ocols != NULL ? ocols :
	    "time,table,backend,addr,from,to,reason,check_ms", ebuf,
	    sizeof(ebuf)) == -1)
		errx(2, "-o: %s", ebuf);
	parse_check(argc, argv);

	if (conf.cc_table == NULL && (conf.cc_table = getenv("LB_TABLE")) ==
	    NULL)
		errx(2, "no table: give -t TABLE or set LB_TABLE");
	if (table_name_check(conf.cc_table, errbuf, sizeof(errbuf)) == -1)
		errx(2, "%s", esc_arg(errbuf));
	if (conf.cc_cafile != NULL && !conf.cc_tls)
		errx(2, "-A gives the CA of TLS checks: give a tls check, or "
		    "http with tls");
	if (conf.cc_cafile != NULL && conf.cc_noverify)
		errx(2, "-A and noverify: a CA to verify against, and no "
		    "verification");
	if (conf.cc_tls && (conf.cc_ctx = tlsctx_client(conf.cc_cafile,
	    conf.cc_noverify, errbuf, sizeof(errbuf))) == NULL)
		errx(1, "%s%s", conf.cc_cafile != NULL ? "-A " : "",
		    esc_arg(errbuf));
	if (conf.cc_kind == CK_EXEC && exec_init(errbuf, sizeof(errbuf)) == -1)
		errx(1, "exec: %s", errbuf);

	if ((tbl = table_open(conf.cc_table, TABLE_RDWR, 0, mode, errbuf,
	    sizeof(errbuf))) == NULL)
		errx(1, "table %s: %s", esc_arg(conf.cc_table),
		    esc_arg(errbuf));
	one_checker();
	/* The header line, before the first line it names. */
	if (!opt_quiet && !opt_json && !opt_noheader &&
	    (cols_print_header(out, &opt_cols) == -1 || fflush(out) == EOF))
		out_gone = 1;
	if ((byslot = calloc(table_capacity(tbl), sizeof(*byslot))) == NULL)
		err(1, NULL);

	/* A probe per backend at once: take every descriptor we may. */
	sock_nofile_raise();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		err(1, "sigprocmask");
	if ((sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		err(1, "signalfd");
	if ((ev = evloop_new()) == NULL)
		err(1, "evloop");
	if (evloop_add(ev, sigfd, EVLOOP_READ, sig_read, NULL) == -1)
		err(1, "evloop");

	resync();
	if (opt_once) {
		struct backend *b;

		TAILQ_FOREACH(b, &lbc_all, b_entry)
			once_left++;
		if (once_left == 0)
			return (0);
	} else
		evtimer_set(ev, &tick, LBC_TICK, tick_fn, NULL);
	if (evloop_run(ev) == -1)
		fatal("epoll");

	if (opt_verbose && !opt_once)
		log_info("%llu probes, start late by %.2f ms on average, "
		    "%llu ms at p99, %llu ms at most",
		    (unsigned long long)st_probes,
		    st_probes ? (double)st_late_sum / (double)st_probes : 0.0,
		    (unsigned long long)stats_p99(),
		    (unsigned long long)st_late_max);
	rc = gone ? 1 : opt_once ? once_down : 0;
	table_snap_free(&snap);
	table_close(tbl);
	evloop_free(ev);
	if (conf.cc_ctx != NULL)
		SSL_CTX_free(conf.cc_ctx);
	return (rc);
}
