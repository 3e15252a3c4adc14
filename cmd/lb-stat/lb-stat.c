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
#include "esc.h"
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
	    "usage: lb-stat [-1ACeHhjPpV] [-l [addr]:port] [-m mode] "
	    "[-n count]\n"
	    "               [-o field,...] [-t table] [-w interval]\n");
	if (status == 0)
		printf("\n"
		    "  (no option)     the tables on this machine, one a line\n"
		    "  -t table        its backends: aligned on a terminal, "
		    "else TSV\n"
		    "  -A, -C          all the columns; aligned even into a "
		    "pipe\n"
		    "  -o field,...    these columns, in this order (-o help: "
		    "their names)\n"
		    "  -H, -j          no header line; JSON lines\n"
		    "  -P              the processes attached to the table(s)\n"
		    "  -p              Prometheus text, of -t or of every table\n"
		    "  -l [addr]:port  serve it at /metrics (-1: print the "
		    "address)\n"
		    "  -w interval     rates every interval (a live view on a "
		    "terminal)\n"
		    "  -e              a line per change of the table\n"
		    "  -n count        stop after count reports of -w or lines "
		    "of -e\n"
		    "  -m mode         accept a table shared up to this mode "
		    "(0600)\n"
		    "The words of every column: lb-table(5), VOCABULARY.  "
		    "See lb-stat(1).\n");
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
		errx(1, "table %s: %s", esc_arg(name), esc_arg(e));
	if (sr.sr_snap.sn_corrupt)
		warnx("table %s: %u damaged slots shown in maint",
		    esc_arg(name), sr.sr_snap.sn_corrupt);
	if (sr.sr_snap.sn_clamped)
		warnx("table %s: %u slots counted out of range, shown clamped",
		    esc_arg(name), sr.sr_snap.sn_clamped);
	if ((rows = calloc(sr.sr_snap.sn_count ? sr.sr_snap.sn_count : 1,
	    sizeof(*rows))) == NULL)
		err(1, NULL);
	n = fill_rows(sr.sr_t, &sr.sr_snap, rows);
	print_rows(stdout, rows, n, !opt_noheader);
	free(rows);
	src_close(&sr);
}

/* Names of the tables already said to be unreadable, for prom_all(). */
static char	*said[64];

static int
said_once(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(said) / sizeof(said[0]) && said[i]; i++)
		if (strcmp(said[i], name) == 0)
			return (1);
	if (i < sizeof(said) / sizeof(said[0]))
		said[i] = strdup(name);
	return (0);
}

struct promarg {
	struct promset	*ps;
	int		 quiet, failed;
};

static void
prom_one(const char *name, void *arg)
{
	struct promarg	*pa = arg;
	struct table	*t;
	struct table_snap s;
	char		 e[256];

	memset(&s, 0, sizeof(s));
	/*
	 * A table we do not trust, or one of another layout version, is
	 * not ours to show, and no fault of the listing: say so and go
	 * on.  A damaged one fails it.
	 */
	if ((t = table_open(name, TABLE_RDONLY, 0, opt_mode, e,
	    sizeof(e))) == NULL && (errno == EPERM ||
	    errno == EPROTONOSUPPORT)) {
		if (!pa->quiet || !said_once(name))
			log_warnx("table %s: %s", esc_arg(name), esc_arg(e));
		return;
	}
	if (t == NULL || table_snapshot(t, &s, e, sizeof(e)) == -1) {
		/* Gone since it was listed: nothing to say. */
		if (t == NULL && errno == ENOENT)
			return;
		if (!pa->quiet || !said_once(name))
			log_warnx("table %s: %s", esc_arg(name), esc_arg(e));
		pa->failed++;
	} else if (promset_add(pa->ps, t, &s) == -1) {
		log_warn("table %s", esc_arg(name));
		pa->failed++;
	}
	table_snap_free(&s);
	table_close(t);
}

int
prom_all(struct promset *ps, int quiet)
{
	struct promarg	 pa = { ps, quiet, 0 };

	if (table_list(prom_one, &pa) == -1) {
		log_warn("/dev/shm");
		return (-1);
	}
	return (pa.failed);
}

/* -p: the metrics of one table, or of every table on the machine. */
static void
show_prom(const char *name)
{
	struct promset	 ps;
	struct src	 sr;
	char		 e[256];

	memset(&ps, 0, sizeof(ps));
	if (name == NULL) {
		if (prom_all(&ps, 0) != 0)
			failed = 1;
	} else {
		if (src_open(&sr, name, e, sizeof(e)) == -1)
			errx(1, "table %s: %s", esc_arg(name), esc_arg(e));
		if (promset_add(&ps, sr.sr_t, &sr.sr_snap) == -1)
			err(1, NULL);
		src_close(&sr);
	}
	print_prom(stdout, &ps);
	promset_free(&ps);
}

/* The list of tables, and the processes attached to them. */
enum { L_TABLE, L_SLOTS, L_BACKENDS, L_UP, L_DOWN, L_ACTIVE, L_QUEUED,
    L_TOTAL, L_PROCS, L_GENERATION, NLCOLS };
static const struct cols_field lfields[NLCOLS] = { { "table", COLS_TEXT },
    { "slots", COLS_NUM }, { "backends", COLS_NUM }, { "up", COLS_NUM },
    { "down", COLS_NUM }, { "active", COLS_NUM }, { "queued", COLS_NUM },
    { "total", COLS_NUM }, { "procs", COLS_NUM },
    { "generation", COLS_NUM } };
enum { P_TABLE, P_PID, P_PROGRAM, NPCOLS };
static const struct cols_field pfields[NPCOLS] = { { "table", COLS_TEXT },
    { "pid", COLS_NUM }, { "program", COLS_TEXT } };

struct lrow {
	char		*lr_name;
	uint64_t	 lr_v[NLCOLS];		/* by L_*, but L_TABLE */
	struct table_proc lr_proc;		/* -P */
};

struct lrows {
	struct lrow	*l_v;
	size_t		 l_n, l_cap;
	int		 l_procs;		/* -P */
	int		 l_all;			/* every table, not one named */
};

static struct lrow *
lrow_new(struct lrows *l, const char *name)
{
	struct lrow	*nv;

	if (l->l_n == l->l_cap) {
		l->l_cap = l->l_cap ? l->l_cap * 2 : 16;
		if ((nv = reallocarray(l->l_v, l->l_cap, sizeof(*nv))) == NULL)
			err(1, NULL);
		l->l_v = nv;
	}
	nv = &l->l_v[l->l_n++];
	memset(nv, 0, sizeof(*nv));
	if ((nv->lr_name = strdup(name)) == NULL)
		err(1, NULL);
	return (nv);
}

static void
list_one(const char *name, void *arg)
{
	struct lrows	*l = arg;
	struct table	*t;
	struct table_snap s;
	struct table_proc p[TABLE_NREG];
	struct lrow	*r;
	char		 e[256];
	uint32_t	 i;
	int		 n, k;

	memset(&s, 0, sizeof(s));
	/* As prom_one(): one we do not trust, or cannot read, is skipped. */
	if ((t = table_open(name, TABLE_RDONLY, 0, opt_mode, e,
	    sizeof(e))) == NULL && (errno == EPERM ||
	    errno == EPROTONOSUPPORT) && l->l_all) {
		warnx("table %s: %s", esc_arg(name), esc_arg(e));
		return;
	}
	if (t == NULL || table_snapshot(t, &s, e, sizeof(e)) == -1) {
		warnx("table %s: %s", esc_arg(name), esc_arg(e));
		failed = 1;
		table_close(t);
		return;
	}
	if (l->l_procs) {
		n = table_procs(t, p, TABLE_NREG);
		for (k = 0; k < n && k < TABLE_NREG; k++)
			lrow_new(l, name)->lr_proc = p[k];
		goto done;
	}
	r = lrow_new(l, name);
	for (i = 0; i < s.sn_n; i++) {
		if (s.sn_be[i].be_uid == 0)
			continue;
		if (s.sn_be[i].be_health == TABLE_HEALTH_DOWN)
			r->lr_v[L_DOWN]++;
		else if (s.sn_be[i].be_health == TABLE_HEALTH_UP)
			r->lr_v[L_UP]++;
		r->lr_v[L_ACTIVE] += (uint64_t)table_active(t, &s, i);
		r->lr_v[L_TOTAL] += atomic_load_explicit(
		    &table_counters(t, i)->c_total, memory_order_relaxed);
	}
	r->lr_v[L_SLOTS] = table_capacity(t);
	r->lr_v[L_BACKENDS] = s.sn_count;
	r->lr_v[L_PROCS] = s.sn_procs;
	r->lr_v[L_QUEUED] = (uint64_t)table_queued(t, &s);
	r->lr_v[L_GENERATION] = s.sn_gen;
 done:
	table_snap_free(&s);
	table_close(t);
}

static void
lrow_vals(const void *arg, size_t i, struct cols_val *v)
{
	const struct lrows *l = arg;
	const struct lrow *r = &l->l_v[i];
	size_t		 c;

	if (l->l_procs) {
		cols_text(&v[P_TABLE], r->lr_name, strlen(r->lr_name));
		cols_num(&v[P_PID], (uint64_t)r->lr_proc.tp_pid);
		cols_text(&v[P_PROGRAM], r->lr_proc.tp_prog,
		    strlen(r->lr_proc.tp_prog));
		return;
	}
	cols_text(&v[L_TABLE], r->lr_name, strlen(r->lr_name));
	for (c = L_SLOTS; c < NLCOLS; c++)
		cols_num(&v[c], r->lr_v[c]);
}

/* Every table on the machine (name NULL), or one, a line each. */
static void
list_tables(const char *name, int procs)
{
	struct lrows	 l;
	struct out	 o;
	size_t		 i;

	memset(&l, 0, sizeof(l));
	l.l_procs = procs;
	l.l_all = name == NULL;
	if (name != NULL)
		list_one(name, &l);
	else if (table_list(list_one, &l) == -1)
		err(1, "/dev/shm");
	/* One table named, and it failed: its message said why. */
	if (name != NULL && failed)
		exit(1);
	o.o_cols = &opt_cols;
	o.o_vals = lrow_vals;
	o.o_arg = &l;
	o.o_n = l.l_n;
	out_rows(stdout, &o, !opt_noheader);
	for (i = 0; i < l.l_n; i++)
		free(l.l_v[i].lr_name);
	free(l.l_v);
}

/*
 * -o: the view's fields.  A name HAProxy's CSV gives one of them is
 * told its word here, for the operator who comes from there.
 */
static void
select_cols(const struct cols_field *f, size_t nf, const char *spec)
{
	char		 e[1200], tok[64];
	const char	*p, *q;
	size_t		 c, n;

	if (cols_parse(&opt_cols, f, nf, spec, e, sizeof(e)) == 0)
		return;
	for (p = spec; f == colf && *p; p = *q ? q + 1 : q) {
		q = p + strcspn(p, ",");
		n = (size_t)(q - p) < sizeof(tok) ? (size_t)(q - p) :
		    sizeof(tok) - 1;
		memcpy(tok, p, n);
		tok[n] = '\0';
		if (cols_find(f, nf, tok) != -1)
			continue;
		for (c = 0; c < nf; c++)
			if (cols[c].haproxy != NULL &&
			    strcmp(cols[c].haproxy, tok) == 0)
				errx(2, "-o: '%s' is HAProxy's name for what "
				    "lb calls %s", tok, cols[c].name);
		break;
	}
	errx(2, "-o: %s", e);
}

/* What main() read from the command line. */
static struct {
	const char	*tname, *laddr, *ocols;
	uint64_t	 interval;
	long long	 count;
	int		 events, print_addr, procs, all, aligned, json, prom;
} o;

/* Options that do not go together, and views that need a table. */
static void
check_opts(void)
{
	char	 e[256];

	if (o.json && o.prom)
		errx(2, "-j and -p do not go together: JSON lines or "
		    "Prometheus text");
	if (o.laddr != NULL && (o.events || o.interval || o.count ||
	    o.json || o.procs || o.ocols || o.all || o.aligned))
		errx(2, "-l serves Prometheus metrics: not with -A, -C, -e, "
		    "-j, -n, -o, -P or -w");
	if (o.print_addr && o.laddr == NULL)
		errx(2, "-1 prints the address of -l: give -l too");
	if (o.prom && (o.events || o.interval || o.procs || o.ocols ||
	    o.all || o.aligned))
		errx(2, "-p prints once or serves with -l: not with -A, -C, "
		    "-e, -o, -P or -w");
	if (o.count && !o.events && !o.interval)
		errx(2, "-n counts the reports of -w or the events of -e");
	if (o.procs && (o.events || o.interval))
		errx(2, "-P lists the attached processes once: not with -e "
		    "or -w");
	if (o.events && o.interval == 0)
		o.interval = 100;
	if (o.ocols && o.all)
		errx(2, "-A shows all the columns, -o some: not both");
	if (o.aligned && o.json)
		errx(2, "-C aligns columns for a person: not with -j");
	if (o.aligned && o.events)
		errx(2, "-C aligns rows: -e prints a line per change, as it "
		    "comes");
	if (o.tname == NULL)
		o.tname = getenv("LB_TABLE");
	if (o.tname == NULL && (o.events || o.interval))
		errx(2, "-%c needs a table: give -t TABLE", o.events ? 'e' :
		    'w');
	if (o.tname != NULL && table_name_check(o.tname, e, sizeof(e)) == -1)
		errx(2, "%s", esc_arg(e));
}

/* The fields of the view, by -o or the view's own default. */
static void
choose_cols(void)
{
	const struct cols_field *f = colf;
	const char	*def;
	size_t		 nf = NSHOW;

	if (o.events) {
		f = evfields;
		nf = nevfields;
		def = "time,table,backend,event,from,to,reason";
	} else if (o.procs) {
		f = pfields;
		nf = NPCOLS;
		def = "table,pid,program";
	} else if (o.tname == NULL) {
		f = lfields;
		nf = NLCOLS;
		def = "table,slots,backends,up,down,active,queued,total,"
		    "procs,generation";
	} else if (o.interval) {
		nf = NCOLS;
		def = opt_fmt == FMT_AUTO && !o.all ? "backend,health,active,"
		    "total_rate,bytes_in_rate,bytes_out_rate,fail_rate" :
		    "time,interval,table,backend,admin,health,weight,active,"
		    "total_rate,requests_rate,bytes_in_rate,"
		    "bytes_out_rate,fail_rate,status_5xx_rate";
		if (opt_fmt == FMT_AUTO && o.all)
			def = NULL;
	} else
		/* Fits 80 columns for names and addresses of 12 or so. */
		def = opt_fmt == FMT_AUTO && !o.all ? "backend,addr,admin,"
		    "health,weight,active,total,fail,check" : NULL;
	if (o.ocols != NULL && strcmp(o.ocols, "help") == 0) {
		char	 buf[1024];

		printf("%s\n", cols_names(f, nf, buf, sizeof(buf)));
		exit(0);
	}
	if (o.ocols != NULL)
		select_cols(f, nf, o.ocols);
	else if (def != NULL)
		select_cols(f, nf, def);
	else {
		/* The long view: every field, in its order. */
		memset(&opt_cols, 0, sizeof(opt_cols));
		opt_cols.cs_f = f;
		opt_cols.cs_nf = nf;
		for (; opt_cols.cs_n < nf; opt_cols.cs_n++) {
			opt_cols.cs_sel[opt_cols.cs_n] = (uint8_t)opt_cols.cs_n;
			opt_cols.cs_has |= 1ULL << opt_cols.cs_n;
		}
	}
}

int
main(int argc, char *argv[])
{
	const char	*errstr;
	char		 why[128];
	int		 ch, status;

	log_init("lb-stat", 0);
	cols_init();
	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		usage(0);
	while ((ch = getopt(argc, argv, "1ACeHhjl:m:n:o:Ppt:Vw:")) != -1) {
		switch (ch) {
		case '1':
			o.print_addr = 1;
			break;
		case 'A':
			o.all = 1;
			break;
		case 'C':
			o.aligned = 1;
			break;
		case 'e':
			o.events = 1;
			break;
		case 'H':
			opt_noheader = 1;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'l':
			o.laddr = optarg;
			break;
		case 'm':
			if (table_mode_parse(optarg, &opt_mode) == -1)
				errx(2, "bad mode '%s': octal, 1 to 0777",
				    optarg);
			break;
		case 'n':
			o.count = strtonum(optarg, 1, LLONG_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "bad -n '%s': a count from 1", esc_arg(
				    optarg));
			break;
		case 'o':
			o.ocols = optarg;
			break;
		case 'P':
			o.procs = 1;
			break;
		case 'p':
			o.prom = 1;
			break;
		case 't':
			if (o.tname != NULL)
				errx(2, "-t given twice: one table, or none "
				    "for every table");
			o.tname = optarg;
			break;
		case 'V':
			printf("lb-stat %s\n", LB_VERSION);
			return (0);
		case 'w':
			if (dur_range(optarg, 1, DUR_MAX_MS, &o.interval, why,
			    sizeof(why)) == -1)
				errx(2, "bad -w '%s': %s", esc_arg(optarg), why);
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	check_opts();
	if (o.laddr != NULL)
		return (http_serve(o.tname, o.laddr, o.print_addr));
	opt_fmt = o.prom ? FMT_PROM : o.json ? FMT_JSON : FMT_AUTO;
	/* Aligned for a person; TSV for a program, or a file. */
	if (opt_fmt == FMT_AUTO && !o.aligned && (o.events ||
	    !isatty(STDOUT_FILENO)))
		opt_fmt = FMT_TSV;
	if (opt_fmt != FMT_PROM)
		choose_cols();
	if (o.events)
		return (events_run(o.tname, o.interval, o.count));
	if (o.interval) {
		if (opt_fmt == FMT_AUTO && !o.aligned && o.ocols == NULL &&
		    !o.all)
			return (live_run(o.tname, o.interval, o.count));
		status = watch_lines(o.tname, o.interval, o.count);
		if (fflush(stdout) == EOF || ferror(stdout))
			err(1, "stdout");
		return (status);
	}
	if (opt_fmt == FMT_PROM)
		show_prom(o.tname);
	else if (o.procs || o.tname == NULL)
		list_tables(o.tname, o.procs);
	else
		show_table(o.tname);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
	return (failed);
}
