/* lb-stat: show what the backend tables hold, for people and programs. */
#include <sys/signalfd.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dur.h"
#include "evloop.h"
#include "lb-stat.h"
#include "log.h"
#include "table.h"


static int	 failed;
static void	(*sig_fn)(struct evloop *, int);

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: lb-stat [-1eHhjpV] [-l [addr]:port] [-m mode] [-n count] "
	    "[-t table]\n"
	    "               [-w interval]\n");
	exit(status);
}

static void
sig_read(struct evloop *ev, int fd, int what, void *arg)
{
	struct signalfd_siginfo si;

	(void)what;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		sig_fn(ev, (int)si.ssi_signo);
}

/*
 * Deliver the signals signo[0..n) to fn(ev, signo) from the loop, through
 * a signalfd: no work in a handler.  Returns 0 or -1.
 */
void
sig_stop(struct evloop *ev, int signo)
{
	(void)signo;
	evloop_stop(ev);
}

int
sig_watch(struct evloop *ev, const int *signo, size_t n,
    void (*fn)(struct evloop *, int))
{
	sigset_t	 set;
	size_t		 i;
	int		 fd;

	sigemptyset(&set);
	for (i = 0; i < n; i++)
		sigaddset(&set, signo[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		return (-1);
	sig_fn = fn;
	return (evloop_add(ev, fd, EVLOOP_READ, sig_read, NULL));
}

static void
stdout_gone(struct evloop *ev, int fd, int what, void *arg)
{
	(void)ev;
	(void)fd;
	(void)arg;
	if (what & EVLOOP_HUP) {
		/* As a write would have found: die of SIGPIPE, quietly. */
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
		_exit(1);
	}
}

/*
 * Notice a reader that went away (head(1) done) even when there is
 * nothing to write, so that an empty table does not keep us forever.
 * Regular files cannot be watched, and need not be.
 */
void
stdout_watch(struct evloop *ev)
{
	(void)evloop_add(ev, STDOUT_FILENO, 0, stdout_gone, NULL);
}

static void
show_table(const char *name)
{
	struct src	 sr;
	struct row	*rows;
	char		 e[256];
	size_t		 n;

	if (src_open(&sr, name, e, sizeof(e)) == -1)
		errx(1, "table %s: %s", name, e);
	if (sr.sr_snap.sn_corrupt)
		warnx("table %s: %u damaged slots shown in maint", name,
		    sr.sr_snap.sn_corrupt);
	if (sr.sr_snap.sn_clamped)
		warnx("table %s: %u slots counted out of range, shown clamped",
		    name, sr.sr_snap.sn_clamped);
	if ((rows = calloc(sr.sr_snap.sn_count ? sr.sr_snap.sn_count : 1,
	    sizeof(*rows))) == NULL)
		err(1, NULL);
	n = fill_rows(sr.sr_t, &sr.sr_snap, rows);
	if (opt_fmt == FMT_PROM)
		print_prom(stdout, rows, n);
	else
		print_rows(stdout, &view_show, rows, n, !opt_noheader);
	free(rows);
	src_close(&sr);
}

/* The list of tables: one line each. */
static const char *const lcols[] = { "table", "slots", "backends", "up",
    "down", "active", "total", "procs", "generation" };
#define NLCOLS	(sizeof(lcols) / sizeof(lcols[0]))

static void
list_one(const char *name, void *arg)
{
	struct table	*t;
	struct table_snap s;
	char		 e[256], v[NLCOLS][32];
	uint64_t	 up = 0, down = 0, active = 0, total = 0;
	uint32_t	 i;
	size_t		 c;

	(void)arg;
	memset(&s, 0, sizeof(s));
	/*
	 * A table we do not trust, or one of another layout version, is
	 * not ours to show, and no fault of the listing: say so and go
	 * on.  A damaged one fails it.
	 */
	if ((t = table_open(name, TABLE_RDONLY, 0, opt_mode, e,
	    sizeof(e))) == NULL && (errno == EPERM ||
	    errno == EPROTONOSUPPORT)) {
		warnx("table %s: %s", name, e);
		return;
	}
	if (t == NULL || table_snapshot(t, &s, e, sizeof(e)) == -1) {
		warnx("table %s: %s", name, e);
		failed = 1;
		table_close(t);
		return;
	}
	for (i = 0; i < s.sn_n; i++) {
		if (s.sn_be[i].be_uid == 0)
			continue;
		if (s.sn_be[i].be_health == TABLE_HEALTH_DOWN)
			down++;
		else if (s.sn_be[i].be_health == TABLE_HEALTH_UP)
			up++;
		active += (uint64_t)table_active(t, &s, i);
		total += atomic_load_explicit(&table_counters(t, i)->c_total,
		    memory_order_relaxed);
	}
	snprintf(v[0], sizeof(v[0]), "%s", name);
	snprintf(v[1], sizeof(v[1]), "%u", table_capacity(t));
	snprintf(v[2], sizeof(v[2]), "%u", s.sn_count);
	snprintf(v[3], sizeof(v[3]), "%" PRIu64, up);
	snprintf(v[4], sizeof(v[4]), "%" PRIu64, down);
	snprintf(v[5], sizeof(v[5]), "%" PRIu64, active);
	snprintf(v[6], sizeof(v[6]), "%" PRIu64, total);
	snprintf(v[7], sizeof(v[7]), "%u", s.sn_procs);
	snprintf(v[8], sizeof(v[8]), "%" PRIu64, s.sn_gen);
	if (opt_fmt == FMT_JSON) {
		putchar('{');
		for (c = 0; c < NLCOLS; c++) {
			if (c)
				putchar(',');
			json_str(stdout, lcols[c]);
			putchar(':');
			if (c == 0)
				json_str(stdout, v[c]);
			else
				fputs(v[c], stdout);
		}
		fputs("}\n", stdout);
	} else if (opt_fmt == FMT_AUTO) {
		printf("%-16s %8s %8s %5s %5s %8s %10s %5s %10s\n", v[0], v[1],
		    v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
	} else {
		for (c = 0; c < NLCOLS; c++)
			printf("%s%s", v[c], c + 1 < NLCOLS ? "\t" : "\n");
	}
	table_snap_free(&s);
	table_close(t);
}

int
main(int argc, char *argv[])
{
	const char	*tname = NULL, *laddr = NULL, *errstr;
	uint64_t	 interval = 0;
	long long	 count = 0;
	int		 ch, events = 0, print_addr = 0, status;
	size_t		 c;
	char		 e[256];

	log_init("lb-stat", 0);
	while ((ch = getopt(argc, argv, "1eHhjl:m:n:pt:Vw:")) != -1) {
		switch (ch) {
		case '1':
			print_addr = 1;
			break;
		case 'e':
			events = 1;
			break;
		case 'H':
			opt_noheader = 1;
			break;
		case 'j':
			opt_fmt = FMT_JSON;
			break;
		case 'l':
			laddr = optarg;
			break;
		case 'm':
			if (table_mode_parse(optarg, &opt_mode) == -1)
				errx(2, "bad mode '%s': octal, 1 to 0777",
				    optarg);
			break;
		case 'n':
			count = strtonum(optarg, 1, LLONG_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "bad count '%s': %s", optarg, errstr);
			break;
		case 'p':
			opt_fmt = FMT_PROM;
			break;
		case 't':
			tname = optarg;
			break;
		case 'V':
			printf("lb-stat %s\n", LB_VERSION);
			return (0);
		case 'w':
			if (dur_parse(optarg, &interval) == -1 || interval == 0)
				errx(2, "bad interval '%s': a duration like "
				    "250ms, 2s or 1m", optarg);
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (laddr != NULL && (events || interval || count ||
	    opt_fmt == FMT_JSON))
		errx(2, "-l serves Prometheus metrics: not with -e, -j, -n "
		    "or -w");
	if (print_addr && laddr == NULL)
		errx(2, "-1 prints the address of -l: give -l too");
	if (opt_fmt == FMT_PROM && (events || interval))
		errx(2, "-p prints once or serves with -l: not with -e or -w");
	if (count && !events && !interval)
		errx(2, "-n counts the reports of -w or the events of -e");
	if (tname == NULL)
		tname = getenv("LB_TABLE");
	if (tname == NULL && (laddr || events || interval))
		errx(2, "-%c needs a table: give -t TABLE", laddr ? 'l' :
		    events ? 'e' : 'w');
	if (tname != NULL && table_name_check(tname, e, sizeof(e)) == -1)
		errx(2, "%s", e);

	if (laddr != NULL)
		return (http_serve(tname, laddr, print_addr));
	if (events)
		return (events_run(tname, interval ? interval : 100, count));
	if (interval) {
		if (opt_fmt == FMT_AUTO && isatty(STDOUT_FILENO))
			return (live_run(tname, interval, count));
		if (opt_fmt == FMT_AUTO)
			opt_fmt = FMT_TSV;
		status = watch_lines(tname, interval, count);
		if (fflush(stdout) == EOF || ferror(stdout))
			err(1, "stdout");
		return (status);
	}

	if (opt_fmt == FMT_AUTO && !isatty(STDOUT_FILENO))
		opt_fmt = FMT_TSV;
	if (tname != NULL)
		show_table(tname);
	else {
		if (opt_fmt == FMT_PROM)
			errx(2, "-p needs a table: give -t TABLE");
		if (!opt_noheader && opt_fmt == FMT_AUTO)
			printf("%-16s %8s %8s %5s %5s %8s %10s %5s %10s\n",
			    "table", "slots", "backends", "up", "down",
			    "active", "total", "procs", "generation");
		else if (!opt_noheader && opt_fmt == FMT_TSV)
			for (c = 0; c < NLCOLS; c++)
				printf("%s%s%s", c ? "\t" : "# ", lcols[c],
				    c + 1 < NLCOLS ? "" : "\n");
		if (table_list(list_one, NULL) == -1)
			err(1, "/dev/shm");
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
	return (failed);
}
