/* balance: pick a backend from a table: rr, lc, p2c, source, maglev. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "balance.h"
#include "dur.h"
#include "log.h"

#define RAMP_MIN	50		/* slow start begins at 5% (per mille) */
#define RAMP_FULL	1000
#define RAMP_EVERY	50		/* ms between weight updates while ramping */

/* One candidate: a backend that may take work, in the balancer's copy. */
struct balance_be {
	uint64_t	 bb_uid;
	uint32_t	 bb_slot;
	uint32_t	 bb_maxconn;
	int64_t		 bb_base;		/* weight * share */
	int64_t		 bb_ew;			/* base * ramp, per mille */
	int64_t		 bb_cur;		/* smooth rr's current weight */
	int64_t		 bb_load;		/* active, read for this pick */
	uint64_t	 bb_upsince;		/* ramping since (ms), 0: not */
	uint64_t	 bb_hsince;		/* the health time it came from */
	uint64_t	 bb_hash;		/* of the name, for maglev */
	uint32_t	 bb_fails;		/* local: failed connects in a row */
	uint64_t	 bb_until;		/* local: skipped until (monotonic ms) */
	uint8_t		 bb_backup;
	struct addr	 bb_addr;
	char		 bb_name[TABLE_NAME_MAX + 1];
	char		 bb_host[TABLE_ADDR_MAX];	/* "host" of "host:port" */
};

struct balance;

/* An algorithm: pick() returns an index into b_be of an eligible one. */
struct balance_ops {
	int		 bo_load;		/* needs live counts */
	int		 bo_key;		/* picks by the client's key */
	void		(*bo_build)(struct balance *);
	int		(*bo_pick)(struct balance *, int grp, uint64_t hash);
};

struct balance {
	struct table	*b_t;
	const struct balance_ops *b_ops;
	uint64_t	 b_slowstart;
	uint64_t	 b_gen;
	int		 b_valid;
	int		 b_why;
	int		 b_warned;
	struct table_snap b_snap;
	struct balance_be *b_be, *b_old;	/* candidates, and the last set */
	uint32_t	 b_n, b_nold, b_cap;
	uint32_t	*b_grp[2];		/* non-backup, backup: indices */
	uint32_t	 b_ng[2];
	uint8_t		*b_ok;			/* eligible for this pick */
	uint32_t	*b_tmp;
	int32_t		*b_maglev;		/* BALANCE_MAGLEV_SIZE entries */
	int		 b_mggrp;		/* the group it was built over */
	uint64_t	 b_ramp_until, b_ramp_last;
	uint64_t	 b_rng;
	uint32_t	 b_next;
	uint32_t	 b_ejfails;		/* balance_eject() */
	uint64_t	 b_ejms;
};

static const char *const algo_names[] = { "rr", "lc", "p2c", "source",
    "maglev" };

int
balance_eject_parse(const char *s, uint32_t *fails, uint64_t *ms,
    char *why, size_t whylen)
{
	const char	*e, *slash;
	char		 n[16];

	if (strcmp(s, "0") == 0) {
		*fails = 0;
		*ms = 0;
		return (0);
	}
	if ((slash = strchr(s, '/')) == NULL ||
	    (size_t)(slash - s) >= sizeof(n))
		goto bad;
	memcpy(n, s, (size_t)(slash - s));
	n[slash - s] = '\0';
	*fails = (uint32_t)strtonum(n, 1, 1000, &e);
	if (e != NULL || dur_parse(slash + 1, ms) == -1 || *ms == 0)
		goto bad;
	return (0);
 bad:
	snprintf(why, whylen, "FAILS (1 to 1000)/TIME, like 3/10s, or 0");
	return (-1);
}

void
balance_queue(struct balance *b, int delta)
{
	table_queue_add(b->b_t, delta);
}

int
balance_algo_parse(const char *s)
{
	int	 i;

	for (i = 0; i < BALANCE_NALGOS; i++)
		if (strcmp(s, algo_names[i]) == 0)
			return (i);
	return (-1);
}

const char *
balance_algo_str(int algo)
{
	if (algo < 0 || algo >= BALANCE_NALGOS)
		return ("?");
	return (algo_names[algo]);
}

static uint64_t
fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return (k);
}

/* FNV-1a, then a finaliser so that close inputs land far apart. */
static uint64_t
hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const uint8_t	*s = p;
	uint64_t	 h = 0xcbf29ce484222325ULL ^ seed;
	size_t		 i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return (fmix64(h));
}

static uint64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static uint64_t
rng_next(struct balance *b)
{
	uint64_t	 x = b->b_rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	b->b_rng = x;
	return (x * 0x2545f4914f6cdd1dULL);
}

/* Is a (load la, weight wa) less loaded than b?  No division. */
static int
lighter(int64_t la, int64_t wa, int64_t lb, int64_t wb)
{
	/* weights are at most 256*100*1000: no overflow below 2^32 conns */
	return ((la + 1) * wb < (lb + 1) * wa);
}

/* Smooth weighted round robin, as nginx does it. */
static int
rr_pick(struct balance *b, int grp, uint64_t hash)
{
	struct balance_be *be, *best = NULL;
	int64_t		 total = 0;
	uint32_t	 k;

	(void)hash;
	for (k = 0; k < b->b_ng[grp]; k++) {
		if (!b->b_ok[b->b_grp[grp][k]])
			continue;
		be = &b->b_be[b->b_grp[grp][k]];
		be->bb_cur += be->bb_ew;
		total += be->bb_ew;
		if (best == NULL || be->bb_cur > best->bb_cur)
			best = be;
	}
	if (best == NULL)
		return (-1);
	best->bb_cur -= total;
	return ((int)(best - b->b_be));
}

/* Weighted least connections; ties go round, from a moving start. */
static int
lc_pick(struct balance *b, int grp, uint64_t hash)
{
	struct balance_be *be, *best = NULL;
	uint32_t	 k, n = b->b_ng[grp], start;

	(void)hash;
	if (n == 0)
		return (-1);
	start = b->b_next++ % n;
	for (k = 0; k < n; k++) {
		uint32_t i = b->b_grp[grp][(start + k) % n];

		if (!b->b_ok[i])
			continue;
		be = &b->b_be[i];
		if (best == NULL || lighter(be->bb_load, be->bb_ew,
		    best->bb_load, best->bb_ew))
			best = be;
	}
	return (best == NULL ? -1 : (int)(best - b->b_be));
}

/* Two random candidates; the less loaded for its weight wins. */
static int
p2c_pick(struct balance *b, int grp, uint64_t hash)
{
	struct balance_be *x, *y;
	uint32_t	 k, n = 0, i, j;

	(void)hash;
	for (k = 0; k < b->b_ng[grp]; k++)
		if (b->b_ok[b->b_grp[grp][k]])
			b->b_tmp[n++] = b->b_grp[grp][k];
	if (n == 0)
		return (-1);
	if (n == 1)
		return ((int)b->b_tmp[0]);
	i = (uint32_t)(rng_next(b) % n);
	j = (uint32_t)(rng_next(b) % (n - 1));
	if (j >= i)
		j++;
	x = &b->b_be[b->b_tmp[i]];
	y = &b->b_be[b->b_tmp[j]];
	if (lighter(y->bb_load, y->bb_ew, x->bb_load, x->bb_ew))
		return ((int)b->b_tmp[j]);
	return ((int)b->b_tmp[i]);
}

/*
 * The hash over the group's weights, all candidates counted so that a
 * full or failed one moves only its own clients: to the next one along.
 */
static int
source_pick(struct balance *b, int grp, uint64_t hash)
{
	uint32_t	 k, n = b->b_ng[grp], at = 0;
	int64_t		 total = 0, x;

	if (n == 0)
		return (-1);
	for (k = 0; k < n; k++)
		total += b->b_be[b->b_grp[grp][k]].bb_base;
	if (total <= 0)
		return (-1);
	x = (int64_t)(hash % (uint64_t)total);
	for (k = 0; k < n; k++) {
		x -= b->b_be[b->b_grp[grp][k]].bb_base;
		if (x < 0) {
			at = k;
			break;
		}
	}
	for (k = 0; k < n; k++) {
		uint32_t i = b->b_grp[grp][(at + k) % n];

		if (b->b_ok[i])
			return ((int)i);
	}
	return (-1);
}

/*
 * Maglev: each backend fills the lookup table along its own permutation
 * (from its name's hash), in turns proportional to its weight, so that
 * one leaving frees only its own entries.
 */
static void
maglev_build(struct balance *b)
{
	const uint64_t	 m = BALANCE_MAGLEV_SIZE;
	uint64_t	*off, *skip, *next;
	int64_t		*credit, wmax = 0;
	uint32_t	 k, n, filled = 0;
	int		 grp;

	grp = b->b_ng[0] > 0 ? 0 : 1;
	b->b_mggrp = grp;
	n = b->b_ng[grp];
	for (k = 0; k < m; k++)
		b->b_maglev[k] = -1;
	if (n == 0)
		return;
	off = calloc(n, sizeof(*off));
	skip = calloc(n, sizeof(*skip));
	next = calloc(n, sizeof(*next));
	credit = calloc(n, sizeof(*credit));
	if (off == NULL || skip == NULL || next == NULL || credit == NULL) {
		/* Without a table, picks fall back to the plain hash. */
		b->b_mggrp = -1;
		goto done;
	}
	for (k = 0; k < n; k++) {
		struct balance_be *be = &b->b_be[b->b_grp[grp][k]];

		off[k] = be->bb_hash % m;
		skip[k] = fmix64(be->bb_hash ^ 0x9e3779b97f4a7c15ULL) %
		    (m - 1) + 1;
		if (be->bb_base > wmax)
			wmax = be->bb_base;
	}
	while (filled < m) {
		for (k = 0; k < n && filled < m; k++) {
			credit[k] += b->b_be[b->b_grp[grp][k]].bb_base;
			while (credit[k] >= wmax && filled < m) {
				uint64_t c;

				credit[k] -= wmax;
				do {
					c = (off[k] + next[k] * skip[k]) % m;
					next[k]++;
				} while (b->b_maglev[c] != -1);
				b->b_maglev[c] = (int32_t)b->b_grp[grp][k];
				filled++;
			}
		}
	}
 done:
	free(off);
	free(skip);
	free(next);
	free(credit);
}

static int
maglev_pick(struct balance *b, int grp, uint64_t hash)
{
	uint64_t	 pos, k;
	int32_t		 i;

	if (grp != b->b_mggrp)
		return (source_pick(b, grp, hash));
	pos = hash % BALANCE_MAGLEV_SIZE;
	for (k = 0; k < BALANCE_MAGLEV_SIZE; k++) {
		i = b->b_maglev[(pos + k) % BALANCE_MAGLEV_SIZE];
		if (i >= 0 && b->b_ok[i])
			return (i);
	}
	return (source_pick(b, grp, hash));
}

static const struct balance_ops balance_ops[BALANCE_NALGOS] = {
	/* in the order of algo_names[] */
	{ 0, 0, NULL,		rr_pick },
	{ 1, 0, NULL,		lc_pick },
	{ 1, 0, NULL,		p2c_pick },
	{ 0, 1, NULL,		source_pick },
	{ 0, 1, maglev_build,	maglev_pick },
};

struct balance *
balance_new(struct table *t, int algo, uint64_t slowstart_ms)
{
	struct balance	*b;

	if (algo < 0 || algo >= BALANCE_NALGOS) {
		errno = EINVAL;
		return (NULL);
	}
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return (NULL);
	b->b_t = t;
	b->b_ops = &balance_ops[algo];
	b->b_slowstart = slowstart_ms;
	b->b_mggrp = -1;
	b->b_rng = fmix64((uint64_t)getpid() ^ (uint64_t)(uintptr_t)b ^
	    table_now_ms()) | 1;
	if (algo == BALANCE_MAGLEV && (b->b_maglev = calloc(
	    BALANCE_MAGLEV_SIZE, sizeof(*b->b_maglev))) == NULL) {
		free(b);
		return (NULL);
	}
	return (b);
}

void
balance_free(struct balance *b)
{
	if (b == NULL)
		return;
	table_snap_free(&b->b_snap);
	free(b->b_be);
	free(b->b_old);
	free(b->b_grp[0]);
	free(b->b_grp[1]);
	free(b->b_ok);
	free(b->b_tmp);
	free(b->b_maglev);
	free(b);
}

/*
 * Effective weights now: slow start scales a ramping backend's share.
 * A health time in the future (the clock was stepped back, or another
 * process wrote it) counts as just now: now - since must never wrap.
 */
static void
weigh(struct balance *b, uint64_t now)
{
	struct balance_be *be;
	uint64_t	 ramp, age, until = 0;
	uint32_t	 i;

	for (i = 0; i < b->b_n; i++) {
		be = &b->b_be[i];
		ramp = RAMP_FULL;
		if (be->bb_upsince > now)
			be->bb_upsince = now;
		age = now - be->bb_upsince;
		if (be->bb_upsince != 0 && age < b->b_slowstart) {
			ramp = age * RAMP_FULL / b->b_slowstart;
			if (ramp < RAMP_MIN)
				ramp = RAMP_MIN;
			if (be->bb_upsince + b->b_slowstart > until)
				until = be->bb_upsince + b->b_slowstart;
		}
		be->bb_ew = be->bb_base * (int64_t)ramp;
	}
	b->b_ramp_until = until;
	b->b_ramp_last = now;
}

static int
grow(struct balance *b, uint32_t n)
{
	struct balance_be *nb, *no;
	uint32_t	*g0, *g1, *tmp;
	uint8_t		*ok;

	if (n <= b->b_cap)
		return (0);
	if ((nb = reallocarray(b->b_be, n, sizeof(*nb))) != NULL)
		b->b_be = nb;
	if ((no = reallocarray(b->b_old, n, sizeof(*no))) != NULL)
		b->b_old = no;
	if ((g0 = reallocarray(b->b_grp[0], n, sizeof(*g0))) != NULL)
		b->b_grp[0] = g0;
	if ((g1 = reallocarray(b->b_grp[1], n, sizeof(*g1))) != NULL)
		b->b_grp[1] = g1;
	if ((tmp = reallocarray(b->b_tmp, n, sizeof(*tmp))) != NULL)
		b->b_tmp = tmp;
	if ((ok = reallocarray(b->b_ok, n, sizeof(*ok))) != NULL)
		b->b_ok = ok;
	if (nb == NULL || no == NULL || g0 == NULL || g1 == NULL ||
	    tmp == NULL || ok == NULL)
		return (-1);
	b->b_cap = n;
	return (0);
}

/* The host of an address as given: "a.b" of "a.b:80", "::1" of "[::1]:80". */
static void
host_of(const char *addr, char *buf, size_t len)
{
	const char	*e;
	size_t		 n;

	buf[0] = '\0';
	if (strncmp(addr, "unix:", 5) == 0)
		return;
	if (addr[0] == '[') {
		if ((e = strchr(addr, ']')) == NULL)
			return;
		addr++;
	} else if ((e = strrchr(addr, ':')) == NULL)
		return;
	n = (size_t)(e - addr);
	if (n >= len)
		return;
	memcpy(buf, addr, n);
	buf[n] = '\0';
}

/* Rebuild the candidates from a new snapshot when the table moved. */
static int
refresh(struct balance *b)
{
	const struct table_backend *tb;
	struct balance_be *be, *swap;
	char		 err[256];
	uint64_t	 g, now;
	uint32_t	 i, n, o;

	g = table_generation(b->b_t);
	if (b->b_valid && g == b->b_gen) {
		if (b->b_ramp_until != 0) {
			now = table_now_ms();
			if (now >= b->b_ramp_last + RAMP_EVERY)
				weigh(b, now);
		}
		return (0);
	}
	if (table_snapshot(b->b_t, &b->b_snap, err, sizeof(err)) == -1) {
		if (!b->b_warned++)
			log_warnx("table %s: %s", table_name(b->b_t), err);
		return (b->b_valid ? 0 : -1);
	}
	b->b_warned = 0;
	if (grow(b, b->b_snap.sn_n ? b->b_snap.sn_n : 1) == -1)
		return (b->b_valid ? 0 : -1);
	/* Keep the last set to carry round robin's state across. */
	swap = b->b_old;
	b->b_old = b->b_be;
	b->b_be = swap;
	b->b_nold = b->b_n;
	n = 0;
	b->b_ng[0] = b->b_ng[1] = 0;
	for (i = 0, o = 0; i < b->b_snap.sn_n; i++) {
		tb = &b->b_snap.sn_be[i];
		if (tb->be_uid == 0 || tb->be_flags & TABLE_BE_CORRUPT ||
		    tb->be_admin != TABLE_ADMIN_ENABLED ||
		    (tb->be_health != TABLE_HEALTH_UP &&
		    tb->be_health != TABLE_HEALTH_UNKNOWN) ||
		    tb->be_weight == 0 || tb->be_share == 0)
			continue;
		be = &b->b_be[n];
		memset(be, 0, sizeof(*be));
		if (table_backend_addr(tb, &be->bb_addr) == -1)
			continue;
		be->bb_uid = tb->be_uid;
		be->bb_slot = i;
		be->bb_maxconn = tb->be_maxconn;
		be->bb_backup = tb->be_backup != 0;
		be->bb_base = (int64_t)tb->be_weight * (tb->be_share > 100 ?
		    100 : tb->be_share);
		if (b->b_slowstart > 0 && tb->be_health == TABLE_HEALTH_UP)
			be->bb_upsince = be->bb_hsince = tb->be_health_since;
		strlcpy(be->bb_name, tb->be_name, sizeof(be->bb_name));
		be->bb_hash = hash_bytes(be->bb_name, strlen(be->bb_name), 0);
		host_of(tb->be_addr, be->bb_host, sizeof(be->bb_host));
		/* Both sets are in slot order: a merge finds the old one. */
		while (o < b->b_nold && b->b_old[o].bb_slot < i)
			o++;
		if (o < b->b_nold && b->b_old[o].bb_uid == be->bb_uid) {
			be->bb_cur = b->b_old[o].bb_cur;
			be->bb_fails = b->b_old[o].bb_fails;
			be->bb_until = b->b_old[o].bb_until;
			/*
			 * A time in the future became the moment we first
			 * saw it (weigh()): another change keeps that moment.
			 */
			if (be->bb_hsince == b->b_old[o].bb_hsince)
				be->bb_upsince = b->b_old[o].bb_upsince;
		}
		b->b_grp[be->bb_backup][b->b_ng[be->bb_backup]++] = n;
		n++;
	}
	b->b_n = n;
	b->b_gen = b->b_snap.sn_gen;
	b->b_valid = 1;
	weigh(b, table_now_ms());
	if (b->b_ops->bo_build != NULL)
		b->b_ops->bo_build(b);
	return (0);
}

static int
tried_has(const struct balance_tried *t, uint64_t uid)
{
	uint32_t	 k;

	for (k = 0; k < t->bt_n && k < BALANCE_TRIED_MAX; k++)
		if (t->bt_uid[k] == uid)
			return (1);
	return (0);
}

static void
tried_add(struct balance_tried *t, uint64_t uid)
{
	if (t->bt_n < BALANCE_TRIED_MAX && !tried_has(t, uid))
		t->bt_uid[t->bt_n++] = uid;
}

/*
 * Mark who may take this connection in b_ok; returns how many per group
 * in ng.  *full is set when one was left out only for its maxconn.
 */
static void
eligible(struct balance *b, const struct balance_tried *ex, uint32_t *ng,
    int *full)
{
	struct balance_be *be;
	uint64_t	 now = 0;
	uint32_t	 i, skipped = 0;
	int		 skip = b->b_ejfails > 0;

 again:
	ng[0] = ng[1] = 0;
	for (i = 0; i < b->b_n; i++) {
		be = &b->b_be[i];
		b->b_ok[i] = 0;
		if (tried_has(ex, be->bb_uid) || be->bb_ew <= 0)
			continue;
		if (skip && be->bb_until != 0) {
			if (now == 0)
				now = mono_ms();
			if (now < be->bb_until) {
				skipped++;
				continue;
			}
		}
		if (b->b_ops->bo_load || be->bb_maxconn > 0)
			be->bb_load = table_active(b->b_t, &b->b_snap,
			    be->bb_slot);
		if (be->bb_maxconn > 0 && be->bb_load >=
		    (int64_t)be->bb_maxconn) {
			*full = 1;
			continue;
		}
		b->b_ok[i] = 1;
		ng[be->bb_backup]++;
	}
	/* Every one left is being skipped: try them anyway. */
	if (skip && skipped > 0 && ng[0] + ng[1] == 0) {
		skip = 0;
		goto again;
	}
}

uint64_t
balance_hash(const void *key, size_t keylen)
{
	return (keylen > 0 ? hash_bytes(key, keylen, 0) : 0);
}

int
balance_pick(struct balance *b, const void *key, size_t keylen,
    struct balance_tried *tried, struct balance_pick *out)
{
	return (balance_pick_hash(b, b->b_ops->bo_key ? balance_hash(key,
	    keylen) : 0, tried, out));
}

int
balance_pick_hash(struct balance *b, uint64_t hash,
    struct balance_tried *tried, struct balance_pick *out)
{
	struct balance_tried ex;
	struct balance_be *be;
	uint32_t	 ng[2], attempt;
	int		 i, grp, full = 0;

	if (tried != NULL)
		ex = *tried;
	else
		ex.bt_n = 0;
	for (attempt = 0; attempt < 4 + BALANCE_TRIED_MAX; attempt++) {
		if (refresh(b) == -1)
			break;
		eligible(b, &ex, ng, &full);
		grp = ng[0] > 0 ? 0 : 1;
		if (ng[grp] == 0)
			break;
		if ((i = b->b_ops->bo_pick(b, grp, hash)) < 0)
			break;
		be = &b->b_be[i];
		if (table_conn_begin(b->b_t, be->bb_slot, be->bb_uid) == -1) {
			/* The slot holds another backend now: look again. */
			tried_add(&ex, be->bb_uid);
			b->b_valid = 0;
			continue;
		}
		/* Other workers and processes count too: check, then keep. */
		if (be->bb_maxconn > 0 && table_active(b->b_t, &b->b_snap,
		    be->bb_slot) > (int64_t)be->bb_maxconn) {
			table_conn_end(b->b_t, be->bb_slot);
			tried_add(&ex, be->bb_uid);
			full = 1;
			continue;
		}
		out->bp_cand = (uint32_t)i;
		out->bp_slot = be->bb_slot;
		out->bp_uid = be->bb_uid;
		out->bp_addr = be->bb_addr;
		memcpy(out->bp_name, be->bb_name, sizeof(out->bp_name));
		memcpy(out->bp_host, be->bb_host, sizeof(out->bp_host));
		if (tried != NULL)
			tried_add(tried, be->bb_uid);
		return (0);
	}
	b->b_why = full ? BALANCE_FULL : BALANCE_NONE;
	return (-1);
}

int
balance_why(const struct balance *b)
{
	return (b->b_why);
}

void
balance_done(struct balance *b, const struct balance_pick *p)
{
	table_conn_end(b->b_t, p->bp_slot);
}

void
balance_eject(struct balance *b, uint32_t fails, uint64_t ms)
{
	b->b_ejfails = fails;
	b->b_ejms = ms;
}

/* The candidate of p in the current set, or NULL. */
static struct balance_be *
cand_of(struct balance *b, const struct balance_pick *p)
{
	uint32_t	 i;

	if (p->bp_cand < b->b_n && b->b_be[p->bp_cand].bb_uid == p->bp_uid)
		return (&b->b_be[p->bp_cand]);
	for (i = 0; i < b->b_n; i++)
		if (b->b_be[i].bb_uid == p->bp_uid)
			return (&b->b_be[i]);
	return (NULL);
}

void
balance_fail(struct balance *b, const struct balance_pick *p)
{
	struct table_counters *c;
	struct balance_be *be;

	if (b->b_ejfails > 0 && (be = cand_of(b, p)) != NULL &&
	    ++be->bb_fails >= b->b_ejfails) {
		if (be->bb_until == 0 || mono_ms() >= be->bb_until)
			log_info("%s: %u connect failures in a row: skipped "
			    "for %llu ms", be->bb_name, be->bb_fails,
			    (unsigned long long)b->b_ejms);
		be->bb_until = mono_ms() + b->b_ejms;
	}
	if ((c = table_counters(b->b_t, p->bp_slot)) == NULL)
		return;
	atomic_fetch_add_explicit(&c->c_fail, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->c_consec_fail, 1, memory_order_relaxed);
}

void
balance_ok(struct balance *b, const struct balance_pick *p)
{
	struct table_counters *c;
	struct balance_be *be;

	if (b->b_ejfails > 0 && (be = cand_of(b, p)) != NULL) {
		be->bb_fails = 0;
		be->bb_until = 0;
	}
	if ((c = table_counters(b->b_t, p->bp_slot)) == NULL)
		return;
	/* A load first: most connects find the run already at zero. */
	if (atomic_load_explicit(&c->c_consec_fail, memory_order_relaxed))
		atomic_store_explicit(&c->c_consec_fail, 0,
		    memory_order_relaxed);
}
