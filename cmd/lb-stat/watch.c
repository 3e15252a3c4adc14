/* watch: -w without a terminal: a row of rates per backend each interval. */
#include <signal.h>
#include <string.h>

#include "esc.h"
#include "evloop.h"
#include "lb-stat.h"
#include "log.h"

struct watch {
	struct rater	 w_ra;
	uint64_t	 w_interval;
	long long	 w_left;		/* reports to go; 0: no end */
	struct evtimer	 w_timer;
	int		 w_status;
	int		 w_blocks;		/* printed, aligned */
};

static struct watch	 W;

static void
watch_tick(struct evloop *ev, void *arg)
{
	struct watch	*w = arg;
	char		 e[256];

	switch (rater_next(&w->w_ra, e, sizeof(e))) {
	case SRC_GONE:
		log_warnx("table %s: %s", esc_arg(w->w_ra.ra_src.sr_name),
		    esc_arg(e));
		w->w_status = 1;
		evloop_stop(ev);
		return;
	case SRC_NEW:
		log_warnx("table %s was made anew, with %u slots: rates "
		    "start again", esc_arg(w->w_ra.ra_src.sr_name),
		    table_capacity(w->w_ra.ra_src.sr_t));
		break;
	case SRC_SAME:
		break;
	}
	/* Aligned (-C): a block per interval, each under its names. */
	if (opt_fmt == FMT_AUTO && w->w_blocks++ > 0)
		putchar('\n');
	print_rows(stdout, w->w_ra.ra_rows, w->w_ra.ra_n, opt_fmt ==
	    FMT_AUTO && !opt_noheader);
	if (fflush(stdout) == EOF)
		fatal("stdout");
	if (w->w_left > 0 && --w->w_left == 0) {
		evloop_stop(ev);
		return;
	}
	evtimer_set(ev, &w->w_timer, w->w_interval, watch_tick, w);
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
	if (rater_open(&w->w_ra, name, e, sizeof(e)) == -1)
		fatalx("table %s: %s", esc_arg(name), esc_arg(e));
	if ((ev = evloop_new()) == NULL ||
	    sig_watch(ev, sigs, 2, sig_stop) == -1)
		fatal("watch");
	stdout_watch(ev);
	/* The header says the first samples are taken. */
	if (!opt_noheader && opt_fmt == FMT_TSV)
		cols_print_header(stdout, &opt_cols);
	if (fflush(stdout) == EOF)
		fatal("stdout");
	evtimer_set(ev, &w->w_timer, interval, watch_tick, w);
	if (evloop_run(ev) == -1)
		fatal("evloop");
	evloop_free(ev);
	rater_close(&w->w_ra);
	return (w->w_status);
}
