/* lb-ctl: create tables and add, remove, drain and weight their backends. */
#include <err.h>
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

/* On every exit, errors included: drop an unfinished change, detach. */
static void
close_table(void)
{
	if (tbl != NULL)
		table_close(tbl);	/* aborts a change left open */
	tbl = NULL;
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
	    "       lb-ctl [-m mode] [-t table] sync [file]\n"
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
	t = open_table(TABLE_RDWR | TABLE_CREATE);
	begin(t);
	if (table_find(t, e.ble_name) != -1) {
		table_abort(t);
		errx(1, "table %s: a backend named '%s' exists", tname,
		    e.ble_name);
	}
	if ((i = table_alloc(t)) == -1) {
		table_abort(t);
		errx(1, "table %s: full (%u slots): cannot add '%s'", tname,
		    table_capacity(t), e.ble_name);
	}
	e.ble_set |= BLIST_NAME | BLIST_WEIGHT | BLIST_MAXCONN | BLIST_STATE |
	    BLIST_BACKUP;
	blist_apply(table_slot(t, (uint32_t)i), &e);
	table_commit(t);
	close_table();
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
	struct table_backend *be;
	FILE		*fp = stdin;
	const char	*path = "-";
	size_t		 n, k;
	uint32_t	 i;
	int		*idx, s;

	if (argc > 2)
		usage(2);
	if (argc == 2)
		path = argv[1];
	if (strcmp(path, "-") != 0 && (fp = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	if (blist_read(fp, &v, &n, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s: %s", strcmp(path, "-") ? path : "stdin", errbuf);
	if (fp != stdin)
		fclose(fp);
	for (k = 0; k < n; k++)
		if (blist_resolve(&v[k], errbuf, sizeof(errbuf)) == -1)
			errx(1, "%s: line %d: %s", strcmp(path, "-") ? path :
			    "stdin", v[k].ble_line, errbuf);
	if ((idx = calloc(n + 1, sizeof(*idx))) == NULL)
		err(1, NULL);
	t = open_table(TABLE_RDWR | TABLE_CREATE);
	begin(t);
	/* Gone first, so that their slots may serve what is new. */
	for (i = 0; i < table_hw(t); i++) {
		be = table_slot(t, i);
		if (be->be_uid == 0)
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(be->be_name, v[k].ble_name) == 0)
				break;
		if (k == n)
			table_free(t, i);
	}
	for (k = 0; k < n; k++) {
		/* The list is the truth: a key it omits takes its default. */
		v[k].ble_set |= BLIST_NAME | BLIST_WEIGHT | BLIST_MAXCONN |
		    BLIST_STATE | BLIST_BACKUP;
		if ((s = table_find(t, v[k].ble_name)) == -1 &&
		    (s = table_alloc(t)) == -1) {
			table_abort(t);
			errx(1, "table %s: full (%u slots): cannot add '%s'",
			    tname, table_capacity(t), v[k].ble_name);
		}
		idx[k] = s;
		blist_apply(table_slot(t, (uint32_t)s), &v[k]);
	}
	table_commit(t);
	close_table();
	free(idx);
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
