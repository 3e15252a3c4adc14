/* table_fuzz: libFuzzer target: a valid table with bytes patched in. */
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "balance.h"
#include "table.h"

/*
 * The input is a list of patches to a valid table of CAP slots, ended by
 * a byte 0xff (or by the input), then bytes that steer what is done with
 * the table: keys to pick with, and which slots to change.  A patch is an
 * op byte, whose bits 2-4 choose a region (lb-table(5), Layout: header,
 * buffer 0, buffer 1, counters, checks, rows, cache; 7: the whole file)
 * and whose bits 0-1 choose what to write at a 2-byte offset into it:
 *
 *	0  one byte				off:2 value:1
 *	1  bytes from the input			off:2 len:1 bytes[len]
 *	2  a range filled with one value	off:2 len:2 value:1
 *	3  an aligned 32-bit value that matters	off:2 which:1
 *
 * The op byte 0xfe cuts the file to off:2 bytes instead.
 */
#define CAP		8
#define NPATCH_MAX	64
#define NPICK		24
#define HELD_MAX	4

#define FUZZ_ASSERT(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);	\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 path[64];
static uint8_t	*pristine, *work;
static size_t	 size;
static size_t	 region[7][2];		/* offset, length */
static char	 e[256];

/* The bytes the input steers with, once the patches are read. */
struct input {
	const uint8_t	*in_p;
	size_t		 in_n;
};

static unsigned
byte(struct input *in)
{
	if (in->in_n == 0)
		return (0);
	in->in_n--;
	return (*in->in_p++);
}

static unsigned
u16(struct input *in)
{
	unsigned	 lo = byte(in);

	return (lo | byte(in) << 8);
}

static void
cleanup(void)
{
	unlink(path);
}

static void
add(struct table *t, const char *name, const char *spec, uint32_t weight)
{
	struct table_backend *be;
	int		 i;

	if ((i = table_alloc(t)) == -1)
		errx(1, "template: full");
	be = table_slot(t, (uint32_t)i);
	strlcpy(be->be_name, name, sizeof(be->be_name));
	if (table_set_addr(be, spec, e, sizeof(e)) == -1)
		errx(1, "template: %s", e);
	be->be_weight = weight;
	be->be_health = TABLE_HEALTH_UP;
}

/*
 * The table every input starts from, made once: backends of every kind
 * of address, states and limits; a live registrant (this process) that
 * counts some of them, and a dead one whose counts were never taken
 * back; a last check.
 */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct table	*t, *r;
	struct table_snap s;
	uint64_t	 uid;
	size_t		 cs;
	int		 fd, k;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/tmp/table_fuzz.%d", (int)getpid());
	unlink(path);
	atexit(cleanup);
	if ((t = table_open(path, TABLE_RDWR | TABLE_CREATE, CAP, 0, e,
	    sizeof(e))) == NULL)
		errx(1, "template: %s", e);
	table_begin(t, e, sizeof(e));
	add(t, "a", "127.0.0.1:8001", 3);
	add(t, "b", "[::1]:8002", 1);
	add(t, "c", "unix:/tmp/c.sock", 2);
	add(t, "d", "127.0.0.2:8004", 1);
	table_slot(t, 3)->be_backup = 1;
	add(t, "e", "127.0.0.3:8005", 1);
	table_slot(t, 4)->be_maxconn = 2;
	add(t, "f", "127.0.0.4:8006", 1);
	table_slot(t, 5)->be_admin = TABLE_ADMIN_DRAIN;
	table_commit(t);
	table_check_put(t, 0, 12, "ok");
	/* a live registrant holding connections: this process */
	if ((r = table_open(path, TABLE_RDWR, 0, 0, e, sizeof(e))) == NULL ||
	    table_register(r, e, sizeof(e)) == -1)
		errx(1, "template: %s", e);
	memset(&s, 0, sizeof(s));
	table_snapshot(t, &s, e, sizeof(e));
	for (k = 0; k < 5; k++) {
		uid = s.sn_be[k % 3].be_uid;
		table_conn_begin(r, (uint32_t)(k % 3), uid);
	}
	table_snap_free(&s);
	/* a cache: objects stored, purges posted and applied */
	table_cache_store(r, 3, 12345);
	table_cache_count(r, TABLE_CACHE_HIT, 7);
	for (k = 0; k < 3; k++)
		table_purge_post(t, k ? "example.com/a/" : "/x", k & 1 ?
		    TABLE_PURGE_PREFIX : 0, &uid, e, sizeof(e));
	table_purge_ack(r, 2);
	cs = (64 + CAP * 384 + 4095) / 4096 * 4096;
	region[0][0] = 0;
	region[0][1] = 4096;
	region[1][0] = 4096;
	region[2][0] = 4096 + cs;
	region[1][1] = region[2][1] = cs;
	region[3][0] = 4096 + 2 * cs;
	region[3][1] = (CAP * 128 + 4095) / 4096 * 4096;
	region[4][0] = region[3][0] + region[3][1];
	region[4][1] = (CAP * 64 + 4095) / 4096 * 4096;
	region[5][0] = region[4][0] + region[4][1];
	region[5][1] = TABLE_NREG * ((CAP * 4 + 63) / 64 * 64);
	region[6][0] = region[5][0] + (region[5][1] + 4095) / 4096 * 4096;
	region[6][1] = 128 + TABLE_NREG * 32 + TABLE_PURGE_N * 1024;
	size = region[6][0] + (region[6][1] + 4095) / 4096 * 4096;
	if ((pristine = malloc(size)) == NULL || (work = malloc(size)) == NULL)
		err(1, NULL);
	if ((fd = open(path, O_RDONLY)) == -1 ||
	    pread(fd, pristine, size, 0) != (ssize_t)size)
		err(1, "template: %s", path);
	close(fd);
	/* a dead registrant in entry 5: a pid no process can have */
	*(int32_t *)(pristine + 128 + 32 * 5) = 4194305;
	for (k = 0; k < CAP; k++)
		((int32_t *)(pristine + region[5][0] + 5 *
		    ((CAP * 4 + 63) / 64 * 64)))[k] = 7;
	table_close(r);
	table_close(t);
	return (0);
}

/* Apply the patches; returns the size the file is to have. */
static size_t
patch(struct input *in)
{
	static const uint32_t values[] = { 0, 1, 0xffffffff, 0x7fffffff,
	    0x80000000, 1 << 24, (1 << 24) + 1, 0x10000, 4194304, 4194305,
	    TABLE_VERSION, CAP, TABLE_CAP_MAX + 1, 0xfffffff0 };
	size_t		 base, len, off, n, k, cut = size;
	unsigned	 op, rg;
	int		 np;

	memcpy(work, pristine, size);
	for (np = 0; np < NPATCH_MAX && in->in_n > 0; np++) {
		if ((op = byte(in)) == 0xff)
			break;
		if (op == 0xfe) {
			cut = u16(in) % size;
			continue;
		}
		rg = (op >> 2) & 7;
		base = rg < 7 ? region[rg][0] : 0;
		len = rg < 7 ? region[rg][1] : size;
		off = base + u16(in) % len;
		switch (op & 3) {
		case 0:
			work[off] = (uint8_t)byte(in);
			break;
		case 1:
			n = byte(in);
			for (k = 0; k < n && off + k < size; k++)
				work[off + k] = (uint8_t)byte(in);
			break;
		case 2:
			n = u16(in);
			if (n > size - off)
				n = size - off;
			memset(work + off, (int)byte(in), n);
			break;
		case 3:
			off &= ~(size_t)3;
			memcpy(work + off, &values[byte(in) % (sizeof(values) /
			    sizeof(values[0]))], 4);
			break;
		}
	}
	return (cut);
}

static int
eligible(const struct table_backend *be)
{
	return (be->be_uid != 0 && !(be->be_flags & TABLE_BE_CORRUPT) &&
	    be->be_admin == TABLE_ADMIN_ENABLED &&
	    (be->be_health == TABLE_HEALTH_UP ||
	    be->be_health == TABLE_HEALTH_UNKNOWN) &&
	    be->be_weight > 0 && be->be_share > 0);
}

/* Everything a reader takes from a snapshot is in range. */
static void
check_snap(struct table *t, const struct table_snap *s)
{
	const struct table_backend *be;
	struct table_check ck;
	struct addr	 a, lit;
	uint32_t	 i, used = 0, corrupt = 0;
	int64_t		 n;
	int		 port;

	FUZZ_ASSERT(s->sn_n <= table_capacity(t));
	FUZZ_ASSERT(s->sn_procs <= TABLE_NREG);
	for (i = 0; i < s->sn_n; i++) {
		be = &s->sn_be[i];
		if (be->be_uid == 0)
			continue;
		used++;
		FUZZ_ASSERT(memchr(be->be_name, '\0', sizeof(be->be_name)));
		FUZZ_ASSERT(memchr(be->be_addr, '\0', sizeof(be->be_addr)));
		FUZZ_ASSERT(memchr(be->be_reason, '\0',
		    sizeof(be->be_reason)));
		FUZZ_ASSERT(be->be_weight <= TABLE_WEIGHT_MAX);
		FUZZ_ASSERT(be->be_maxconn <= TABLE_MAXCONN_MAX);
		FUZZ_ASSERT(be->be_backup <= 1);
		FUZZ_ASSERT(be->be_admin < TABLE_ADMIN_NSTATES);
		FUZZ_ASSERT(be->be_health < TABLE_HEALTH_NSTATES);
		FUZZ_ASSERT(be->be_share <= 100);
		if (be->be_flags & TABLE_BE_CORRUPT) {
			corrupt++;
			FUZZ_ASSERT(be->be_admin == TABLE_ADMIN_MAINT);
		} else {
			/*
			 * Whole: a proxy can connect, and where people are
			 * shown it connects (a host name: to its port).
			 */
			FUZZ_ASSERT(table_backend_addr(be, &a) == 0);
			FUZZ_ASSERT(addr_literal(be->be_addr, &lit, &port) == 0);
			FUZZ_ASSERT(addr_port(&a) == port);
			if (lit.a_ss.ss_family != AF_UNSPEC)
				FUZZ_ASSERT(lit.a_len == a.a_len &&
				    memcmp(&lit.a_ss, &a.a_ss, a.a_len) == 0);
		}
		n = table_active(t, s, i);
		FUZZ_ASSERT(n >= 0 && n <= (int64_t)TABLE_NREG *
		    TABLE_COUNT_MAX);
		n = table_held(t, i);
		FUZZ_ASSERT(n >= 0 && n <= (int64_t)TABLE_NREG *
		    TABLE_COUNT_MAX);
		if (table_check_get(t, i, &ck) == 0)
			FUZZ_ASSERT(memchr(ck.ck_result, '\0',
			    sizeof(ck.ck_result)));
	}
	FUZZ_ASSERT(used == s->sn_count && corrupt == s->sn_corrupt);
	FUZZ_ASSERT(s->sn_clamped <= s->sn_count);
	FUZZ_ASSERT(table_active(t, s, table_capacity(t)) == 0);
}

static void
check_procs(struct table *t)
{
	struct table_proc p[TABLE_NREG];
	int		 n, i;

	n = table_procs(t, p, TABLE_NREG);
	FUZZ_ASSERT(n >= 0 && n <= TABLE_NREG);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(p[i].tp_pid > 0 && p[i].tp_pid <= 4194304);
		FUZZ_ASSERT(memchr(p[i].tp_prog, '\0', sizeof(p[i].tp_prog)));
	}
}

/*
 * Pick with every algorithm, holding a few picks open: each is of a
 * backend the snapshot shows eligible, at the address it shows.
 */
static void
picks(struct table *t, const struct table_snap *s, struct input *in)
{
	struct balance	*b;
	struct balance_pick p, held[HELD_MAX];
	struct balance_tried tried;
	const struct table_backend *be;
	struct addr	 a;
	uint8_t		 key[4];
	int		 algo, k, nheld;

	for (algo = 0; algo < BALANCE_NALGOS; algo++) {
		if ((b = balance_new(t, algo, byte(in) & 1 ? 60000 : 0)) ==
		    NULL)
			continue;
		nheld = 0;
		memset(&tried, 0, sizeof(tried));
		for (k = 0; k < NPICK; k++) {
			key[0] = (uint8_t)byte(in);
			key[1] = key[2] = key[3] = (uint8_t)k;
			if (balance_pick(b, key, sizeof(key), k % 5 == 4 ?
			    &tried : NULL, &p) == -1) {
				FUZZ_ASSERT(balance_why(b) == BALANCE_NONE ||
				    balance_why(b) == BALANCE_FULL);
				continue;
			}
			FUZZ_ASSERT(p.bp_slot < s->sn_n);
			be = &s->sn_be[p.bp_slot];
			FUZZ_ASSERT(eligible(be) && be->be_uid == p.bp_uid);
			FUZZ_ASSERT(table_backend_addr(be, &a) == 0 &&
			    a.a_len == p.bp_addr.a_len &&
			    memcmp(&a.a_ss, &p.bp_addr.a_ss, a.a_len) == 0);
			FUZZ_ASSERT(strcmp(p.bp_name, be->be_name) == 0);
			if (k % 3 == 0)
				balance_fail(b, &p);
			else
				balance_ok(b, &p);
			if (nheld < HELD_MAX && byte(in) & 1)
				held[nheld++] = p;
			else
				balance_done(b, &p);
		}
		while (nheld > 0)
			balance_done(b, &held[--nheld]);
		balance_free(b);
	}
}

/* What a cache reads of the table: bounded whatever it holds. */
static void
check_cache(struct table *t, const struct table_snap *s)
{
	struct table_cachestat cs;
	char		 pat[TABLE_PURGE_MAX + 1];
	pid_t		 pids[TABLE_NREG];
	uint64_t	 seq, k;
	size_t		 n, i;
	int		 fl;

	table_cache_stat(t, s, &cs);
	FUZZ_ASSERT(cs.cs_objects <= TABLE_NREG * TABLE_CACHE_BYTES_MAX &&
	    cs.cs_bytes <= TABLE_NREG * TABLE_CACHE_BYTES_MAX);
	seq = table_purge_seq(t);
	for (k = seq > TABLE_PURGE_N + 2 ? seq - TABLE_PURGE_N - 2 : 0;
	    k <= seq + 2; k++) {
		memset(pat, 'x', sizeof(pat));
		if (table_purge_get(t, k, pat, &fl) == -1)
			continue;
		n = strlen(pat);
		FUZZ_ASSERT(n > 0 && n <= TABLE_PURGE_MAX);
		for (i = 0; i < n; i++)
			FUZZ_ASSERT(pat[i] > 0x20 && pat[i] < 0x7f);
		FUZZ_ASSERT((fl & ~TABLE_PURGE_PREFIX) == 0);
	}
	n = (size_t)table_purge_pending(t, seq, pids, TABLE_NREG);
	FUZZ_ASSERT(n <= TABLE_NREG);
	for (i = 0; i < n; i++)
		FUZZ_ASSERT(pids[i] > 0 && pids[i] <= 4194304);
}

/* A change as lb-ctl makes them: set, free, add; then a sync. */
static void
writes(struct table *t, struct input *in)
{
	struct table_backend *be;
	struct table_snap s;
	char		 name[16], spec[32];
	uint32_t	 i, hw;
	int		 k, n, slot[3];

	if (table_begin(t, e, sizeof(e)) == -1)
		return;
	hw = table_hw(t);
	FUZZ_ASSERT(hw <= table_capacity(t));
	for (i = 0; i < hw; i++) {
		be = table_slot(t, i);
		FUZZ_ASSERT(be != NULL);
		if (be->be_uid == 0)
			continue;
		switch (byte(in) % 4) {
		case 0:
			be->be_weight = byte(in) % (TABLE_WEIGHT_MAX + 1);
			break;
		case 1:
			be->be_admin = (uint8_t)(byte(in) % TABLE_ADMIN_NSTATES);
			break;
		case 2:
			table_free(t, i);
			break;
		}
	}
	FUZZ_ASSERT(table_slot(t, hw) == NULL);
	if ((k = table_alloc(t)) != -1) {
		FUZZ_ASSERT((uint32_t)k < table_capacity(t));
		be = table_slot(t, (uint32_t)k);
		FUZZ_ASSERT(be != NULL && be->be_uid != 0);
		snprintf(be->be_name, sizeof(be->be_name), "new%u", byte(in));
		if (table_find(t, be->be_name) != k)
			table_free(t, (uint32_t)k);
		else if (table_set_addr(be, "127.0.0.9:9009", e,
		    sizeof(e)) == -1)
			abort();
	}
	FUZZ_ASSERT(table_commit(t) == 0);

	/* sync: every backend out, three in, in one change */
	if (table_begin(t, e, sizeof(e)) == -1)
		return;
	for (i = 0; i < table_hw(t); i++)
		if (table_slot(t, i)->be_uid != 0)
			table_free(t, i);
	for (n = 0; n < 3; n++) {
		slot[n] = table_alloc(t);
		if (slot[n] == -1)
			continue;
		be = table_slot(t, (uint32_t)slot[n]);
		snprintf(name, sizeof(name), "s%d", n);
		snprintf(spec, sizeof(spec), "127.0.1.%d:%d", n + 1, 9100 + n);
		strlcpy(be->be_name, name, sizeof(be->be_name));
		if (table_set_addr(be, spec, e, sizeof(e)) == -1)
			abort();
	}
	FUZZ_ASSERT(table_commit(t) == 0);
	/* What was written whole reads back whole. */
	memset(&s, 0, sizeof(s));
	if (table_snapshot(t, &s, e, sizeof(e)) == 0) {
		check_snap(t, &s);
		for (n = 0; n < 3; n++) {
			if (slot[n] == -1)
				continue;
			FUZZ_ASSERT((uint32_t)slot[n] < s.sn_n);
			be = &s.sn_be[slot[n]];
			FUZZ_ASSERT(be->be_uid != 0 &&
			    !(be->be_flags & TABLE_BE_CORRUPT) &&
			    be->be_port == 9100 + n);
		}
		FUZZ_ASSERT(s.sn_count <= 3);
	}
	table_snap_free(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct input	 in = { data, len };
	struct table	*t, *r;
	struct table_snap s;
	size_t		 cut;
	int		 fd, n;

	cut = patch(&in);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1)
		err(1, "%s", path);
	if (pwrite(fd, work, cut, 0) != (ssize_t)cut)
		err(1, "%s", path);
	close(fd);

	memset(&s, 0, sizeof(s));
	/* A reader first: read-only, as lb-stat and lb-ctl dump attach. */
	if ((r = table_open(path, TABLE_RDONLY, 0, 0, e, sizeof(e))) == NULL)
		return (0);	/* refused: a valid outcome */
	if (table_snapshot(r, &s, e, sizeof(e)) == 0) {
		check_snap(r, &s);
		check_cache(r, &s);
	}
	check_procs(r);
	table_close(r);

	/* Then a proxy: register, pick, count, reclaim, write. */
	if ((t = table_open(path, TABLE_RDWR, 0, 0, e, sizeof(e))) == NULL)
		abort();	/* the reader took it */
	(void)table_register(t, e, sizeof(e));
	if (table_snapshot(t, &s, e, sizeof(e)) == 0) {
		check_snap(t, &s);
		check_cache(t, &s);
		picks(t, &s, &in);
	}
	table_cache_store(t, 1, 100);
	table_purge_ack(t, table_purge_seq(t));
	n = table_reclaim(t);
	FUZZ_ASSERT(n >= -1 && n <= TABLE_NREG);
	check_procs(t);
	table_check_put(t, byte(&in) % CAP, 5, "fuzz");
	writes(t, &in);
	n = table_reclaim(t);
	FUZZ_ASSERT(n >= -1 && n <= TABLE_NREG);
	if (table_snapshot(t, &s, e, sizeof(e)) == 0)
		check_snap(t, &s);
	table_snap_free(&s);
	table_close(t);
	return (0);
}
