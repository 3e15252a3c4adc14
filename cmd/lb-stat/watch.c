/* watch: -w without a terminal: a row of rates per backend each interval. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evloop.h"
#include "lb-stat.h"
#include "log.h"

struct watch {
	struct src	 w_src;
	struct sample	*w_prev, *w_cur;	/* by slot; capacity entries */
	uint32_t	 w_cap;
	struct row	*w_rows;
	uint64_t	 w_at;			/* monotonic ms of w_prev */
	uint64_t	 w_interval;
	long long	 w_left;		/* reports to go; 0: no end */
	struct evtimer	 w_timer;
	int		 w_status;
};

static struct watch	 W;

/* Room for the table's capacity; a new table's samples start afresh. */
static int
watch_resize(struct watch *w)
{
	uint32_t	 cap = table_capacity(w->w_src.sr_t);

	if (cap != w->w_cap) {
		free(w->w_prev);
		free(w->w_cur);
		free(w->w_rows);
		w->w_prev = calloc(cap, sizeof(*w->w_prev));
		w->w_cur = calloc(cap, sizeof(*w->w_cur));
		w->w_rows = calloc(cap, sizeof(*w->w_rows));
		if (w->w_prev == NULL || w->w_cur == NULL || w->w_rows == NULL)
			return (-1);
		w->w_cap = cap;
	} else
		memset(w->w_prev, 0, cap * sizeof(*w->w_prev));
	return (0);
}

/* The samples of every backend now, into w_cur. */
static void
watch_sample(struct watch *w)
{
	const struct table_snap *s = &w->w_src.sr_snap;
	uint32_t	 i;

	memset(w->w_cur, 0, w->w_cap * sizeof(*w->w_cur));
	for (i = 0; i < s->sn_n && i < w->w_cap; i++)
		if (s->sn_be[i].be_uid != 0)
			sample_read(w->w_src.sr_t, i, s->sn_be[i].be_uid,
			    &w->w_cur[i]);
}

static void
watch_tick(struct evloop *ev, void *arg)
{
	struct watch	*w = arg;
	struct sample	*tmp;
	char		 e[256], ts[40];
	uint64_t	 now;
	double		 secs;
	size_t		 n, k;

	switch (src_refresh(&w->w_src, 1, e, sizeof(e))) {
	case SRC_GONE:
		log_warnx("table %s: %s", w->w_src.sr_name, e);
		w->w_status = 1;
		evloop_stop(ev);
		return;
	case SRC_NEW:
		log_warnx("table %s was made anew, with %u slots: rates "
		    "start again", w->w_src.sr_name,
		    table_capacity(w->w_src.sr_t));
		if (watch_resize(w) == -1)
			fatal("watch");
		break;
	case SRC_SAME:
		break;
	}
	now = evloop_clock();
	secs = (double)(now - w->w_at) / 1000.0;
	w->w_at = now;
	watch_sample(w);
	n = fill_rows(w->w_src.sr_t, &w->w_src.sr_snap, w->w_rows);
	fmt_time(ts, sizeof(ts), table_now_ms());
	for (k = 0; k < n; k++) {
		struct row *r = &w->w_rows[k];

		set_rates(r, w->w_prev[r->slot].sa_uid ? &w->w_prev[r->slot] :
		    NULL, &w->w_cur[r->slot], secs);
		strlcpy(r->v[C_TIME], ts, sizeof(r->v[C_TIME]));
	}
	tmp = w->w_prev;
	w->w_prev = w->w_cur;
	w->w_cur = tmp;
	print_rows(stdout, &view_rate, w->w_rows, n, 0);
	if (fflush(stdout) == EOF)
		fatal("stdout");
	if (w->w_left > 0 && --w->w_left == 0) {
		evloop_stop(ev);
		return;
	}
	evtimer_set(ev, &w->w_timer, w->w_interval, watch_tick, w);
}

static void
watch_signal(struct evloop *ev, int signo)
{
	(void)signo;
	evloop_stop(ev);
}

int
watch_lines(const char *name, uint64_t interval, long long count)
{
	static const int sigs[] = { SIGINT, SIGTERM };
	struct watch	*w = &W;
	struct evloop	*ev;
	char		 e[256];

	memset(w, 0, sizeof(*w));
	w->w_interval = interval;
	w->w_left = count;
	if (src_open(&w->w_src, name, e, sizeof(e)) == -1)
		fatalx("table %s: %s", name, e);
	if ((ev = evloop_new()) == NULL || watch_resize(w) == -1 ||
	    sig_watch(ev, sigs, 2, watch_signal) == -1)
		fatal("watch");
	stdout_watch(ev);
	w->w_at = evloop_clock();
	watch_sample(w);
	memcpy(w->w_prev, w->w_cur, w->w_cap * sizeof(*w->w_prev));
	/* The header says the first samples are taken. */
	if (!opt_noheader && opt_fmt != FMT_JSON)
		print_header(stdout, &view_rate);
	if (fflush(stdout) == EOF)
		fatal("stdout");
	evtimer_set(ev, &w->w_timer, interval, watch_tick, w);
	if (evloop_run(ev) == -1)
		fatal("evloop");
	evloop_free(ev);
	src_close(&w->w_src);
	free(w->w_prev);
	free(w->w_cur);
	free(w->w_rows);
	return (w->w_status);
}
