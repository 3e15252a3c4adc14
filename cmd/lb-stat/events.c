/* events: -e: a line for each change the table sees, as it happens. */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "esc.h"
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

enum { EV_TIME, EV_TABLE, EV_BACKEND, EV_EVENT, EV_FROM, EV_TO, EV_REASON,
    NEV };
const struct cols_field evfields[NEV] = { { "time", COLS_TEXT },
    { "table", COLS_TEXT }, { "backend", COLS_TEXT }, { "event", COLS_TEXT },
    { "from", COLS_TEXT }, { "to", COLS_TEXT }, { "reason", COLS_TEXT } };
const size_t nevfields = NEV;

/* A value of from or to: text, a number (a JSON number), or none. */
struct evv {
	const char	*s;			/* NULL: the number n, or none */
	uint64_t	 n;
	int		 none;
};
#define EV_S(x)		((struct evv){ (x), 0, (x) == NULL })
#define EV_N(x)		((struct evv){ NULL, (x), 0 })

static void
ev_val(struct cols_val *v, struct evv x)
{
	if (x.none)
		cols_null(v);
	else if (x.s != NULL)
		cols_text(v, x.s, strlen(x.s));
	else
		cols_num(v, x.n);
}

/* One event line; absent values print as "-" (null with -j). */
static void
emit(struct events *x, const char *backend, const char *event,
    struct evv from, struct evv to, const char *reason)
{
	struct cols_val	 v[NEV];
	const char	*tn = table_name(x->e_src.sr_t);

	if (x->e_counted && x->e_left == 0)
		return;
	cols_text(&v[EV_TIME], x->e_time, strlen(x->e_time));
	cols_text(&v[EV_TABLE], tn, strlen(tn));
	ev_val(&v[EV_BACKEND], EV_S(backend));
	cols_text(&v[EV_EVENT], event, strlen(event));
	ev_val(&v[EV_FROM], from);
	ev_val(&v[EV_TO], to);
	ev_val(&v[EV_REASON], EV_S(reason != NULL && reason[0] != '\0' ?
	    reason : NULL));
	cols_print(stdout, &opt_cols, v, opt_fmt == FMT_JSON);
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

/* What changed in one backend that is in both snapshots. */
static void
diff_one(struct events *x, const struct table_backend *o,
    const struct table_backend *n)
{
	if (o->be_admin != n->be_admin)
		emit(x, n->be_name, "admin", EV_S(table_admin_str(o->be_admin)),
		    EV_S(table_admin_str(n->be_admin)), NULL);
	if (o->be_health != n->be_health)
		emit(x, n->be_name, "health",
		    EV_S(table_health_str(o->be_health)),
		    EV_S(table_health_str(n->be_health)), n->be_reason);
	if (o->be_weight != n->be_weight)
		emit(x, n->be_name, "weight", EV_N(o->be_weight),
		    EV_N(n->be_weight), NULL);
	if (o->be_share != n->be_share)
		emit(x, n->be_name, "share", EV_N(o->be_share),
		    EV_N(n->be_share), n->be_reason);
	if (strcmp(o->be_addr, n->be_addr) != 0)
		emit(x, n->be_name, "addr", EV_S(o->be_addr), EV_S(n->be_addr),
		    NULL);
	if (o->be_maxconn != n->be_maxconn)
		emit(x, n->be_name, "maxconn", EV_N(o->be_maxconn),
		    EV_N(n->be_maxconn), NULL);
	if (o->be_backup != n->be_backup)
		emit(x, n->be_name, "backup", EV_N(o->be_backup),
		    EV_N(n->be_backup), NULL);
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
			emit(x, ov[i]->be_name, "removed",
			    EV_S(ov[i]->be_addr), EV_S(NULL), NULL);
			i++;
		} else if (c > 0) {
			emit(x, nv[j]->be_name, "added", EV_S(NULL),
			    EV_S(nv[j]->be_addr), NULL);
			j++;
		} else {
			if (!anew && ov[i]->be_uid != nv[j]->be_uid) {
				emit(x, ov[i]->be_name, "removed",
				    EV_S(ov[i]->be_addr), EV_S(NULL), NULL);
				emit(x, nv[j]->be_name, "added", EV_S(NULL),
				    EV_S(nv[j]->be_addr), NULL);
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
	char		 e[256];
	uint32_t	 oldcap = table_capacity(x->e_src.sr_t);
	enum src_state	 st;

	st = src_refresh(&x->e_src, 0, e, sizeof(e));
	if (st == SRC_GONE) {
		fflush(stdout);
		log_warnx("table %s: %s", esc_arg(x->e_src.sr_name),
		    esc_arg(e));
		x->e_status = 1;
		evloop_stop(ev);
		return;
	}
	if (st == SRC_NEW || x->e_src.sr_snap.sn_gen != x->e_gen) {
		fmt_time(x->e_time, sizeof(x->e_time), table_now_ms());
		if (st == SRC_NEW)
			emit(x, NULL, "table", EV_N(oldcap),
			    EV_N(table_capacity(x->e_src.sr_t)), "made anew");
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

	memset(x, 0, sizeof(*x));
	x->e_interval = interval;
	x->e_left = count;
	x->e_counted = count > 0;
	if (src_open(&x->e_src, name, e, sizeof(e)) == -1)
		fatalx("table %s: %s", esc_arg(name), esc_arg(e));
	if ((ev = evloop_new()) == NULL ||
	    sig_watch(ev, sigs, 2, sig_stop) == -1)
		fatal("events");
	stdout_watch(ev);
	keep(x);
	/* The header says the first snapshot is taken. */
	if (!opt_noheader && opt_fmt != FMT_JSON)
		cols_print_header(stdout, &opt_cols);
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
