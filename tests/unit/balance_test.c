/* balance_test: the balancing algorithms over a real table. */
#include <sys/mman.h>
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "balance.h"
#include "blist.h"
#include "table.h"
#include "unit.h"

static char	 e[256];
static const char *path;

/* A fresh table holding backends from "ADDR key=value" lines. */
static struct table *
mk(const char *const *lines, int n)
{
	struct blist_entry be;
	struct table	*t;
	char		 buf[256], *words[8], *p;
	int		 i, nw, s;

	unlink(path);
	if ((t = table_open(path, TABLE_RDWR | TABLE_CREATE, 64, 0, e,
	    sizeof(e))) == NULL)
		errx(1, "%s: %s", path, e);
	if (table_register(t, e, sizeof(e)) == -1)
		errx(1, "%s", e);
	table_begin(t, e, sizeof(e));
	for (i = 0; i < n; i++) {
		strlcpy(buf, lines[i], sizeof(buf));
		nw = 0;
		for (p = strtok(buf, " "); p && nw < 8; p = strtok(NULL, " "))
			words[nw++] = p;
		if (blist_words(words, nw, &be, e, sizeof(e)) == -1 ||
		    blist_resolve(&be, e, sizeof(e)) == -1)
			errx(1, "%s: %s", lines[i], e);
		if ((s = table_alloc(t)) == -1)
			errx(1, "full");
		be.ble_set |= BLIST_NAME | BLIST_WEIGHT | BLIST_MAXCONN |
		    BLIST_STATE | BLIST_BACKUP;
		blist_apply(table_slot(t, (uint32_t)s), &be);
	}
	table_commit(t);
	return (t);
}

/* Change one backend: state, health or removal ("del"). */
static void
change(struct table *t, const char *name, const char *what)
{
	struct table_backend *be;
	int		 i;

	table_begin(t, e, sizeof(e));
	if ((i = table_find(t, name)) == -1)
		errx(1, "no %s", name);
	be = table_slot(t, (uint32_t)i);
	if (strcmp(what, "del") == 0)
		table_free(t, (uint32_t)i);
	else if (strcmp(what, "down") == 0)
		be->be_health = TABLE_HEALTH_DOWN;
	else if (strcmp(what, "up") == 0) {
		be->be_health = TABLE_HEALTH_UP;
		be->be_health_since = table_now_ms();
	} else
		be->be_admin = (uint8_t)table_admin_parse(what);
	table_commit(t);
}

/* Pick once and end at once; returns the name's first letter or '-'. */
static char
pick1(struct balance *b, const void *key, size_t keylen)
{
	struct balance_pick p;

	if (balance_pick(b, key, keylen, NULL, &p) == -1)
		return ('-');
	balance_done(b, &p);
	return (p.bp_name[0]);
}

static const char *const three[] = {
	"127.0.0.1:1 name=a weight=3",
	"127.0.0.1:2 name=b",
	"127.0.0.1:3 name=c",
};

static void
t_rr(void)
{
	struct table	*t = mk(three, 3);
	struct balance	*b = balance_new(t, BALANCE_RR, 0);
	char		 seq[11];
	int		 i, n[3] = { 0, 0, 0 };

	for (i = 0; i < 10; i++)
		seq[i] = pick1(b, NULL, 0);
	seq[10] = '\0';
	/* Smooth: a's three turns are spread, never three in a row. */
	CHECK(strcmp(seq, "abacaabaca") == 0);
	for (i = 0; i < 500; i++)
		n[pick1(b, NULL, 0) - 'a']++;
	CHECK(n[0] == 300 && n[1] == 100 && n[2] == 100);
	balance_free(b);
	table_close(t);
}

static void
t_tried(void)
{
	struct table	*t = mk(three, 3);
	struct balance	*b = balance_new(t, BALANCE_RR, 0);
	struct balance_tried tr;
	struct balance_pick p[4];

	memset(&tr, 0, sizeof(tr));
	CHECK(balance_pick(b, NULL, 0, &tr, &p[0]) == 0);
	CHECK(balance_pick(b, NULL, 0, &tr, &p[1]) == 0);
	CHECK(balance_pick(b, NULL, 0, &tr, &p[2]) == 0);
	/* Three different ones, then nothing left to try. */
	CHECK(p[0].bp_uid != p[1].bp_uid && p[1].bp_uid != p[2].bp_uid &&
	    p[0].bp_uid != p[2].bp_uid);
	CHECK(balance_pick(b, NULL, 0, &tr, &p[3]) == -1);
	CHECK(balance_why(b) == BALANCE_NONE);
	balance_done(b, &p[0]);
	balance_done(b, &p[1]);
	balance_done(b, &p[2]);
	balance_free(b);
	table_close(t);
}

static const char *const two[] = {
	"127.0.0.1:1 name=a",
	"127.0.0.1:2 name=b",
};

static void
t_lc(void)
{
	struct table	*t = mk(two, 2);
	struct balance	*b = balance_new(t, BALANCE_LC, 0);
	struct balance_pick p[8];
	int		 i, nb = 0;

	/* a holds five long connections (of another process, say) */
	for (i = 0; i < 5; i++)
		table_conn_begin(t, 0, 1);
	for (i = 0; i < 5; i++) {
		CHECK(balance_pick(b, NULL, 0, NULL, &p[i]) == 0);
		nb += p[i].bp_name[0] == 'b';
	}
	CHECK(nb == 5);
	/* Now even: the next two go one each. */
	CHECK(balance_pick(b, NULL, 0, NULL, &p[5]) == 0);
	CHECK(balance_pick(b, NULL, 0, NULL, &p[6]) == 0);
	CHECK(p[5].bp_name[0] != p[6].bp_name[0]);
	for (i = 0; i < 7; i++)
		balance_done(b, &p[i]);
	for (i = 0; i < 5; i++)
		table_conn_end(t, 0);
	balance_free(b);
	table_close(t);
}

static void
t_p2c(void)
{
	const char *const four[] = { "127.0.0.1:1 name=a",
	    "127.0.0.1:2 name=b", "127.0.0.1:3 name=c",
	    "127.0.0.1:4 name=d" };
	struct table	*t = mk(four, 4);
	struct balance	*b = balance_new(t, BALANCE_P2C, 0);
	int		 i, n[4] = { 0, 0, 0, 0 };

	for (i = 0; i < 50; i++)
		table_conn_begin(t, 0, 1);
	for (i = 0; i < 400; i++)
		n[pick1(b, NULL, 0) - 'a']++;
	/* a is never the lighter of two; the others share the rest. */
	CHECK(n[0] == 0);
	CHECK(n[1] > 80 && n[2] > 80 && n[3] > 80);
	for (i = 0; i < 50; i++)
		table_conn_end(t, 0);
	balance_free(b);
	table_close(t);
}

static void
t_backup(void)
{
	const char *const lines[] = { "127.0.0.1:1 name=a backup=yes",
	    "127.0.0.1:2 name=b", "127.0.0.1:3 name=c" };
	struct table	*t = mk(lines, 3);
	struct balance	*b = balance_new(t, BALANCE_RR, 0);
	int		 i, na = 0;

	for (i = 0; i < 20; i++)
		na += pick1(b, NULL, 0) == 'a';
	CHECK(na == 0);
	change(t, "b", "maint");
	change(t, "c", "down");
	for (i = 0; i < 5; i++)
		CHECK(pick1(b, NULL, 0) == 'a');
	change(t, "c", "up");
	for (i = 0; i < 5; i++)
		CHECK(pick1(b, NULL, 0) == 'c');
	change(t, "c", "drain");
	change(t, "a", "maint");
	CHECK(pick1(b, NULL, 0) == '-');
	CHECK(balance_why(b) == BALANCE_NONE);
	balance_free(b);
	table_close(t);
}

static void
t_maxconn(void)
{
	const char *const lines[] = { "127.0.0.1:1 name=a maxconn=2",
	    "127.0.0.1:2 name=b maxconn=1" };
	struct table	*t = mk(lines, 2);
	struct balance	*b = balance_new(t, BALANCE_RR, 0);
	struct balance_pick p[4];

	CHECK(balance_pick(b, NULL, 0, NULL, &p[0]) == 0);
	CHECK(balance_pick(b, NULL, 0, NULL, &p[1]) == 0);
	CHECK(balance_pick(b, NULL, 0, NULL, &p[2]) == 0);
	CHECK(balance_pick(b, NULL, 0, NULL, &p[3]) == -1);
	CHECK(balance_why(b) == BALANCE_FULL);
	balance_done(b, &p[1]);
	CHECK(balance_pick(b, NULL, 0, NULL, &p[1]) == 0);
	balance_done(b, &p[0]);
	balance_done(b, &p[1]);
	balance_done(b, &p[2]);
	balance_free(b);
	table_close(t);
}

static void
t_source(void)
{
	struct table	*t = mk(three, 3);
	struct balance	*b = balance_new(t, BALANCE_SOURCE, 0);
	uint32_t	 key;
	int		 i, n[3] = { 0, 0, 0 };
	char		 first;

	key = 0x0100007f;
	first = pick1(b, &key, sizeof(key));
	for (i = 0; i < 50; i++)
		CHECK(pick1(b, &key, sizeof(key)) == first);
	for (key = 0; key < 5000; key++)
		n[pick1(b, &key, sizeof(key)) - 'a']++;
	/* weights 3:1:1 over many clients */
	CHECK(n[0] > 2700 && n[0] < 3300 && n[1] > 800 && n[2] > 800);
	balance_free(b);
	table_close(t);
}

#define NKEYS	20000

static void
t_maglev(void)
{
	const char *const ten[] = { "127.0.0.1:1 name=a", "127.0.0.1:2 name=b",
	    "127.0.0.1:3 name=c", "127.0.0.1:4 name=d", "127.0.0.1:5 name=e",
	    "127.0.0.1:6 name=f", "127.0.0.1:7 name=g", "127.0.0.1:8 name=h",
	    "127.0.0.1:9 name=i", "127.0.0.1:10 name=j" };
	struct table	*t = mk(ten, 10);
	struct balance	*b = balance_new(t, BALANCE_MAGLEV, 0);
	static char	 before[NKEYS];
	uint32_t	 key;
	int		 moved = 0, ond = 0, n[10];

	memset(n, 0, sizeof(n));
	for (key = 0; key < NKEYS; key++) {
		before[key] = pick1(b, &key, sizeof(key));
		n[before[key] - 'a']++;
		ond += before[key] == 'd';
	}
	for (key = 0; key < 10; key++)
		CHECK(n[key] > NKEYS / 10 * 8 / 10 &&
		    n[key] < NKEYS / 10 * 12 / 10);
	change(t, "d", "del");
	for (key = 0; key < NKEYS; key++) {
		char now = pick1(b, &key, sizeof(key));

		CHECK(now != 'd');
		moved += now != before[key];
	}
	/* Only d's clients move, and a few more at most: about 1/N. */
	printf("# maglev: %d of %d clients moved, %d were on the one removed\n",
	    moved, NKEYS, ond);
	CHECK(moved >= ond && moved < ond + NKEYS / 100);
	CHECK(moved < NKEYS * 13 / 100);
	balance_free(b);
	table_close(t);
}

static void
t_slowstart(void)
{
	struct table	*t = mk(two, 2);
	struct balance	*b = balance_new(t, BALANCE_RR, 60000);
	int		 i, nb = 0;

	change(t, "a", "up");
	change(t, "b", "up");
	/* both just came up: both ramp alike */
	for (i = 0; i < 100; i++)
		nb += pick1(b, NULL, 0) == 'b';
	CHECK(nb == 50);
	/*
	 * a came up long ago, b just now: b gets about 5%.  "Now" is set
	 * here, so that a slow machine's seconds since change() do not
	 * count into b's ramp.
	 */
	table_begin(t, e, sizeof(e));
	table_slot(t, 0)->be_health_since = table_now_ms() - 3600 * 1000;
	table_slot(t, 1)->be_health_since = table_now_ms();
	table_commit(t);
	nb = 0;
	for (i = 0; i < 1000; i++)
		nb += pick1(b, NULL, 0) == 'b';
	CHECK(nb > 30 && nb < 80);
	balance_free(b);
	table_close(t);
}

static void
t_live(void)
{
	struct table	*t = mk(two, 1);
	struct balance	*b = balance_new(t, BALANCE_RR, 0);
	struct blist_entry be;
	char		*words[] = { "127.0.0.1:2", "name=b" };
	int		 i, nb = 0, s;

	CHECK(pick1(b, NULL, 0) == 'a');
	/* added while running: seen on the next pick */
	blist_words(words, 2, &be, e, sizeof(e));
	blist_resolve(&be, e, sizeof(e));
	table_begin(t, e, sizeof(e));
	s = table_alloc(t);
	blist_apply(table_slot(t, (uint32_t)s), &be);
	table_commit(t);
	for (i = 0; i < 10; i++)
		nb += pick1(b, NULL, 0) == 'b';
	CHECK(nb == 5);
	balance_free(b);
	table_close(t);
}

/* Set the health time of backend name to since (ms after the epoch). */
static void
since(struct table *t, const char *name, uint64_t ms)
{
	int	 i;

	table_begin(t, e, sizeof(e));
	if ((i = table_find(t, name)) == -1)
		errx(1, "no %s", name);
	table_slot(t, (uint32_t)i)->be_health_since = ms;
	table_commit(t);
}

/* A health time in the future or far in the past wraps nothing. */
static void
t_clock(void)
{
	struct table	*t = mk(two, 2);
	struct balance	*b = balance_new(t, BALANCE_RR, 60000);
	uint64_t	 now = table_now_ms();
	int		 i, na;

	change(t, "a", "up");
	change(t, "b", "up");
	since(t, "b", now - 3600 * 1000);
	/* a clock stepped back an hour: a came up "just now", about 5% */
	since(t, "a", now + 3600 * 1000);
	for (i = 0, na = 0; i < 1000; i++)
		na += pick1(b, NULL, 0) == 'a';
	ok(na > 30 && na < 80, "clock: a in the future took %d of 1000", na);
	since(t, "a", UINT64_MAX);
	for (i = 0, na = 0; i < 1000; i++)
		na += pick1(b, NULL, 0) == 'a';
	ok(na > 30 && na < 80, "clock: a at the end of time took %d", na);
	/* far in the past, and at the epoch's first ms: ramped long ago */
	since(t, "a", now - 10ULL * 365 * 86400 * 1000);
	for (i = 0, na = 0; i < 1000; i++)
		na += pick1(b, NULL, 0) == 'a';
	ok(na == 500, "clock: a ten years up took %d of 1000", na);
	since(t, "a", 1);
	for (i = 0, na = 0; i < 1000; i++)
		na += pick1(b, NULL, 0) == 'a';
	ok(na == 500, "clock: a up since 1970 took %d of 1000", na);
	balance_free(b);
	table_close(t);
}

/*
 * Garbage where a process counts its connections: read clamped, so the
 * loads compared stay far from overflow, and a is simply the busiest.
 */
static void
t_garbage(void)
{
	struct table	*t = mk(two, 2);
	struct stat	 st;
	size_t		 cs, rows, rowsz;
	uint8_t		*m;
	int32_t		*row = NULL;
	int		 algo, fd, i, r, nb;

	/* the layout of lb-table(5), for a table of 64 slots */
	cs = (64 + 64 * 384 + 4095) / 4096 * 4096;
	rows = 4096 + 2 * cs + 8192 + 4096;
	rowsz = 256;
	if ((fd = open(path, O_RDWR)) == -1 || fstat(fd, &st) == -1 ||
	    (m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0)) == MAP_FAILED)
		err(1, "%s", path);
	close(fd);
	for (r = 0; r < TABLE_NREG; r++)
		if (*(int32_t *)(m + 128 + 32 * r) == (int32_t)getpid())
			row = (int32_t *)(m + rows + (size_t)r * rowsz);
	if (row == NULL)
		errx(1, "no entry of ours");
	for (algo = BALANCE_LC; algo <= BALANCE_P2C; algo++) {
		struct balance *b = balance_new(t, algo, 0);

		row[0] = INT32_MAX;
		for (i = 0, nb = 0; i < 100; i++)
			nb += pick1(b, NULL, 0) == 'b';
		ok(nb == 100, "garbage: %s sent %d of 100 to b",
		    balance_algo_str(algo), nb);
		/*
		 * Counted as 0 like b: an even split.  p2c draws at random:
		 * over 1000 picks 400 to 600 is 6 standard deviations wide
		 * (40 to 60 of 100 failed one run in thirty).
		 */
		row[0] = INT32_MIN;
		for (i = 0, nb = 0; i < 1000; i++)
			nb += pick1(b, NULL, 0) == 'b';
		ok(nb >= 400 && nb <= 600, "garbage: %s sent %d of 1000 to b, "
		    "a counting below zero", balance_algo_str(algo), nb);
		row[0] = 0;
		balance_free(b);
	}
	munmap(m, (size_t)st.st_size);
	table_close(t);
}

/* Pin to the slot of name: 0 or -1, the pick ended at once. */
static int
pin1(struct balance *b, struct table *t, const char *name, int *why)
{
	struct balance_pick p;
	struct table_snap s;
	int		 i, r;
	uint64_t	 uid;

	memset(&s, 0, sizeof(s));
	if (table_snapshot(t, &s, e, sizeof(e)) == -1)
		errx(1, "%s", e);
	for (i = 0; i < (int)s.sn_n; i++)
		if (s.sn_be[i].be_uid != 0 && strcmp(s.sn_be[i].be_name,
		    name) == 0)
			break;
	uid = i < (int)s.sn_n ? s.sn_be[i].be_uid : 12345;
	table_snap_free(&s);
	if ((r = balance_pick_pinned(b, (uint32_t)i, uid, NULL, &p)) == 0) {
		CHECK(strcmp(p.bp_name, name) == 0);
		balance_done(b, &p);
	}
	*why = balance_why(b);
	return (r);
}

/*
 * A session pinned to a backend stays while it is enabled or draining
 * (and at weight 0), and moves when it is in maint, down, full or gone.
 */
static void
t_pinned(void)
{
	const char *const ab[] = { "127.0.0.1:1 name=a maxconn=1",
	    "127.0.0.1:2 name=b weight=0" };
	struct table	*t = mk(ab, 2);
	struct balance	*b = balance_new(t, BALANCE_RR, 0);
	struct balance_pick hold;
	const struct table_snap *sn;
	int		 why;

	CHECK(pin1(b, t, "a", &why) == 0);
	CHECK(pin1(b, t, "b", &why) == 0);	/* weight 0: pinned still */
	change(t, "a", "drain");
	CHECK(pin1(b, t, "a", &why) == 0);
	/* drain: no new session goes there */
	CHECK(pick1(b, NULL, 0) == '-');
	change(t, "a", "enabled");
	CHECK(balance_pick(b, NULL, 0, NULL, &hold) == 0 &&
	    hold.bp_name[0] == 'a');
	CHECK(pin1(b, t, "a", &why) == -1 && why == BALANCE_FULL);
	balance_done(b, &hold);
	change(t, "a", "maint");
	CHECK(pin1(b, t, "a", &why) == -1 && why == BALANCE_NONE);
	change(t, "a", "enabled");
	change(t, "a", "down");
	CHECK(pin1(b, t, "a", &why) == -1);
	change(t, "a", "up");
	CHECK(pin1(b, t, "a", &why) == 0);
	change(t, "a", "del");
	CHECK(pin1(b, t, "a", &why) == -1);
	CHECK((sn = balance_snapshot(b)) != NULL && sn->sn_count == 1);
	balance_free(b);
	table_close(t);
}

/*
 * The hash algorithms map a key by the backends' names, not their
 * slots: two tables filled in another order agree on every key.
 */
static void
t_order(void)
{
	const char *const fwd[] = { "127.0.0.1:1 name=a", "127.0.0.1:2 name=b",
	    "127.0.0.1:3 name=c weight=2", "127.0.0.1:4 name=d" };
	const char *const rev[] = { "127.0.0.1:4 name=d",
	    "127.0.0.1:3 name=c weight=2", "127.0.0.1:2 name=b",
	    "127.0.0.1:1 name=a" };
	static char	 m[2][2][2000];
	struct table	*t;
	struct balance	*b;
	uint32_t	 key;
	int		 o, algo, diff;

	for (o = 0; o < 2; o++) {
		t = mk(o ? rev : fwd, 4);
		for (algo = 0; algo < 2; algo++) {
			b = balance_new(t, algo ? BALANCE_MAGLEV :
			    BALANCE_SOURCE, 0);
			for (key = 0; key < 2000; key++)
				m[o][algo][key] = pick1(b, &key, sizeof(key));
			balance_free(b);
		}
		table_close(t);
	}
	for (algo = 0; algo < 2; algo++) {
		diff = 0;
		for (key = 0; key < 2000; key++)
			diff += m[0][algo][key] != m[1][algo][key];
		ok(diff == 0, "%s: %d of 2000 keys differ with the slots in "
		    "another order", algo ? "maglev" : "source", diff);
	}
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: balance_test table-path\n");
		return (2);
	}
	path = argv[1];
	CHECK(balance_algo_parse("maglev") == BALANCE_MAGLEV);
	CHECK(balance_algo_parse("foo") == -1);
	t_rr();
	t_tried();
	t_lc();
	t_p2c();
	t_backup();
	t_maxconn();
	t_source();
	t_maglev();
	t_pinned();
	t_order();
	t_slowstart();
	t_clock();
	t_garbage();
	t_live();
	unlink(path);
	return (unit_done("balance_test"));
}
