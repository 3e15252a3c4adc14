/* events: -e: a line for each change the table sees, as it happens. */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "evloop.h"
#include "lb-stat.h"
#include "log.h"

struct events {
	struct src	 e_src;
	struct table_backend *e_prev;		/* the last snapshot's backends */
	uint32_t	 e_nprev, e_cap;
	uint64_t	 e_gen;
	uint64_t	 e_interval;
	long long	 e_left;		/* lines to go, with -n */
	int		 e_counted;		/* -n was given */
	struct evtimer	 e_timer;
	int		 e_status;
	char		 e_time[40];
};

static struct events	 E;

static const char *const evcols[] = { "time", "table", "backend", "event",
    "from", "to", "reason" };
#define NEVCOLS	(sizeof(evcols) / sizeof(evcols[0]))

/* One event line; NULL values print as "-" (null with -j). */
static void
emit(struct events *x, const char *backend, const char *event,
    const char *from, const char *to, const char *reason)
{
	char		 v[NEVCOLS][TABLE_ADDR_MAX + 8];
	const char	*in[NEVCOLS] = { x->e_time, table_name(x->e_src.sr_t),
	    backend, event, from, to, reason };
	size_t		 k;

	if (x->e_counted && x->e_left == 0)
		return;
	for (k = 0; k < NEVCOLS; k++)
		if (in[k] != NULL)
			clean(v[k], sizeof(v[k]), in[k]);
	if (reason != NULL && reason[0] == '\0')
		in[6] = NULL;
	if (opt_fmt == FMT_JSON) {
		putchar('{');
		for (k = 0; k < NEVCOLS; k++) {
			printf("%s\"%s\":", k ? "," : "", evcols[k]);
			if (in[k] == NULL)
				fputs("null", stdout);
			else
				json_str(stdout, v[k]);
		}
		puts("}");
	} else
		for (k = 0; k < NEVCOLS; k++)
			printf("%s%s", in[k] != NULL ? v[k] : "-",
			    k + 1 < NEVCOLS ? "\t" : "\n");
	x->e_left--;
}

static int
byname(const void *a, const void *b)
{
	const struct table_backend *const *x = a, *const *y = b;

	return (strcmp((*x)->be_name, (*y)->be_name));
}

/* The backends in use of n entries, sorted by name; NULL on no memory. */
static const struct table_backend **
sorted(const struct table_backend *be, uint32_t n, size_t *cnt)
{
	const struct table_backend **v;
	uint32_t	 i;

	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL)
		return (NULL);
	*cnt = 0;
	for (i = 0; i < n; i++)
		if (be[i].be_uid != 0)
			v[(*cnt)++] = &be[i];
	qsort(v, *cnt, sizeof(*v), byname);
	return (v);
}

static void
num(char *buf, size_t len, uint64_t v)
{
	snprintf(buf, len, "%" PRIu64, v);
}

/* What changed in one backend that is in both snapshots. */
static void
diff_one(struct events *x, const struct table_backend *o,
    const struct table_backend *n)
{
	char	 a[32], b[32];

	if (o->be_admin != n->be_admin)
		emit(x, n->be_name, "admin", table_admin_str(o->be_admin),
		    table_admin_str(n->be_admin), NULL);
	if (o->be_health != n->be_health)
		emit(x, n->be_name, "health", table_health_str(o->be_health),
		    table_health_str(n->be_health), n->be_reason);
	if (o->be_weight != n->be_weight) {
		num(a, sizeof(a), o->be_weight);
		num(b, sizeof(b), n->be_weight);
		emit(x, n->be_name, "weight", a, b, NULL);
	}
	if (o->be_share != n->be_share) {
		num(a, sizeof(a), o->be_share);
		num(b, sizeof(b), n->be_share);
		emit(x, n->be_name, "share", a, b, n->be_reason);
	}
	if (strcmp(o->be_addr, n->be_addr) != 0)
		emit(x, n->be_name, "addr", o->be_addr, n->be_addr, NULL);
	if (o->be_maxconn != n->be_maxconn) {
		num(a, sizeof(a), o->be_maxconn);
		num(b, sizeof(b), n->be_maxconn);
		emit(x, n->be_name, "maxconn", a, b, NULL);
	}
	if (o->be_backup != n->be_backup)
		emit(x, n->be_name, "backup", o->be_backup ? "yes" : "no",
		    n->be_backup ? "yes" : "no", NULL);
}

/*
 * Compare the last snapshot with the new one, by name.  The same name
 * with another uid is another backend (removed, then added) unless the
 * whole table was made anew, where every uid starts again.
 */
static void
diff(struct events *x, int anew)
{
	const struct table_snap *s = &x->e_src.sr_snap;
	const struct table_backend **ov, **nv;
	size_t		 on, nn, i = 0, j = 0;
	int		 c;

	ov = sorted(x->e_prev, x->e_nprev, &on);
	nv = sorted(s->sn_be, s->sn_n, &nn);
	if (ov == NULL || nv == NULL)
		fatal("events");
	while (i < on || j < nn) {
		if (i == on)
			c = 1;
		else if (j == nn)
			c = -1;
		else
			c = strcmp(ov[i]->be_name, nv[j]->be_name);
		if (c < 0) {
			emit(x, ov[i]->be_name, "removed", ov[i]->be_addr,
			    NULL, NULL);
			i++;
		} else if (c > 0) {
			emit(x, nv[j]->be_name, "added", NULL, nv[j]->be_addr,
			    NULL);
			j++;
		} else {
			if (!anew && ov[i]->be_uid != nv[j]->be_uid) {
				emit(x, ov[i]->be_name, "removed",
				    ov[i]->be_addr, NULL, NULL);
				emit(x, nv[j]->be_name, "added", NULL,
				    nv[j]->be_addr, NULL);
			} else
				diff_one(x, ov[i], nv[j]);
			i++;
			j++;
		}
	}
	free(ov);
	free(nv);
}

/* Keep the snapshot's backends as the next comparison's "before". */
static void
keep(struct events *x)
{
	const struct table_snap *s = &x->e_src.sr_snap;

	if (s->sn_n > x->e_cap) {
		free(x->e_prev);
		if ((x->e_prev = calloc(s->sn_n, sizeof(*x->e_prev))) == NULL)
			fatal("events");
		x->e_cap = s->sn_n;
	}
	memcpy(x->e_prev, s->sn_be, s->sn_n * sizeof(*x->e_prev));
	x->e_nprev = s->sn_n;
	x->e_gen = s->sn_gen;
}

static void
events_tick(struct evloop *ev, void *arg)
{
	struct events	*x = arg;
	char		 e[256], a[32], b[32];
	uint32_t	 oldcap = table_capacity(x->e_src.sr_t);
	enum src_state	 st;

	st = src_refresh(&x->e_src, 0, e, sizeof(e));
	if (st == SRC_GONE) {
		fflush(stdout);
		log_warnx("table %s: %s", x->e_src.sr_name, e);
		x->e_status = 1;
		evloop_stop(ev);
		return;
	}
	if (st == SRC_NEW || x->e_src.sr_snap.sn_gen != x->e_gen) {
		fmt_time(x->e_time, sizeof(x->e_time), table_now_ms());
		if (st == SRC_NEW) {
			num(a, sizeof(a), oldcap);
			num(b, sizeof(b), table_capacity(x->e_src.sr_t));
			emit(x, NULL, "table", a, b, "made anew");
		}
		diff(x, st == SRC_NEW);
		keep(x);
		if (fflush(stdout) == EOF)
			fatal("stdout");
		if (x->e_counted && x->e_left == 0) {
			evloop_stop(ev);
			return;
		}
	}
	evtimer_set(ev, &x->e_timer, x->e_interval, events_tick, x);
}

int
events_run(const char *name, uint64_t interval, long long count)
{
	static const int sigs[] = { SIGINT, SIGTERM };
	struct events	*x = &E;
	struct evloop	*ev;
	char		 e[256];
	size_t		 k;

	memset(x, 0, sizeof(*x));
	x->e_interval = interval;
	x->e_left = count;
	x->e_counted = count > 0;
	if (src_open(&x->e_src, name, e, sizeof(e)) == -1)
		fatalx("table %s: %s", name, e);
	if ((ev = evloop_new()) == NULL ||
	    sig_watch(ev, sigs, 2, sig_stop) == -1)
		fatal("events");
	stdout_watch(ev);
	keep(x);
	/* The header says the first snapshot is taken. */
	if (!opt_noheader && opt_fmt != FMT_JSON)
		for (k = 0; k < NEVCOLS; k++)
			printf("%s%s", k ? "\t" : "# ", evcols[k]);
	if (!opt_noheader && opt_fmt != FMT_JSON)
		putchar('\n');
	if (fflush(stdout) == EOF)
		fatal("stdout");
	evtimer_set(ev, &x->e_timer, interval, events_tick, x);
	if (evloop_run(ev) == -1)
		fatal("evloop");
	evloop_free(ev);
	if (x->e_src.sr_t != NULL)
		src_close(&x->e_src);
	free(x->e_prev);
	return (x->e_status);
}
