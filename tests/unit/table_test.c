/* table_test: the table's behaviour under races, crashes and reuse. */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <err.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blist.h"
#include "table.h"
#include "unit.h"

static char	 e[256];

static struct table *
open_rw(const char *path, uint32_t cap)
{
	struct table	*t;

	if ((t = table_open(path, TABLE_RDWR | TABLE_CREATE, cap, 0, e,
	    sizeof(e))) == NULL)
		errx(1, "%s: %s", path, e);
	return (t);
}

static int
add(struct table *t, const char *name, const char *addr)
{
	struct table_backend *be;
	int		 i;

	if ((i = table_alloc(t)) == -1)
		return (-1);
	be = table_slot(t, (uint32_t)i);
	snprintf(be->be_name, sizeof(be->be_name), "%s", name);
	if (table_set_addr(be, addr, e, sizeof(e)) == -1)
		errx(1, "%s", e);
	return (i);
}

/* Add backend "a" in a change of its own: its slot, its uid in *uid. */
static int
add_a(struct table *t, uint64_t *uid)
{
	struct table_snap s;
	int		 i;

	if (table_begin(t, e, sizeof(e)) == -1)
		errx(1, "%s", e);
	i = add(t, "a", "127.0.0.1:1");
	table_commit(t);
	memset(&s, 0, sizeof(s));
	if (table_snapshot(t, &s, e, sizeof(e)) == -1)
		errx(1, "%s", e);
	*uid = s.sn_be[i].be_uid;
	table_snap_free(&s);
	return (i);
}

/* Two processes: read-modify-write one value, and add distinct names. */
static int
t_race(const char *path)
{
	struct table	*t = open_rw(path, 1024);
	struct table_snap s;
	pid_t		 pid[2];
	int		 p, k, st, idx, fails = 0;
	char		 name[32];

	table_begin(t, e, sizeof(e));
	add(t, "counter", "127.0.0.1:1");
	table_commit(t);
	for (p = 0; p < 2; p++) {
		if ((pid[p] = fork()) == 0) {
			struct table *c = open_rw(path, 0);

			for (k = 0; k < 2000; k++) {
				if (table_begin(c, e, sizeof(e)) == -1)
					_exit(1);
				idx = table_find(c, "counter");
				table_slot(c, (uint32_t)idx)->be_maxconn++;
				if (k % 5 == 0) {
					snprintf(name, sizeof(name), "p%d-%d",
					    p, k);
					add(c, name, "127.0.0.1:2");
				}
				table_commit(c);
			}
			table_close(c);
			_exit(0);
		}
	}
	for (p = 0; p < 2; p++)
		if (waitpid(pid[p], &st, 0) == -1 || st != 0)
			fails++;
	memset(&s, 0, sizeof(s));
	if (table_snapshot(t, &s, e, sizeof(e)) == -1)
		errx(1, "%s", e);
	for (k = 0; k < (int)s.sn_n; k++)
		if (s.sn_be[k].be_uid &&
		    strcmp(s.sn_be[k].be_name, "counter") == 0 &&
		    s.sn_be[k].be_maxconn != 4000) {
			printf("counter is %u, not 4000\n",
			    s.sn_be[k].be_maxconn);
			fails++;
		}
	if (s.sn_count != 801) {
		printf("%u backends, not 801\n", s.sn_count);
		fails++;
	}
	printf("race: maxconn 4000 after 2x2000 increments, %u backends\n",
	    s.sn_count);
	table_snap_free(&s);
	table_close(t);
	return (fails != 0);
}

/* A reader during syncs sees list A or list B, never a mix. */
static int
t_sync(const char *path)
{
	struct table	*t = open_rw(path, 256);
	struct table_snap s;
	pid_t		 pid;
	int		 k, i, st, mixed = 0, na = 0, nb = 0, nsnap = 0;
	char		 name[32];

	if ((pid = fork()) == 0) {
		struct table *w = open_rw(path, 0);
		uint32_t j;

		for (k = 0; k < 3000; k++) {
			table_begin(w, e, sizeof(e));
			for (j = 0; j < table_hw(w); j++)
				if (table_slot(w, j)->be_uid)
					table_free(w, j);
			for (i = 0; i < 40; i++) {
				snprintf(name, sizeof(name), "%c%d",
				    k % 2 ? 'b' : 'a', i);
				add(w, name, k % 2 ? "127.0.0.1:2" :
				    "127.0.0.1:1");
			}
			table_commit(w);
		}
		_exit(0);
	}
	memset(&s, 0, sizeof(s));
	for (;;) {
		int done = waitpid(pid, &st, WNOHANG) == pid;

		if (table_snapshot(t, &s, e, sizeof(e)) == -1)
			errx(1, "%s", e);
		nsnap++;
		if (s.sn_count != 0) {
			int a = 0, b = 0;

			for (k = 0; k < (int)s.sn_n; k++) {
				if (!s.sn_be[k].be_uid)
					continue;
				if (s.sn_be[k].be_name[0] == 'a' &&
				    s.sn_be[k].be_port == 1)
					a++;
				else if (s.sn_be[k].be_name[0] == 'b' &&
				    s.sn_be[k].be_port == 2)
					b++;
				else
					mixed++;
			}
			if (a == 40 && b == 0)
				na++;
			else if (b == 40 && a == 0)
				nb++;
			else
				mixed++;
		}
		if (done)
			break;
	}
	printf("sync: %d snapshots, %d of list A, %d of list B, %d mixed\n",
	    nsnap, na, nb, mixed);
	table_snap_free(&s);
	table_close(t);
	return (mixed != 0 || st != 0 || na == 0 || nb == 0);
}

/* A registrant that dies holding connections is taken back. */
static int
t_reclaim(const char *path)
{
	struct table	*t = open_rw(path, 16);
	struct table_snap s;
	uint64_t	 uid;
	pid_t		 pid;
	int		 k, st, fails = 0;
	int64_t		 raw;

	k = add_a(t, &uid);
	memset(&s, 0, sizeof(s));
	if (table_register(t, e, sizeof(e)) == -1)
		errx(1, "%s", e);
	table_conn_begin(t, (uint32_t)k, uid);	/* ours: stays */
	if ((pid = fork()) == 0) {
		struct table *c = open_rw(path, 0);
		int n;

		if (table_register(c, e, sizeof(e)) == -1)
			_exit(1);
		for (n = 0; n < 7; n++)
			table_conn_begin(c, (uint32_t)k, uid);
		_exit(0);	/* dies without giving them back */
	}
	waitpid(pid, &st, 0);
	raw = table_held(t, (uint32_t)k);
	table_snapshot(t, &s, e, sizeof(e));
	printf("reclaim: raw active %lld, seen %lld\n", (long long)raw,
	    (long long)table_active(t, &s, (uint32_t)k));
	if (raw != 8 || table_active(t, &s, (uint32_t)k) != 1)
		fails++;
	if (table_reclaim(t) != 1)
		fails++;
	raw = table_held(t, (uint32_t)k);
	printf("reclaim: after a writer, raw active %lld\n", (long long)raw);
	if (raw != 1)
		fails++;
	table_conn_end(t, (uint32_t)k);
	table_snap_free(&s);
	table_close(t);
	return (fails != 0 || st != 0);
}

/* A deleted backend's slot is not reused while it holds connections. */
static int
t_reuse(const char *path)
{
	struct table	*t = open_rw(path, 2);
	struct table_snap s;
	uint64_t	 uid;
	int		 a, b, fails = 0;

	a = add_a(t, &uid);
	memset(&s, 0, sizeof(s));
	table_register(t, e, sizeof(e));
	table_conn_begin(t, (uint32_t)a, uid);
	table_begin(t, e, sizeof(e));
	table_free(t, (uint32_t)a);
	table_commit(t);
	table_begin(t, e, sizeof(e));
	b = add(t, "b", "127.0.0.1:2");
	if (b == a) {
		printf("reuse: slot %d reused while it held a connection\n", a);
		fails++;
	}
	if (add(t, "c", "127.0.0.1:3") != -1) {
		printf("reuse: a full table took a third backend\n");
		fails++;
	}
	table_commit(t);
	table_conn_end(t, (uint32_t)a);
	table_begin(t, e, sizeof(e));
	b = add(t, "c", "127.0.0.1:3");
	table_commit(t);
	if (b != a) {
		printf("reuse: drained slot %d not reused (%d)\n", a, b);
		fails++;
	}
	if (table_conn_begin(t, (uint32_t)a, uid) != -1) {
		printf("reuse: a stale uid was counted\n");
		fails++;
	}
	printf("reuse: %s\n", fails ? "failed" : "ok");
	table_snap_free(&s);
	table_close(t);
	return (fails != 0);
}

/* Another process scribbles over the high-water marks while we write. */
static int
t_hostile(const char *path)
{
	struct table	*t = open_rw(path, 8);
	pid_t		 pid;
	int		 k, st, fd, p[2];
	char		 name[32], c;

	if (pipe(p) == -1)
		err(1, "pipe");
	if ((pid = fork()) == 0) {
		volatile uint32_t *hw0, *hw1;
		uint8_t *m;

		if ((fd = open(path, O_RDWR)) == -1 ||
		    (m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0)) == MAP_FAILED)
			_exit(1);
		/* the two buffers of an 8-slot table start at 4096, 8192 */
		hw0 = (volatile uint32_t *)(m + 4096);
		hw1 = (volatile uint32_t *)(m + 8192);
		if (write(p[1], "go", 1) != 1)
			_exit(1);
		for (k = 0; ; k++) {		/* until killed */
			*hw0 = k % 2 ? 0x7fffffff : 0;
			*hw1 = k % 3 ? 0xffffffff : 1;
		}
	}
	/* Write only once the scribbler is at work. */
	if (read(p[0], &c, 1) != 1)
		errx(1, "the scribbler did not start");
	for (k = 0; k < 3000; k++) {
		if (table_begin(t, e, sizeof(e)) == -1)
			errx(1, "%s", e);
		snprintf(name, sizeof(name), "b%d", k % 5);
		if (table_find(t, name) == -1)
			add(t, name, "127.0.0.1:1");
		else
			table_free(t, (uint32_t)table_find(t, name));
		table_commit(t);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	table_close(t);
	/* It scribbled all along: it was killed, it did not give up. */
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
		printf("hostile: the scribbler stopped early\n");
		return (1);
	}
	printf("hostile: 3000 changes while another process scribbled\n");
	return (0);
}

/* Stale counts during slot reuse leave no connection counted for ever. */
static int
t_stale(const char *path)
{
	struct table	*t = open_rw(path, 1);
	uint64_t	 uid;
	pid_t		 pid;
	int		 k, st;
	int64_t		 a;

	add_a(t, &uid);
	table_begin(t, e, sizeof(e));
	table_free(t, 0);
	table_commit(t);
	if ((pid = fork()) == 0) {
		struct table *c = open_rw(path, 0);

		if (table_register(c, e, sizeof(e)) == -1)
			_exit(1);
		/* a proxy with an old snapshot, trying the old backend */
		for (k = 0; k < 300000; k++)
			if (table_conn_begin(c, 0, uid) == 0)
				_exit(2);
		/* every try was taken back, before we leave */
		if (table_held(c, 0) != 0)
			_exit(3);
		table_close(c);
		_exit(0);
	}
	for (k = 0; k < 3000; k++) {
		table_begin(t, e, sizeof(e));
		add(t, "b", "127.0.0.1:2");
		table_commit(t);
		table_begin(t, e, sizeof(e));
		table_free(t, 0);
		table_commit(t);
	}
	waitpid(pid, &st, 0);
	a = table_held(t, 0);
	printf("stale: active %lld after 3000 reuses\n", (long long)a);
	table_close(t);
	return (a != 0 || st != 0);
}

/* A dead registrant's entry taken by a live one is not subtracted. */
static int
t_regreuse(const char *path)
{
	struct table	*t = open_rw(path, 4);
	struct table_snap s;
	uint64_t	 uid;
	pid_t		 pid;
	int		 st, p[2];
	char		 c;
	int64_t		 a;

	add_a(t, &uid);
	memset(&s, 0, sizeof(s));
	if ((pid = fork()) == 0) {
		struct table *d = open_rw(path, 0);

		table_register(d, e, sizeof(e));
		table_conn_begin(d, 0, uid);
		_exit(0);		/* dies holding one */
	}
	waitpid(pid, &st, 0);
	table_snapshot(t, &s, e, sizeof(e));	/* sees it dead */
	if (pipe(p) == -1)
		err(1, "pipe");
	if ((pid = fork()) == 0) {
		struct table *q = open_rw(path, 0);

		/* registering reclaims the dead entry, then takes it */
		table_register(q, e, sizeof(e));
		table_conn_begin(q, 0, uid);
		write(p[1], "x", 1);
		for (;;)		/* alive until killed */
			pause();
	}
	close(p[1]);
	read(p[0], &c, 1);
	/* Its registration moved the generation: readers look again. */
	if (table_generation(t) == s.sn_gen)
		printf("regreuse: the generation did not move\n");
	else
		table_snapshot(t, &s, e, sizeof(e));
	a = table_active(t, &s, 0);
	printf("regreuse: the live process's connection counts %lld\n",
	    (long long)a);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	table_snap_free(&s);
	table_close(t);
	return (a != 1);
}

/* A registrant that died but is not reaped yet counts for nothing. */
static int
t_zombie(const char *path)
{
	struct table	*t = open_rw(path, 4);
	struct table_snap s;
	siginfo_t	 si;
	uint64_t	 uid;
	pid_t		 pid;
	int		 p[2], n, fails = 0;
	int64_t		 a;
	char		 c;

	add_a(t, &uid);
	memset(&s, 0, sizeof(s));
	if (pipe(p) == -1)
		err(1, "pipe");
	if ((pid = fork()) == 0) {
		struct table *z = open_rw(path, 0);

		if (table_register(z, e, sizeof(e)) == -1)
			_exit(1);
		for (n = 0; n < 3; n++)
			table_conn_begin(z, 0, uid);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		_exit(0);	/* dies holding them */
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		errx(1, "the registrant did not start");
	/* Wait until it has exited, and leave it unreaped: a zombie. */
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == -1)
		err(1, "waitid");
	table_snapshot(t, &s, e, sizeof(e));
	a = table_active(t, &s, 0);
	printf("zombie: its 3 connections count %lld, %u processes alive\n",
	    (long long)a, s.sn_procs);
	if (a != 0 || s.sn_procs != 0)
		fails++;
	if ((n = table_reclaim(t)) != 1) {
		printf("zombie: %d entries freed, not 1\n", n);
		fails++;
	}
	if (table_held(t, 0) != 0)
		fails++;
	waitpid(pid, NULL, 0);
	table_snap_free(&s);
	table_close(t);
	return (fails != 0);
}

/* Where a table of cap slots keeps its rows of counts (lb-table(5)). */
static size_t
rows_at(uint32_t cap, size_t *rowsz)
{
	size_t	 cs, ctr, ck;

	cs = (64 + (size_t)cap * 384 + 4095) / 4096 * 4096;
	ctr = 4096 + 2 * cs;
	ck = ctr + ((size_t)cap * 128 + 4095) / 4096 * 4096;
	*rowsz = ((size_t)cap * 4 + 63) / 64 * 64;
	return (ck + ((size_t)cap * 64 + 4095) / 4096 * 4096);
}

/* The table file mapped anew, as another process would scribble it. */
static uint8_t *
scribbler(const char *path, size_t *size)
{
	struct stat	 st;
	uint8_t		*m;
	int		 fd;

	if ((fd = open(path, O_RDWR)) == -1 || fstat(fd, &st) == -1)
		err(1, "%s", path);
	m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (m == MAP_FAILED)
		err(1, "mmap");
	close(fd);
	*size = (size_t)st.st_size;
	return (m);
}

/* Our entry in the registrations: the one that holds our pid. */
static int
own_entry(const uint8_t *m)
{
	int	 r;

	for (r = 0; r < TABLE_NREG; r++)
		if (*(const int32_t *)(m + 128 + 32 * r) == (int32_t)getpid())
			return (r);
	return (-1);
}

static int64_t
seen(struct table *t, struct table_snap *s, uint32_t i)
{
	if (table_snapshot(t, s, e, sizeof(e)) == -1)
		errx(1, "%s", e);
	return (table_active(t, s, i));
}

/* A registrant repairs what another process wrote over its own. */
static int
t_repair(const char *path)
{
	struct table	*t = open_rw(path, 16);
	struct table_snap s;
	uint64_t	 uid, g;
	size_t		 size, rows, rowsz;
	uint8_t		*m;
	int32_t		*row;
	int		 k, n, r;

	k = add_a(t, &uid);
	memset(&s, 0, sizeof(s));
	if (table_register(t, e, sizeof(e)) == -1)
		errx(1, "%s", e);
	for (n = 0; n < 20; n++)
		table_conn_begin(t, (uint32_t)k, uid);
	m = scribbler(path, &size);
	rows = rows_at(16, &rowsz);
	if ((r = own_entry(m)) == -1)
		errx(1, "no entry of ours");

	/* 64 bytes over the registrations, ours among them */
	memset(m + 128 + 32 * (r & ~1), 'A', 64);
	ok(seen(t, &s, (uint32_t)k) == 0 && s.sn_procs == 0,
	    "repair: the damaged entry still counts %lld",
	    (long long)table_active(t, &s, (uint32_t)k));
	g = table_generation(t);
	table_reclaim(t);
	ok(table_generation(t) != g, "repair: the generation did not move");
	ok(seen(t, &s, (uint32_t)k) == 20 && s.sn_procs == 1,
	    "repair: after a new registration %lld open, %u processes",
	    (long long)table_active(t, &s, (uint32_t)k), s.sn_procs);
	ok(own_entry(m) != -1, "repair: not registered again");

	/* garbage over our count of the slot: clamped, flagged, repaired */
	r = own_entry(m);
	row = (int32_t *)(m + rows + (size_t)r * rowsz);
	row[k] = 0x7fffffff;
	ok(seen(t, &s, (uint32_t)k) == TABLE_COUNT_MAX &&
	    s.sn_be[k].be_flags & TABLE_BE_CLAMPED && s.sn_clamped == 1,
	    "repair: garbage seen as %lld, flags %#x",
	    (long long)table_active(t, &s, (uint32_t)k), s.sn_be[k].be_flags);
	row[k] = -7;
	ok(seen(t, &s, (uint32_t)k) == 0, "repair: a negative count seen");
	table_reclaim(t);
	ok(seen(t, &s, (uint32_t)k) == 20 && s.sn_clamped == 0,
	    "repair: the row was not written again: %lld",
	    (long long)table_active(t, &s, (uint32_t)k));
	/* a slot nobody uses, written over, is ours to put right too */
	row[k + 1] = 5;
	table_reclaim(t);
	ok(row[k + 1] == 0, "repair: the count of an unused slot stayed");

	/* our entry freed by a writer who took us for dead */
	*(int32_t *)(m + 128 + 32 * r) = 0;
	memset(row, 0, rowsz);
	ok(seen(t, &s, (uint32_t)k) == 0, "repair: a free entry counted");
	table_reclaim(t);
	ok(seen(t, &s, (uint32_t)k) == 20, "repair: not back from a free "
	    "entry: %lld", (long long)table_active(t, &s, (uint32_t)k));

	/* nothing to repair: no lock, no new generation */
	g = table_generation(t);
	table_reclaim(t);
	ok(table_generation(t) == g, "repair: an intact registration moved "
	    "the generation");
	for (n = 0; n < 20; n++)
		table_conn_end(t, (uint32_t)k);
	ok(seen(t, &s, (uint32_t)k) == 0, "repair: %lld left after the end",
	    (long long)table_active(t, &s, (uint32_t)k));
	munmap(m, size);
	table_snap_free(&s);
	table_close(t);
	printf("repair: %s\n", unit_failed ? "failed" : "ok");
	return (unit_failed != 0);
}

struct counter {
	struct table	*c_t;
	uint64_t	 c_uid;
	_Atomic int	*c_stop;
};

static void *
count_loop(void *arg)
{
	struct counter	*c = arg;
	int		 n;

	for (n = 0; n < 5; n++)
		table_conn_begin(c->c_t, 0, c->c_uid);
	while (!atomic_load(c->c_stop))
		if (table_conn_begin(c->c_t, 0, c->c_uid) == 0)
			table_conn_end(c->c_t, 0);
	return (NULL);
}

/* Repairs while two threads count lose no count and add none. */
static int
t_repairrace(const char *path)
{
	struct table	*t = open_rw(path, 4);
	struct counter	 c;
	pthread_t	 th[2];
	_Atomic int	 stop = 0;
	uint64_t	 uid;
	size_t		 size, rows, rowsz;
	uint8_t		*m;
	int32_t		*row;
	int		 k, n, r;
	int64_t		 a;

	k = add_a(t, &uid);
	if (table_register(t, e, sizeof(e)) == -1)
		errx(1, "%s", e);
	m = scribbler(path, &size);
	rows = rows_at(4, &rowsz);
	c.c_t = t;
	c.c_uid = uid;
	c.c_stop = &stop;
	for (n = 0; n < 2; n++)
		if (pthread_create(&th[n], NULL, count_loop, &c) != 0)
			errx(1, "pthread_create");
	for (n = 0; n < 2000; n++) {
		if ((r = own_entry(m)) == -1)
			errx(1, "no entry of ours");
		row = (int32_t *)(m + rows + (size_t)r * rowsz);
		if (n % 100 == 99)
			*(int32_t *)(m + 128 + 32 * r) = 0;	/* freed */
		else
			row[k] = n % 2 ? -n : n * 1000;
		table_reclaim(t);
	}
	/* The last repair ran while they counted: nothing since. */
	atomic_store(&stop, 1);
	for (n = 0; n < 2; n++)
		pthread_join(th[n], NULL);
	a = table_held(t, (uint32_t)k);
	printf("repairrace: %lld open after 2000 repairs, 10 held\n",
	    (long long)a);
	munmap(m, size);
	table_close(t);
	return (a != 10);
}

/*
 * The cache region: counters, the stores of the living only, purges
 * posted, read back, wrapped, damaged, and whom a purge waits for.
 */
static int
t_cache(const char *path)
{
	struct table	*t = open_rw(path, 4), *raw;
	struct table_snap s;
	struct table_cachestat cs;
	char		 pat[TABLE_PURGE_MAX + 1], big[TABLE_PURGE_MAX + 2];
	uint64_t	 seq, k;
	size_t		 rowsz, at;
	pid_t		 pid, pids[4];
	int		 p[2], q[2], fl, fd, st;
	char		 c;

	memset(&s, 0, sizeof(s));
	if (table_register(t, e, sizeof(e)) == -1)
		errx(1, "%s", e);
	table_cache_count(t, TABLE_CACHE_HIT, 5);
	table_cache_count(t, TABLE_CACHE_EVICTED, 2);
	table_cache_count(t, TABLE_CACHE_NCTR, 9);	/* no such counter */
	table_cache_store(t, 2, 500);
	if (pipe(p) == -1 || pipe(q) == -1)
		err(1, "pipe");
	if ((pid = fork()) == 0) {
		struct table *z = open_rw(path, 0);

		if (table_register(z, e, sizeof(e)) == -1)
			_exit(1);
		table_cache_store(z, 3, 1000);
		table_cache_count(z, TABLE_CACHE_MISS, 1);
		table_purge_ack(z, 0);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		if (read(q[0], &c, 1) < 0)	/* until told */
			_exit(1);
		_exit(0);
	}
	if (read(p[0], &c, 1) != 1)
		errx(1, "the child did not start");
	table_snapshot(t, &s, e, sizeof(e));
	table_cache_stat(t, &s, &cs);
	CHECK(cs.cs_ctr[TABLE_CACHE_HIT] == 5 &&
	    cs.cs_ctr[TABLE_CACHE_MISS] == 1 &&
	    cs.cs_ctr[TABLE_CACHE_EVICTED] == 2);
	CHECK(cs.cs_objects == 5 && cs.cs_bytes == 1500);
	/* a purge: the child takes them, we do not yet */
	CHECK(table_purge_seq(t) == 0);
	CHECK(table_purge_post(t, "example.com/img/", TABLE_PURGE_PREFIX,
	    &seq, e, sizeof(e)) == 0 && seq == 1);
	CHECK(table_purge_get(t, 1, pat, &fl) == 0 &&
	    strcmp(pat, "example.com/img/") == 0 && fl == TABLE_PURGE_PREFIX);
	CHECK(table_purge_get(t, 2, pat, &fl) == -1);
	CHECK(table_purge_get(t, 0, pat, &fl) == -1);
	CHECK(table_purge_pending(t, 1, pids, 4) == 1 && pids[0] == pid);
	table_purge_ack(t, 0);
	CHECK(table_purge_pending(t, 1, pids, 4) == 2);
	table_purge_ack(t, 1);
	CHECK(table_purge_pending(t, 1, pids, 4) == 1 && pids[0] == pid);
	/* the child dies: its stores and its wait go with it */
	if (write(q[1], "x", 1) != 1)
		err(1, "pipe");
	waitpid(pid, &st, 0);
	CHECK(table_purge_pending(t, 1, pids, 4) == 0);
	table_snapshot(t, &s, e, sizeof(e));
	table_cache_stat(t, &s, &cs);
	CHECK(cs.cs_objects == 2 && cs.cs_bytes == 500);
	table_cache_store(t, -2, -500);
	table_cache_stat(t, &s, &cs);
	CHECK(cs.cs_objects == 0 && cs.cs_bytes == 0);
	/* what a pattern may be */
	CHECK(table_purge_post(t, "", 0, &seq, e, sizeof(e)) == -1);
	CHECK(table_purge_post(t, "a b", 0, &seq, e, sizeof(e)) == -1);
	CHECK(table_purge_post(t, "a\nb", 0, &seq, e, sizeof(e)) == -1);
	CHECK(table_purge_post(t, "/x", 4, &seq, e, sizeof(e)) == -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(table_purge_post(t, big, 0, &seq, e, sizeof(e)) == -1);
	big[TABLE_PURGE_MAX] = '\0';
	CHECK(table_purge_post(t, big, 0, &seq, e, sizeof(e)) == 0 &&
	    seq == 2 && table_purge_get(t, 2, pat, &fl) == 0 &&
	    strlen(pat) == TABLE_PURGE_MAX && fl == 0);
	/* the ring: the oldest are gone once it went round */
	for (k = 3; k <= TABLE_PURGE_N + 2; k++)
		CHECK(table_purge_post(t, "/p", 0, &seq, e, sizeof(e)) == 0 &&
		    seq == k);
	CHECK(table_purge_get(t, 2, pat, &fl) == -1);
	CHECK(table_purge_get(t, 3, pat, &fl) == 0);
	CHECK(table_purge_get(t, TABLE_PURGE_N + 2, pat, &fl) == 0);
	/* a byte of another process in a pattern: refused, not read */
	at = rows_at(4, &rowsz);
	at += (TABLE_NREG * rowsz + 4095) / 4096 * 4096;
	at += 128 + TABLE_NREG * 32 + ((TABLE_PURGE_N + 2) % TABLE_PURGE_N) *
	    1024 + 16;
	if ((fd = open(path, O_RDWR)) == -1 || pwrite(fd, "\033", 1,
	    (off_t)at) != 1)
		err(1, "%s", path);
	CHECK(table_purge_get(t, TABLE_PURGE_N + 2, pat, &fl) == -1);
	/* a length past the pattern */
	if (pwrite(fd, "\377\377\0\0", 4, (off_t)(at - 4)) != 4)
		err(1, "%s", path);
	CHECK(table_purge_get(t, TABLE_PURGE_N + 2, pat, &fl) == -1);
	close(fd);
	/* read-only: counts nothing */
	if ((raw = table_open(path, TABLE_RDONLY, 0, 0, e, sizeof(e))) == NULL)
		errx(1, "%s", e);
	table_cache_count(raw, TABLE_CACHE_HIT, 1);
	CHECK(table_purge_post(raw, "/x", 0, &seq, e, sizeof(e)) == -1);
	table_close(raw);
	table_cache_stat(t, &s, &cs);
	CHECK(cs.cs_ctr[TABLE_CACHE_HIT] == 5);
	table_snap_free(&s);
	table_close(t);
	return (unit_done("cache"));
}

int
main(int argc, char *argv[])
{
	if (argc != 3)
		errx(2, "usage: table_test test path");
	if (strcmp(argv[1], "race") == 0)
		return (t_race(argv[2]));
	if (strcmp(argv[1], "sync") == 0)
		return (t_sync(argv[2]));
	if (strcmp(argv[1], "reclaim") == 0)
		return (t_reclaim(argv[2]));
	if (strcmp(argv[1], "reuse") == 0)
		return (t_reuse(argv[2]));
	if (strcmp(argv[1], "hostile") == 0)
		return (t_hostile(argv[2]));
	if (strcmp(argv[1], "stale") == 0)
		return (t_stale(argv[2]));
	if (strcmp(argv[1], "regreuse") == 0)
		return (t_regreuse(argv[2]));
	if (strcmp(argv[1], "zombie") == 0)
		return (t_zombie(argv[2]));
	if (strcmp(argv[1], "repair") == 0)
		return (t_repair(argv[2]));
	if (strcmp(argv[1], "repairrace") == 0)
		return (t_repairrace(argv[2]));
	if (strcmp(argv[1], "cache") == 0)
		return (t_cache(argv[2]));
	errx(2, "unknown test %s", argv[1]);
}
