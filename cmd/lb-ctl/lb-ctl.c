/* lb-ctl: create tables and add, remove, drain and weight their backends. */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blist.h"
#include "log.h"
#include "table.h"


static const char *tname;
static mode_t	 tmode;			/* -m: made with, accepted up to */
static char	 errbuf[512];
static struct table *tbl;		/* the attached table, closed at exit */
static int	 made;			/* this run made tbl, for a change... */
static uint64_t	 made_gen;		/* ...not yet written, at this generation */

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
	    "usage: lb-ctl [-hV] [-m mode] [-t table] create [-m mode] "
	    "[-n slots]\n"
	    "       lb-ctl [-m mode] [-t table] destroy\n"
	    "       lb-ctl [-m mode] [-t table] add addr [name=N] [weight=N]\n"
	    "              [maxconn=N] [state=S] [backup=yes]\n"
	    "       lb-ctl [-m mode] [-t table] del name ...\n"
	    "       lb-ctl [-m mode] [-t table] set name key=value ...\n"
	    "       lb-ctl [-m mode] [-t table] enable | drain | maint name ...\n"
	    "       lb-ctl [-m mode] [-t table] sync [-e] [file]\n"
	    "       lb-ctl [-m mode] [-t table] dump\n");
	exit(status);
}

static struct table *
open_table(int flags)
{
	struct table	*t;

	if ((t = table_open(tname, flags, 0, tmode, errbuf, sizeof(errbuf))) ==
	    NULL)
		errx(1, "table %s: %s", tname, errbuf);
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

	for (tries = 0;; tries++) {
		if ((t = table_open(tname, TABLE_RDWR, 0, tmode, errbuf,
		    sizeof(errbuf))) != NULL)
			break;
		if (errno != ENOENT || tries == 10)
			errx(1, "table %s: %s", tname, errbuf);
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
			errx(1, "table %s: %s", tname, errbuf);
	}
	tbl = t;
	return (t);
}

static void
begin(struct table *t)
{
	if (table_begin(t, errbuf, sizeof(errbuf)) == -1)
		errx(1, "table %s: %s", tname, errbuf);
}

/* -m, before the command or after create: octal, as chmod(1) takes it. */
static mode_t
mode_arg(const char *s)
{
	mode_t	 m;

	if (table_mode_parse(s, &m) == -1)
		errx(2, "bad mode '%s': octal, 1 to 0777", s);
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
				errx(2, "bad slot count '%s': 1 to %u", optarg,
				    TABLE_CAP_MAX);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if ((t = table_open(tname, TABLE_RDWR | TABLE_CREATE | TABLE_EXCL,
	    slots, mode, errbuf, sizeof(errbuf))) == NULL)
		errx(1, "table %s: %s", tname, errbuf);
	table_close(t);
	return (0);
}

static int
cmd_destroy(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		usage(2);
	if (table_destroy(tname, errbuf, sizeof(errbuf)) == -1)
		errx(1, "table %s: %s", tname, errbuf);
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
		    "has %zu backends, more than a table holds (%u)", tname,
		    cap, name, want, TABLE_CAP_MAX);
	if (t == NULL)
		errx(1, "table %s: full (%u slots): cannot add '%s': the list "
		    "has %zu backends; make the table with lb-ctl -t %s "
		    "create -n %zu (or more)", tname, cap, name, want, tname,
		    more);
	/* Room enough, but a slot is reused only once nobody counts it. */
	if (want > 0 ? want <= cap : used < cap)
		errx(1, "table %s: full (%u slots): cannot add '%s': the slots "
		    "of removed backends still count open connections; try "
		    "again when they have closed", tname, cap, name);
	if (cap == TABLE_CAP_MAX)
		errx(1, "table %s: full (%u slots): cannot add '%s'; no table "
		    "holds more", tname, cap, name);
	if (want > 0)
		errx(1, "table %s: full (%u slots): cannot add '%s': the list "
		    "has %zu backends; its slots are fixed when it is made: "
		    "destroy it and make it again with lb-ctl -t %s create -n "
		    "%zu (or more), or sync into a new table", tname, cap, name,
		    want, tname, more);
	errx(1, "table %s: full (%u slots): cannot add '%s'; its slots are "
	    "fixed when it is made: destroy it and make it again with lb-ctl "
	    "-t %s create -n %zu (or more), or add to a new table", tname, cap,
	    name, tname, more);
}

static int
cmd_add(int argc, char **argv)
{
	struct blist_entry e;
	struct table	*t;
	int		 i;

	if (argc < 2)
		usage(2);
	if (blist_words(argv + 1, argc - 1, &e, errbuf, sizeof(errbuf)) == -1)
		errx(2, "%s", errbuf);
	/* Look the name up before the lock: DNS may be slow. */
	if (blist_resolve(&e, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s", errbuf);
	t = open_or_make(1);
	begin(t);
	if (table_find(t, e.ble_name) != -1) {
		table_abort(t);
		errx(1, "table %s: a backend named '%s' exists", tname,
		    e.ble_name);
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
			errx(2, "%s", e);
		}
		if ((idx[i] = table_find(t, names[i])) == -1) {
			table_abort(t);
			errx(1, "table %s: no backend named '%s'", tname,
			    names[i]);
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

	if (argc < 2)
		usage(2);
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

	if (argc < 3)
		usage(2);
	memset(&e, 0, sizeof(e));
	if (blist_name_check(argv[1], errbuf, sizeof(errbuf)) == -1)
		errx(2, "%s", errbuf);
	for (i = 2; i < argc; i++)
		if (blist_kv(&e, argv[i], 1, errbuf, sizeof(errbuf)) == -1)
			errx(2, "%s", errbuf);
	if (e.ble_set & BLIST_ADDR &&
	    blist_resolve(&e, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s", errbuf);
	t = open_table(TABLE_RDWR);
	begin(t);
	if ((idx = table_find(t, argv[1])) == -1) {
		table_abort(t);
		errx(1, "table %s: no backend named '%s'", tname, argv[1]);
	}
	if (e.ble_set & BLIST_NAME && strcmp(e.ble_name, argv[1]) != 0 &&
	    table_find(t, e.ble_name) != -1) {
		table_abort(t);
		errx(1, "table %s: a backend named '%s' exists", tname,
		    e.ble_name);
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
		usage(2);
	if (argc == 1)
		path = argv[0];
	src = strcmp(path, "-") != 0 ? path : "stdin";
	if (strcmp(path, "-") != 0 && (fp = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	if (blist_read(fp, &v, &n, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s: %s", src, errbuf);
	if (fp != stdin)
		fclose(fp);
	if (blist_empty_check(n, empty_ok, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s: %s: refusing to empty table %s (sync -e empties "
		    "it)", src, errbuf, tname);
	for (k = 0; k < n; k++)
		if (blist_resolve(&v[k], errbuf, sizeof(errbuf)) == -1)
			errx(1, "%s: line %d: %s", src, v[k].ble_line, errbuf);
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

	(void)argv;
	if (argc != 1)
		usage(2);
	memset(&s, 0, sizeof(s));
	t = open_table(TABLE_RDONLY);
	if (table_snapshot(t, &s, errbuf, sizeof(errbuf)) == -1)
		errx(1, "table %s: %s", tname, errbuf);
	for (i = 0; i < s.sn_n; i++) {
		if (s.sn_be[i].be_uid == 0)
			continue;
		if (s.sn_be[i].be_flags & TABLE_BE_CORRUPT)
			warnx("table %s: slot %u is damaged: shown in maint",
			    tname, i);
		printf("%s\n", blist_fmt(&s.sn_be[i], line, sizeof(line)));
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
	table_snap_free(&s);
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
	{ "set",	cmd_set },
	{ "sync",	cmd_sync },
};

int
main(int argc, char *argv[])
{
	size_t	 i;
	int	 ch;

	log_init("lb-ctl", 0);
	atexit(close_table);
	/* "+": options stop at the command, which has its own. */
	while ((ch = getopt(argc, argv, "+hm:Vt:")) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case 'm':
			tmode = mode_arg(optarg);
			break;
		case 't':
			tname = optarg;
			break;
		case 'V':
			printf("lb-ctl %s\n", LB_VERSION);
			return (0);
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(2);
	if (tname == NULL && (tname = getenv("LB_TABLE")) == NULL)
		errx(2, "no table: give -t TABLE or set LB_TABLE");
	if (table_name_check(tname, errbuf, sizeof(errbuf)) == -1)
		errx(2, "%s", errbuf);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return (cmds[i].fn(argc, argv));
	errx(2, "unknown command '%s'", argv[0]);
}
