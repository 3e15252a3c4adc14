/* lb-ctl: create tables and add, remove, drain and weight their backends. */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "blist.h"
#include "dur.h"
#include "esc.h"
#include "log.h"
#include "table.h"

#define LOCK_SAY_MS	1000		/* waiting this long, say for whom */
#define PURGE_POLL_MS	10		/* how often a purge looks who is done */


static const char *tname;
static mode_t	 tmode;			/* -m: made with, accepted up to */
static char	 errbuf[512];
static struct table *tbl;		/* the attached table, closed at exit */
static int	 made;			/* this run made tbl, for a change... */
static uint64_t	 made_gen;		/* ...not yet written, at this generation */
static uint64_t	 wait_ms = 10000;	/* -W: for another writer's lock; 0: ever */

/*
 * On every exit, errors included: drop an unfinished change, detach,
 * and remove a table this run made for a change that did not happen,
 * so that a command that fails leaves nothing behind.  A table someone
 * else wrote to meanwhile is theirs too, and stays.
 */
static void
close_table(void)
{
	int	 undo;

	if (tbl == NULL)
		return;
	undo = made && table_generation(tbl) == made_gen;
	table_close(tbl);		/* aborts a change left open */
	tbl = NULL;
	if (undo)
		(void)table_destroy(tname, NULL, 0);
	made = 0;
}

/* The change is written: a table this run made is kept. */
static void
commit(struct table *t)
{
	table_commit(t);
	made = 0;
	close_table();
}

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: lb-ctl [-hV] [-m mode] [-t table] [-W wait] create "
	    "[-m mode] [-n slots]\n"
	    "       lb-ctl [-m mode] [-t table] destroy\n"
	    "       lb-ctl [-m mode] [-t table] add addr [name=N] [weight=N]\n"
	    "              [maxconn=N] [state=S] [backup=yes]\n"
	    "       lb-ctl [-m mode] [-t table] del name ...\n"
	    "       lb-ctl [-m mode] [-t table] set name key=value ...\n"
	    "       lb-ctl [-m mode] [-t table] enable | drain | maint name ...\n"
	    "       lb-ctl [-m mode] [-t table] sync [-e] [file]\n"
	    "       lb-ctl [-m mode] [-t table] dump\n"
	    "       lb-ctl [-m mode] [-t table] purge url ...\n");
	if (status == 0)
		printf("\n"
		    "Options come before the command: -t TABLE (or LB_TABLE), "
		    "-m the mode a\n"
		    "shared table has (0600), -W how long to wait for another "
		    "writer's lock\n"
		    "(10s; 0: no end).  The commands:\n"
		    "  create          make the table: -n slots (256), -m mode "
		    "(0600)\n"
		    "  add, del        add a backend, remove some\n"
		    "  set             change keys of one: addr, backup, "
		    "maxconn, name, state, weight\n"
		    "  enable, drain, maint  the admin state of some\n"
		    "  sync, dump      make the table equal to a list; print "
		    "it as one\n"
		    "  purge           drop cached responses of its routes: "
		    "host/path, /path, a\n"
		    "                  prefix with a trailing *; waits for "
		    "lb-http (-W)\n"
		    "See lb-ctl(1), and lb-table(5) for the list format.\n");
	exit(status);
}

/* The command line lacks something: say what, and how it goes. */
static void __attribute__((noreturn))
missing(const char *what, const char *form)
{
	errx(2, "%s: lb-ctl [-t table] %s", what, form);
}

/*
 * Who holds the lock of the table: from /proc/locks, the flock of its
 * file that is not a waiter's.  Fills buf with "pid N (program)", or
 * with the processes attached when the holder cannot be told.
 */
static void
lock_holder(char *buf, size_t len)
{
	struct table_proc p[8];
	struct stat	 st;
	FILE		*fp;
	char		 path[PATH_MAX + 16], line[256], dev[64], comm[32];
	unsigned long	 ino;
	int		 pid, n, i;
	size_t		 o;

	if (strchr(tname, '/') != NULL)
		snprintf(path, sizeof(path), "%s", tname);
	else
		snprintf(path, sizeof(path), "/dev/shm/lb.%s", tname);
	if (stat(path, &st) == 0 && (fp = fopen("/proc/locks", "r")) != NULL) {
		snprintf(dev, sizeof(dev), "%02x:%02x:%lu", major(st.st_dev),
		    minor(st.st_dev), (unsigned long)st.st_ino);
		while (fgets(line, sizeof(line), fp) != NULL) {
			if (strstr(line, "->") != NULL ||
			    strstr(line, "FLOCK") == NULL ||
			    sscanf(strstr(line, "FLOCK"), "FLOCK %*s %*s %d "
			    "%63s", &pid, path) != 2 || strcmp(path, dev) != 0 ||
			    pid == getpid())
				continue;
			fclose(fp);
			snprintf(path, sizeof(path), "/proc/%d/comm", pid);
			comm[0] = '\0';
			if ((fp = fopen(path, "r")) != NULL) {
				if (fgets(comm, sizeof(comm), fp) == NULL)
					comm[0] = '\0';
				comm[strcspn(comm, "\n")] = '\0';
				fclose(fp);
			}
			snprintf(buf, len, "held by pid %d (%s)", pid,
			    comm[0] ? esc_arg(comm) : "?");
			return;
		}
		fclose(fp);
		(void)ino;
	}
	/* Another pid namespace, say: who is attached is what we know. */
	n = tbl != NULL ? table_procs(tbl, p, 8) : 0;
	o = (size_t)snprintf(buf, len, "held by another writer");
	for (i = 0; i < n && i < 8 && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s %d", i ?
		    ", " : "; attached: ", esc_arg(p[i].tp_prog),
		    (int)p[i].tp_pid);
}

static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 done;
} lw = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };

/* Wait until lw.done or ms from start; returns lw.done. */
static int
lock_wait_until(const struct timespec *start, uint64_t ms)
{
	struct timespec	 at = *start;

	at.tv_sec += (time_t)(ms / 1000);
	at.tv_nsec += (long)(ms % 1000) * 1000000;
	if (at.tv_nsec >= 1000000000) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000;
	}
	while (!lw.done && pthread_cond_timedwait(&lw.cv, &lw.mu, &at) !=
	    ETIMEDOUT)
		;
	return (lw.done);
}

/*
 * While the main thread waits for the lock in table_begin(): after a
 * second, say on stderr whom it waits for; after -W, give up.  Nothing
 * was written yet, so leaving at once changes nothing.
 */
static void *
lock_watch(void *arg)
{
	struct timespec	 start;
	char		 who[512], w[32];

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &start);
	pthread_mutex_lock(&lw.mu);
	if (lock_wait_until(&start, wait_ms && wait_ms < LOCK_SAY_MS ?
	    wait_ms : LOCK_SAY_MS))
		goto done;
	lock_holder(who, sizeof(who));
	if (wait_ms == 0)
		warnx("table %s: waiting for its lock, %s; no end (-W 0)",
		    esc_arg(tname), who);
	else if (wait_ms > LOCK_SAY_MS)
		warnx("table %s: waiting for its lock, %s; at most %s (-W)",
		    esc_arg(tname), who, dur_fmt(w, sizeof(w), wait_ms));
	if (wait_ms == 0 || lock_wait_until(&start, wait_ms))
		goto done;
	lock_holder(who, sizeof(who));
	fprintf(stderr, "lb-ctl: table %s: still locked after %s, %s: "
	    "nothing changed\n", esc_arg(tname), dur_fmt(w, sizeof(w),
	    wait_ms), who);
	_exit(1);
 done:
	pthread_mutex_unlock(&lw.mu);
	return (NULL);
}

static void	watch_start(void);
static void	watch_stop(void);

static struct table *
open_table(int flags)
{
	struct table	*t;

	watch_start();
	t = table_open(tname, flags, 0, tmode, errbuf, sizeof(errbuf));
	if (!(flags & TABLE_RDWR))
		watch_stop();
	if (t == NULL)
		errx(1, "table %s: %s", esc_arg(tname), esc_arg(errbuf));
	tbl = t;
	return (t);
}

/*
 * Attach to the table, or make it (256 slots, mode 0600) when it is
 * missing, noting that this run made it.  Returns NULL when it is
 * missing and fit backends would not fit a new one.
 */
static struct table *
open_or_make(size_t fit)
{
	struct table	*t;
	int		 tries;

	watch_start();
	for (tries = 0;; tries++) {
		if ((t = table_open(tname, TABLE_RDWR, 0, tmode, errbuf,
		    sizeof(errbuf))) != NULL)
			break;
		if (errno != ENOENT || tries == 10)
			errx(1, "table %s: %s", esc_arg(tname), esc_arg(errbuf));
		if (fit > TABLE_CAP_DEFAULT)
			return (NULL);
		if ((t = table_open(tname, TABLE_RDWR | TABLE_CREATE |
		    TABLE_EXCL, 0, tmode, errbuf, sizeof(errbuf))) != NULL) {
			made = 1;
			made_gen = table_generation(t);
			break;
		}
		/* Made by another writer since: attach to theirs. */
		if (errno != EEXIST)
			errx(1, "table %s: %s", esc_arg(tname), esc_arg(errbuf));
	}
	tbl = t;
	return (t);
}

static pthread_t	 lw_thread;
static int		 lw_on;

/*
 * Attaching (which waits up to two seconds for a lock held, see
 * lb-table(5)) and taking the lock for a change are watched from
 * watch_start() to watch_stop(): a wait is said, and bounded by -W.
 */
static void
watch_start(void)
{
	if (lw_on)
		return;
	lw.done = 0;
	lw_on = pthread_create(&lw_thread, NULL, lock_watch, NULL) == 0;
}

static void
watch_stop(void)
{
	if (!lw_on)
		return;
	pthread_mutex_lock(&lw.mu);
	lw.done = 1;
	pthread_cond_signal(&lw.cv);
	pthread_mutex_unlock(&lw.mu);
	pthread_join(lw_thread, NULL);
	lw_on = 0;
}

/* Take the table's lock for a change. */
static void
begin(struct table *t)
{
	int	 rc;

	watch_start();
	rc = table_begin(t, errbuf, sizeof(errbuf));
	watch_stop();
	if (rc == -1)
		errx(1, "table %s: %s", esc_arg(tname), esc_arg(errbuf));
}

/* -m, before the command or after create: octal, as chmod(1) takes it. */
static mode_t
mode_arg(const char *s)
{
	mode_t	 m;

	if (table_mode_parse(s, &m) == -1)
		errx(2, "bad mode '%s': octal, 1 to 0777", esc_arg(s));
	return (m);
}

static int
cmd_create(int argc, char **argv)
{
	struct table	*t;
	const char	*e;
	uint32_t	 slots = 0;
	mode_t		 mode = tmode;
	int		 ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "m:n:")) != -1) {
		switch (ch) {
		case 'm':
			mode = mode_arg(optarg);
			break;
		case 'n':
			slots = (uint32_t)strtonum(optarg, 1, TABLE_CAP_MAX,
			    &e);
			if (e != NULL)
				errx(2, "bad slot count '%s': 1 to %u",
				    esc_arg(optarg), TABLE_CAP_MAX);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if ((t = table_open(tname, TABLE_RDWR | TABLE_CREATE | TABLE_EXCL,
	    slots, mode, errbuf, sizeof(errbuf))) == NULL)
		errx(1, "table %s: %s", esc_arg(tname), esc_arg(errbuf));
	table_close(t);
	return (0);
}

static int
cmd_destroy(int argc, char **argv)
{
	if (argc != 1)
		errx(2, "destroy takes no operand, not '%s'",
		    esc_arg(argv[1]));
	if (table_destroy(tname, errbuf, sizeof(errbuf)) == -1)
		errx(1, "table %s: %s", esc_arg(tname), esc_arg(errbuf));
	return (0);
}

/*
 * A backend does not fit: say why, and how to make room.  want is the
 * length of the list for sync, 0 for add.  t is the table, locked for
 * the change, or NULL when it is missing and a new one would be too
 * small.
 */
static void __attribute__((noreturn))
full(struct table *t, const char *name, size_t want)
{
	uint32_t	 i, used = 0, cap;
	size_t		 more;
	const char	*tn = esc_arg(tname);

	cap = t != NULL ? table_capacity(t) : TABLE_CAP_DEFAULT;
	if (t != NULL)
		for (i = 0; i < table_hw(t); i++)
			if (table_slot(t, i)->be_uid != 0)
				used++;
	if (t != NULL)
		table_abort(t);
	more = want ? want : (size_t)cap * 2;
	if (more > TABLE_CAP_MAX)
		more = TABLE_CAP_MAX;
	if (want > TABLE_CAP_MAX)
		errx(1, "table %s: full (%u slots): cannot add '%s': the list "
		    "has %zu backends, more than a table holds (%u)", tn,
		    cap, name, want, TABLE_CAP_MAX);
	if (t == NULL)
		errx(1, "table %s: full (%u slots): cannot add '%s': the list "
		    "has %zu backends; make the table with lb-ctl -t %s "
		    "create -n %zu (or more)", tn, cap, name, want, tn,
		    more);
	/* Room enough, but a slot is reused only once nobody counts it. */
	if (want > 0 ? want <= cap : used < cap)
		errx(1, "table %s: full (%u slots): cannot add '%s': the slots "
		    "of removed backends still count open connections; try "
		    "again when they have closed", tn, cap, name);
	if (cap == TABLE_CAP_MAX)
		errx(1, "table %s: full (%u slots): cannot add '%s'; no table "
		    "holds more", tn, cap, name);
	if (want > 0)
		errx(1, "table %s: full (%u slots): cannot add '%s': the list "
		    "has %zu backends; its slots are fixed when it is made: "
		    "destroy it and make it again with lb-ctl -t %s create -n "
		    "%zu (or more), or sync into a new table", tn, cap, name,
		    want, tn, more);
	errx(1, "table %s: full (%u slots): cannot add '%s'; its slots are "
	    "fixed when it is made: destroy it and make it again with lb-ctl "
	    "-t %s create -n %zu (or more), or add to a new table", tn, cap,
	    name, tn, more);
}

static int
cmd_add(int argc, char **argv)
{
	struct blist_entry e;
	struct table	*t;
	int		 i;

	if (argc < 2)
		missing("add: no address given", "add addr [name=N] "
		    "[weight=N] [maxconn=N] [state=S] [backup=yes]");
	if (blist_words(argv + 1, argc - 1, &e, errbuf, sizeof(errbuf)) == -1)
		errx(2, "%s", esc_arg(errbuf));
	/* Look the name up before the lock: DNS may be slow. */
	if (blist_resolve(&e, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s", esc_arg(errbuf));
	t = open_or_make(1);
	begin(t);
	if (table_find(t, e.ble_name) != -1) {
		table_abort(t);
		errx(1, "table %s: a backend named '%s' exists",
		    esc_arg(tname), esc_arg(e.ble_name));
	}
	if ((i = table_alloc(t)) == -1)
		full(t, e.ble_name, 0);
	e.ble_set |= BLIST_NAME | BLIST_WEIGHT | BLIST_MAXCONN | BLIST_STATE |
	    BLIST_BACKUP;
	blist_apply(table_slot(t, (uint32_t)i), &e);
	commit(t);
	return (0);
}

/* Find every name or fail, with the table locked. */
static void
find_all(struct table *t, char **names, int n, int *idx)
{
	char	 e[256];
	int	 i;

	for (i = 0; i < n; i++) {
		if (blist_name_check(names[i], e, sizeof(e)) == -1) {
			table_abort(t);
			errx(2, "%s", esc_arg(e));
		}
		if ((idx[i] = table_find(t, names[i])) == -1) {
			table_abort(t);
			errx(1, "table %s: no backend named '%s'",
			    esc_arg(tname), esc_arg(names[i]));
		}
	}
}

/* del, enable, drain, maint: one change to every name, or to none. */
static int
cmd_each(int argc, char **argv)
{
	struct blist_entry e;
	struct table	*t;
	int		*idx, i, del = strcmp(argv[0], "del") == 0;
	char		 what[64], form[64];

	if (argc < 2) {
		snprintf(what, sizeof(what), "%s: no backend named", argv[0]);
		snprintf(form, sizeof(form), "%s name ...", argv[0]);
		missing(what, form);
	}
	memset(&e, 0, sizeof(e));
	e.ble_set = BLIST_STATE;
	/* The command is the verb of its state: enable makes enabled. */
	e.ble_admin = strcmp(argv[0], "enable") == 0 ? TABLE_ADMIN_ENABLED :
	    table_admin_parse(argv[0]);
	if ((idx = calloc((size_t)argc, sizeof(*idx))) == NULL)
		err(1, NULL);
	t = open_table(TABLE_RDWR);
	begin(t);
	find_all(t, argv + 1, argc - 1, idx);
	for (i = 0; i < argc - 1; i++) {
		if (del)
			table_free(t, (uint32_t)idx[i]);
		else
			blist_apply(table_slot(t, (uint32_t)idx[i]), &e);
	}
	table_commit(t);
	close_table();
	free(idx);
	return (0);
}

static int
cmd_set(int argc, char **argv)
{
	struct blist_entry e;
	struct table	*t;
	int		 i, idx;

	if (argc < 2)
		missing("set: no backend named", "set name key=value ...");
	memset(&e, 0, sizeof(e));
	if (blist_name_check(argv[1], errbuf, sizeof(errbuf)) == -1)
		errx(2, "%s", esc_arg(errbuf));
	if (argc < 3)
		errx(2, "set %s: nothing to set: give key=value, with a key "
		    "of addr, backup, maxconn, name, state or weight",
		    argv[1]);
	for (i = 2; i < argc; i++)
		if (blist_kv(&e, argv[i], 1, errbuf, sizeof(errbuf)) == -1)
			errx(2, "%s", esc_arg(errbuf));
	if (e.ble_set & BLIST_ADDR &&
	    blist_resolve(&e, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s", esc_arg(errbuf));
	t = open_table(TABLE_RDWR);
	begin(t);
	if ((idx = table_find(t, argv[1])) == -1) {
		table_abort(t);
		errx(1, "table %s: no backend named '%s'", esc_arg(tname),
		    argv[1]);
	}
	if (e.ble_set & BLIST_NAME && strcmp(e.ble_name, argv[1]) != 0 &&
	    table_find(t, e.ble_name) != -1) {
		table_abort(t);
		errx(1, "table %s: a backend named '%s' exists",
		    esc_arg(tname), e.ble_name);
	}
	blist_apply(table_slot(t, (uint32_t)idx), &e);
	table_commit(t);
	close_table();
	return (0);
}

static int
cmd_sync(int argc, char **argv)
{
	struct blist_entry *v = NULL;
	struct table	*t;
	FILE		*fp = stdin;
	const char	*path = "-", *src;
	size_t		 n, k;
	int		 ch, empty_ok = 0;

	optind = 1;
	while ((ch = getopt(argc, argv, "e")) != -1) {
		switch (ch) {
		case 'e':
			empty_ok = 1;
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		errx(2, "sync reads one list, not '%s' too",
		    esc_arg(argv[1]));
	if (argc == 1)
		path = argv[0];
	src = strcmp(path, "-") != 0 ? path : "stdin";
	if (strcmp(path, "-") != 0 && (fp = fopen(path, "r")) == NULL)
		err(1, "%s", esc_arg(path));
	if (blist_read(fp, &v, &n, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s: %s", esc_arg(src), esc_arg(errbuf));
	if (fp != stdin)
		fclose(fp);
	if (blist_empty_check(n, empty_ok, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s: %s: refusing to empty table %s (sync -e empties "
		    "it)", esc_arg(src), errbuf, esc_arg(tname));
	for (k = 0; k < n; k++)
		if (blist_resolve(&v[k], errbuf, sizeof(errbuf)) == -1)
			errx(1, "%s: line %d: %s", esc_arg(src),
			    v[k].ble_line, esc_arg(errbuf));
	/* A missing table is made only when the list fits it. */
	if ((t = open_or_make(n)) == NULL)
		full(NULL, v[TABLE_CAP_DEFAULT].ble_name, n);
	begin(t);
	if (n > table_capacity(t))
		full(t, v[table_capacity(t)].ble_name, n);
	if (blist_load(t, v, n, 1, NULL, 0, &k) == -1)
		full(t, v[k].ble_name, n);
	commit(t);
	free(v);
	return (0);
}

static int
cmd_dump(int argc, char **argv)
{
	struct table_snap s;
	struct table	*t;
	char		 line[512];
	uint32_t	 i;

	if (argc != 1)
		errx(2, "dump takes no operand, not '%s'", esc_arg(argv[1]));
	memset(&s, 0, sizeof(s));
	t = open_table(TABLE_RDONLY);
	if (table_snapshot(t, &s, errbuf, sizeof(errbuf)) == -1)
		errx(1, "table %s: %s", esc_arg(tname), esc_arg(errbuf));
	for (i = 0; i < s.sn_n; i++) {
		if (s.sn_be[i].be_uid == 0)
			continue;
		if (s.sn_be[i].be_flags & TABLE_BE_CORRUPT)
			warnx("table %s: slot %u is damaged: shown in maint",
			    esc_arg(tname), i);
		printf("%s\n", blist_fmt(&s.sn_be[i], line, sizeof(line)));
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
	table_snap_free(&s);
	close_table();
	return (0);
}

/*
 * A purge's URL as the cache keys it: [http[s]://]host/path, the host
 * lower case and without a port (a route ignores the port too), or a
 * /path of any host; a trailing '*' makes it a prefix, and '*' alone
 * is every object.  Returns 0 with the pattern in buf, or -1.
 */
static int
purge_pattern(const char *url, char *buf, size_t len, int *flags)
{
	const char	*p = url, *slash, *colon;
	size_t		 n = strlen(url), i, o = 0;

	*flags = 0;
	if (n > 0 && url[n - 1] == '*') {
		*flags = TABLE_PURGE_PREFIX;
		n--;
	}
	if (n == 0) {
		snprintf(buf, len, "/");
		return (0);
	}
	if (strncasecmp(p, "http://", 7) == 0 ||
	    strncasecmp(p, "https://", 8) == 0) {
		o = (size_t)snprintf(buf, len, "%s", p[4] == ':' ? "http://" :
		    "https://");
		p += p[4] == ':' ? 7 : 8;
	}
	if (*p != '/') {
		/* host[:port]/path: the host alone, in lower case */
		if ((slash = memchr(p, '/', n - (size_t)(p - url))) == NULL ||
		    slash == p)
			return (-1);
		colon = memchr(p, ':', (size_t)(slash - p));
		for (i = 0; p + i < (colon != NULL ? colon : slash); i++) {
			if (o + 1 >= len || !(isalnum((unsigned char)p[i]) ||
			    strchr("-._[]", p[i]) != NULL))
				return (-1);
			buf[o++] = (char)tolower((unsigned char)p[i]);
		}
		if (i == 0)
			return (-1);
		p = slash;
	} else if (o > 0)
		return (-1);	/* a scheme needs a host */
	for (; p < url + n; p++) {
		if (o + 1 >= len || (unsigned char)*p <= 0x20 ||
		    (unsigned char)*p >= 0x7f)
			return (-1);
		buf[o++] = *p;
	}
	buf[o] = '\0';
	return (o > TABLE_PURGE_MAX ? -1 : 0);
}

/*
 * purge: post each URL, then wait (at most -W) until every live process
 * that caches for the table has applied the last one.
 */
static int
cmd_purge(int argc, char **argv)
{
	struct table	*t;
	struct timespec	 ts = { 0, PURGE_POLL_MS * 1000000L };
	char		 pat[TABLE_PURGE_MAX + 2], who[256], w[32];
	pid_t		 pids[8];
	uint64_t	 seq = 0, start;
	size_t		 o;
	int		 i, n, fl;

	if (argc < 2)
		missing("purge: no URL given", "purge url ...");
	for (i = 1; i < argc; i++)
		if (purge_pattern(argv[i], pat, sizeof(pat), &fl) == -1)
			errx(2, "bad URL '%s': host/path, http://host/path or "
			    "/path, visible ASCII, at most %d bytes, a trailing "
			    "* for a prefix", esc_arg(argv[i]),
			    TABLE_PURGE_MAX);
	t = open_table(TABLE_RDWR);
	for (i = 1; i < argc; i++) {
		(void)purge_pattern(argv[i], pat, sizeof(pat), &fl);
		if (table_purge_post(t, pat, fl, &seq, errbuf,
		    sizeof(errbuf)) == -1) {
			watch_stop();
			errx(1, "table %s: %s", esc_arg(tname),
			    esc_arg(errbuf));
		}
	}
	watch_stop();
	start = table_now_ms();
	while ((n = table_purge_pending(t, seq, pids, 8)) > 0) {
		if (wait_ms != 0 && table_now_ms() - start >= wait_ms) {
			o = 0;
			for (i = 0; i < n && i < 8 && o < sizeof(who); i++)
				o += (size_t)snprintf(who + o, sizeof(who) - o,
				    "%s%d", i ? ", " : "", (int)pids[i]);
			errx(1, "table %s: purge %llu not applied after %s by "
			    "%d process%s (pid %s)", esc_arg(tname),
			    (unsigned long long)seq, dur_fmt(w, sizeof(w),
			    wait_ms), n, n > 1 ? "es" : "", who);
		}
		nanosleep(&ts, NULL);
	}
	close_table();
	return (0);
}

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} cmds[] = {
	{ "add",	cmd_add },
	{ "create",	cmd_create },
	{ "del",	cmd_each },
	{ "destroy",	cmd_destroy },
	{ "drain",	cmd_each },
	{ "dump",	cmd_dump },
	{ "enable",	cmd_each },
	{ "maint",	cmd_each },
	{ "purge",	cmd_purge },
	{ "set",	cmd_set },
	{ "sync",	cmd_sync },
};

/*
 * An option of lb-ctl after the command ("lb-ctl dump -t web"): getopt
 * stopped at the command, so say where options go rather than fail on
 * it as an operand.
 */
static void
options_first(int argc, char **argv)
{
	int	 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-t") != 0 && strcmp(argv[i], "-W") != 0 &&
		    strcmp(argv[i], "-h") != 0 && strcmp(argv[i], "-V") != 0 &&
		    strcmp(argv[i], "--help") != 0)
			continue;
		if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			errx(2, "options come before the command: lb-ctl "
			    "-t %s %s ...", esc_arg(argv[i + 1]), argv[0]);
		errx(2, "options come before the command: lb-ctl %s %s ...",
		    argv[i], argv[0]);
	}
}

int
main(int argc, char *argv[])
{
	size_t	 i;
	int	 ch;
	char	 why[128];

	log_init("lb-ctl", 0);
	atexit(close_table);
	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		usage(0);
	/* "+": options stop at the command, which has its own. */
	while ((ch = getopt(argc, argv, "+hm:Vt:W:")) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case 'm':
			tmode = mode_arg(optarg);
			break;
		case 't':
			if (tname != NULL)
				errx(2, "-t given twice: one table");
			tname = optarg;
			break;
		case 'V':
			printf("lb-ctl %s\n", LB_VERSION);
			return (0);
		case 'W':
			if (dur_range(optarg, 0, DUR_MAX_MS, &wait_ms, why,
			    sizeof(why)) == -1)
				errx(2, "bad -W '%s': %s (0: no end)",
				    esc_arg(optarg), why);
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(2);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		errx(2, "unknown command '%s'", esc_arg(argv[0]));
	options_first(argc, argv);
	if (tname == NULL && (tname = getenv("LB_TABLE")) == NULL)
		errx(2, "no table: give -t TABLE or set LB_TABLE");
	if (table_name_check(tname, errbuf, sizeof(errbuf)) == -1)
		errx(2, "%s", esc_arg(errbuf));
	return (cmds[i].fn(argc, argv));
}
