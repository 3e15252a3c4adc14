/* cache: lb-http's cache of responses (-M), as RFC 9111 and 5861 say. */
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "lb-http.h"
#include "log.h"
#include "proxyproto.h"
#include "table.h"
#include "tlsctx.h"

/*
 * How it holds together.  Objects live in NSHARD shards, each a hash
 * table and a least-recently-used list under a rwlock of its own, so
 * that workers that hit different objects never meet, and hits on one
 * object share its lock for reading.  A hit takes a reference to the
 * object (an atomic count) and serves its head and body with writev
 * from where they lie; an object is never changed once published, so
 * an object evicted or replaced while it is served is freed when its
 * last reader lets go.  A hit does not move the object in its list: it
 * stamps the time it was used, and eviction gives an object used since
 * it was last placed a second chance instead (LRU as CLOCK approximates
 * it, without a write under the lock on the hot path).  Memory is
 * counted as allocated, until freed: the bound holds for what is held,
 * evicted objects still being sent included.
 *
 * A miss makes a BUSY entry for its key: requests for the same key
 * that come meanwhile wait for it (at most the collapse time), from any
 * worker: the one that finishes the fetch hands each a token through
 * its worker's eventfd.  A response that cannot be stored leaves a
 * MARK for a while, so that the next requests for that key go to the
 * backend at once rather than wait in line.  Revalidations, waited for
 * or in the background (stale-while-revalidate), are fetches of the
 * cache's own (struct cfetch) in the worker that starts them.
 */

#define NSHARD		64
#define MARK_MS		30000		/* a key found not storable, remembered */
#define FAIL_MS		1000		/* after a failed revalidation, no other */
#define VARY_MAX	8		/* fields a Vary may name */
#define VALUE_MAX	4096		/* a request field's value, for Vary */
#define VARIANTS_MAX	16		/* objects of one key */
#define USED_STEP_MS	1000		/* a hit stamps its object this often */
#define FLUSH_MS	100		/* counts go to the tables */
/* Where parsed fields go after n bytes of text: aligned for them. */
#define HDR_AT(n)	(((n) + 15) & ~(size_t)15)

enum { OK_OBJ, OK_BUSY, OK_MARK };	/* kinds */
#define OF_NOCACHE	0x01		/* validate before each use */
#define OF_MUSTREVAL	0x02		/* never served stale */
#define OF_AUTHOK	0x04		/* may answer a request with credentials */
#define OF_SWR		0x08		/* its stale-while-revalidate is set */
#define OF_SIE		0x10		/* its stale-if-error is set */

/* How a fetch ended, for those who waited. */
enum { OUT_STORED, OUT_REFRESHED, OUT_FAILED, OUT_UNCACHEABLE };

/* A body, shared by an object and the one a 304 makes of it. */
struct cbody {
	_Atomic uint32_t b_refs;
	uint32_t	 b_tab;
	size_t		 b_len, b_cap;
	size_t		 b_charge;
	char		*b_data;
};

/* A waiter: which exchange of which worker. */
struct ctoken {
	struct cache_w	*tk_w;
	struct hconn	*tk_h;
	uint64_t	 tk_serial;
	int		 tk_out;
};

struct cobj {
	struct cobj	*o_next;		/* in its bucket */
	struct cobj	*o_lprev, *o_lnext;	/* its shard's list, OBJ and MARK */
	uint64_t	 o_hash;
	_Atomic uint32_t o_refs;		/* the index holds one */
	uint8_t		 o_kind;
	uint8_t		 o_linked;
	uint8_t		 o_purged;		/* a BUSY whose result is not kept */
	uint8_t		 o_flags;		/* OF_* */
	uint32_t	 o_tab;
	size_t		 o_charge;
	char		*o_key;
	size_t		 o_keylen;
	_Atomic uint64_t o_used;		/* monotonic ms, stamped by hits */
	uint64_t	 o_moved;		/* put at the head of its list */
	uint64_t	 o_expire;		/* MARK: monotonic ms */
	_Atomic uint64_t o_failed;		/* a revalidation failed then */
	/* OBJ */
	int		 o_status;
	char		*o_head;		/* line and fields, no Age, no end */
	size_t		 o_headlen, o_headcap;
	size_t		 o_fields, o_fieldslen;	/* where the fields are in it */
	char		*o_head304;
	size_t		 o_head304len;
	struct cbody	*o_body;
	char		*o_vary;		/* name NUL flag value NUL ... */
	size_t		 o_varylen;
	int64_t		 o_resp_ms;		/* wall clock */
	int64_t		 o_age_ms;		/* corrected initial age */
	int64_t		 o_lifetime;		/* seconds */
	int64_t		 o_swr, o_sie;
	int64_t		 o_lastmod;		/* for If-Modified-Since */
	size_t		 o_etag, o_etaglen;	/* in o_head; 0: none */
	/* BUSY */
	struct ctoken	*o_wait;
	size_t		 o_nwait, o_waitcap;
	struct cobj	*o_stale;		/* being revalidated: a reference */
};

struct shard {
	pthread_rwlock_t sh_lock;
	struct cobj	**sh_b;
	struct cobj	*sh_head, *sh_tail;
	_Atomic uint64_t sh_oldest;		/* o_moved of its tail */
} __attribute__((aligned(64)));

/* A worker's side. */
struct cache_w {
	struct hw	*cw_hw;
	struct evloop	*cw_ev;
	int		 cw_efd;
	int		 cw_live;
	pthread_mutex_t	 cw_mu;
	struct ctoken	*cw_q;			/* woken, to resume */
	size_t		 cw_n, cw_cap;
	char		*cw_key;		/* scratch: a key */
	size_t		 cw_keycap;
	char		 cw_val[VALUE_MAX];	/* scratch: a field's value */
	uint32_t	 cw_ctr[LH_TABLES_MAX][TABLE_CACHE_NCTR];
	int		 cw_dirty;
	struct evtimer	 cw_flush;
	struct cfetch	*cw_fetches;
};

static struct {
	int		 on;
	size_t		 max, maxobj;
	uint64_t	 wait_ms;
	_Atomic size_t	 used;
	struct shard	*sh;
	size_t		 nb;			/* buckets a shard, a power of 2 */
	uint64_t	 k0, k1;
	_Atomic uint64_t serial;
	struct cache_w	*w[256];
	/* per table: what is stored (written to it by the main thread) */
	_Atomic int64_t	 tobj[LH_TABLES_MAX], tbytes[LH_TABLES_MAX];
	struct table	*gt[LH_TABLES_MAX];
	int64_t		 gobj[LH_TABLES_MAX], gbytes[LH_TABLES_MAX];
	/* per table: the handle purges were read from, and how far */
	struct table	*pt[LH_TABLES_MAX];
	uint64_t	 applied[LH_TABLES_MAX];
} C;

static void	obj_unref(struct cobj *);
static void	busy_resolve(struct cobj *, int);
static void	fetch_start(struct hconn *, struct cobj *, struct cobj *);
static void	resume(struct hconn *, int);
static void	fetch_free(struct cfetch *);

/* ---- a keyed hash: SipHash-1-3, against chains made on purpose ---- */

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
siphash(uint64_t k0, uint64_t k1, const void *p, size_t n)
{
	const unsigned char *in = p;
	uint64_t	 v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t	 v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t	 v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t	 v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t	 m, b = (uint64_t)n << 56;
	size_t		 i;

	for (; n >= 8; n -= 8, in += 8) {
		memcpy(&m, in, 8);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (i = 0; i < n; i++)
		b |= (uint64_t)in[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return (v0 ^ v1 ^ v2 ^ v3);
}

/*
 * The hash of a key is that of its path, keyed by that of its origin
 * (scheme://host), so that a Location on the same host hashes without
 * the request, which a body may have overwritten by then.
 */
static uint64_t
hash_origin(const char *o, size_t n)
{
	return (siphash(C.k0, C.k1, o, n));
}

static uint64_t
hash_path(uint64_t origin, const char *p, size_t n)
{
	return (siphash(C.k0 ^ origin, C.k1, p, n));
}

/* ---- memory ---- */

static int	evict_one(struct cache_w *);

/* Take n bytes of the bound, evicting what it takes; 0 or -1. */
static int
reserve(struct cache_w *cw, size_t n)
{
	size_t	 u;

	if (n > C.max)
		return (-1);
	for (;;) {
		u = atomic_load_explicit(&C.used, memory_order_relaxed);
		if (u + n <= C.max) {
			if (atomic_compare_exchange_weak(&C.used, &u, u + n))
				return (0);
			continue;
		}
		if (evict_one(cw) == -1)
			return (-1);
	}
}

static void
unreserve(size_t n)
{
	atomic_fetch_sub_explicit(&C.used, n, memory_order_relaxed);
}

static void
charge_tab(uint32_t tab, int64_t objs, int64_t bytes)
{
	if (tab >= LH_TABLES_MAX)
		return;
	if (objs)
		atomic_fetch_add_explicit(&C.tobj[tab], objs,
		    memory_order_relaxed);
	if (bytes)
		atomic_fetch_add_explicit(&C.tbytes[tab], bytes,
		    memory_order_relaxed);
}

static struct cbody *
body_new(struct cache_w *cw, uint32_t tab, size_t cap)
{
	struct cbody	*b;
	size_t		 charge = sizeof(*b) + cap;

	if (reserve(cw, charge) == -1)
		return (NULL);
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (cap > 0 && (b->b_data = malloc(cap)) == NULL)) {
		free(b);
		unreserve(charge);
		return (NULL);
	}
	atomic_init(&b->b_refs, 1);
	b->b_tab = tab;
	b->b_cap = cap;
	b->b_charge = charge;
	charge_tab(tab, 0, (int64_t)charge);
	return (b);
}

/* Room for n more bytes, within maxobj: 0 or -1. */
static int
body_grow(struct cache_w *cw, struct cbody *b, size_t n)
{
	size_t	 cap, more;
	char	*d;

	if (b->b_len + n <= b->b_cap)
		return (0);
	if (b->b_len + n > C.maxobj)
		return (-1);
	cap = b->b_cap ? b->b_cap : 4096;
	while (cap < b->b_len + n)
		cap *= 2;
	if (cap > C.maxobj)
		cap = C.maxobj;
	more = cap - b->b_cap;
	if (reserve(cw, more) == -1)
		return (-1);
	if ((d = realloc(b->b_data, cap)) == NULL) {
		unreserve(more);
		return (-1);
	}
	b->b_data = d;
	b->b_cap = cap;
	b->b_charge += more;
	charge_tab(b->b_tab, 0, (int64_t)more);
	return (0);
}

static void
body_unref(struct cbody *b)
{
	if (b == NULL || atomic_fetch_sub(&b->b_refs, 1) != 1)
		return;
	charge_tab(b->b_tab, 0, -(int64_t)b->b_charge);
	unreserve(b->b_charge);
	free(b->b_data);
	free(b);
}

static void
obj_ref(struct cobj *o)
{
	atomic_fetch_add_explicit(&o->o_refs, 1, memory_order_relaxed);
}

static void
obj_unref(struct cobj *o)
{
	if (o == NULL || atomic_fetch_sub(&o->o_refs, 1) != 1)
		return;
	body_unref(o->o_body);
	if (o->o_stale != NULL)
		obj_unref(o->o_stale);
	free(o->o_wait);
	if (o->o_charge > 0) {
		charge_tab(o->o_tab, 0, -(int64_t)o->o_charge);
		unreserve(o->o_charge);
	}
	free(o);
}

/* ---- the index ---- */

static struct shard *
shard_of(uint64_t hash)
{
	return (&C.sh[hash % NSHARD]);
}

static struct cobj **
bucket_of(struct shard *sh, uint64_t hash)
{
	return (&sh->sh_b[(hash / NSHARD) & (C.nb - 1)]);
}

static void
oldest_set(struct shard *sh)
{
	atomic_store_explicit(&sh->sh_oldest, sh->sh_tail != NULL ?
	    sh->sh_tail->o_moved : UINT64_MAX, memory_order_relaxed);
}

static void
lru_unlink(struct shard *sh, struct cobj *o)
{
	if (o->o_lprev != NULL)
		o->o_lprev->o_lnext = o->o_lnext;
	else
		sh->sh_head = o->o_lnext;
	if (o->o_lnext != NULL)
		o->o_lnext->o_lprev = o->o_lprev;
	else
		sh->sh_tail = o->o_lprev;
	o->o_lprev = o->o_lnext = NULL;
}

static void
lru_head(struct shard *sh, struct cobj *o)
{
	o->o_moved = evloop_clock();
	o->o_lprev = NULL;
	o->o_lnext = sh->sh_head;
	if (sh->sh_head != NULL)
		sh->sh_head->o_lprev = o;
	sh->sh_head = o;
	if (sh->sh_tail == NULL)
		sh->sh_tail = o;
	oldest_set(sh);
}

/* With the shard locked: link o, the index's reference its own. */
static void
link_locked(struct shard *sh, struct cobj *o)
{
	struct cobj	**b = bucket_of(sh, o->o_hash);

	o->o_next = *b;
	*b = o;
	o->o_linked = 1;
	if (o->o_kind != OK_BUSY)
		lru_head(sh, o);
	if (o->o_kind == OK_OBJ)
		charge_tab(o->o_tab, 1, 0);
}

/*
 * With the shard locked: take o out; the caller drops the index's
 * reference once the lock is let go.
 */
static void
unlink_locked(struct shard *sh, struct cobj *o)
{
	struct cobj	**b = bucket_of(sh, o->o_hash);

	for (; *b != NULL; b = &(*b)->o_next)
		if (*b == o) {
			*b = o->o_next;
			break;
		}
	o->o_next = NULL;
	o->o_linked = 0;
	if (o->o_kind != OK_BUSY) {
		lru_unlink(sh, o);
		oldest_set(sh);
	}
	if (o->o_kind == OK_OBJ)
		charge_tab(o->o_tab, -1, 0);
}

static int
key_is(const struct cobj *o, uint64_t hash, const char *key, size_t keylen)
{
	return (o->o_hash == hash && o->o_keylen == keylen &&
	    memcmp(o->o_key, key, keylen) == 0);
}

/*
 * Evict the least recently used object or mark of the shard whose
 * oldest is oldest.  Returns 0, or -1 when nothing is left to evict.
 */
static int
evict_one(struct cache_w *cw)
{
	struct shard	*sh = NULL;
	struct cobj	*o;
	uint64_t	 best = UINT64_MAX, v;
	size_t		 i;
	int		 tries;

	for (i = 0; i < NSHARD; i++) {
		v = atomic_load_explicit(&C.sh[i].sh_oldest,
		    memory_order_relaxed);
		if (v < best) {
			best = v;
			sh = &C.sh[i];
		}
	}
	if (sh == NULL)
		return (-1);
	pthread_rwlock_wrlock(&sh->sh_lock);
	for (tries = 0; (o = sh->sh_tail) != NULL; tries++) {
		/* Used since it was placed: a second chance, once. */
		if (tries < 8 && o->o_kind == OK_OBJ &&
		    atomic_load_explicit(&o->o_used, memory_order_relaxed) >
		    o->o_moved) {
			lru_unlink(sh, o);
			lru_head(sh, o);
			if (sh->sh_tail != o)
				continue;
			/* Alone in its shard: another may hold an older one. */
			pthread_rwlock_unlock(&sh->sh_lock);
			return (0);
		}
		break;
	}
	if (o == NULL) {
		oldest_set(sh);
		pthread_rwlock_unlock(&sh->sh_lock);
		/* Emptied meanwhile: another shard may still have some. */
		return (0);
	}
	unlink_locked(sh, o);
	pthread_rwlock_unlock(&sh->sh_lock);
	if (o->o_kind == OK_OBJ && cw != NULL && o->o_tab < LH_TABLES_MAX) {
		cw->cw_ctr[o->o_tab][TABLE_CACHE_EVICTED]++;
		cw->cw_dirty = 1;
	}
	obj_unref(o);
	return (0);
}

/* ---- what a request is: its key, its Vary values ---- */

/*
 * The key of the request: scheme://host/path, the host in lower case
 * without port or trailing dot (routes ignore them too), the path and
 * query as sent.  Into cw's scratch; returns its length, and the length
 * of its origin part in *olen.
 */
static size_t
key_build(struct cache_w *cw, const struct hconn *h, size_t *olen)
{
	const struct http1_req *rq = &h->h_tx->tx_req;
	const char	*host = rq->rq_host, *q;
	size_t		 hl = 0, n, i;

	if (host != NULL) {
		hl = rq->rq_hostlen;
		if (hl > 0 && host[0] == '[') {
			q = memchr(host, ']', hl);
			hl = q != NULL ? (size_t)(q - host) + 1 : hl;
		} else if ((q = memchr(host, ':', hl)) != NULL)
			hl = (size_t)(q - host);
		if (hl > 1 && host[hl - 1] == '.')
			hl--;
		if (hl > 255)
			hl = 255;
	}
	n = (size_t)snprintf(cw->cw_key, cw->cw_keycap, "%s://",
	    h->h_tls ? "https" : "http");
	for (i = 0; i < hl; i++)
		cw->cw_key[n++] = (char)tolower((unsigned char)host[i]);
	*olen = n;
	memcpy(cw->cw_key + n, rq->rq_path, rq->rq_pathlen);
	n += rq->rq_pathlen;
	cw->cw_key[n] = '\0';
	return (n);
}

/*
 * The value of the request's fields named name (len bytes), their
 * lines joined with ", ", into buf; -1 when there is none, -2 when too
 * long.
 */
static ssize_t
req_value(const struct http1_req *rq, const char *name, size_t len,
    char *buf, size_t cap)
{
	const struct http1_header *hd;
	size_t		 i, n = 0;
	int		 found = 0;

	for (i = 0; i < rq->rq_nhdr; i++) {
		hd = &rq->rq_hdr[i];
		if (hd->hh_namelen != len ||
		    strncasecmp(hd->hh_name, name, len) != 0)
			continue;
		if (found) {
			if (n + 2 > cap)
				return (-2);
			memcpy(buf + n, ", ", 2);
			n += 2;
		}
		if (n + hd->hh_valuelen > cap)
			return (-2);
		memcpy(buf + n, hd->hh_value, hd->hh_valuelen);
		n += hd->hh_valuelen;
		found = 1;
	}
	return (found ? (ssize_t)n : -1);
}

/* Does the request send what the object's Vary named, as its did? */
static int
vary_match(struct cache_w *cw, const struct cobj *o,
    const struct http1_req *rq)
{
	const char	*p = o->o_vary, *end = o->o_vary + o->o_varylen, *v;
	size_t		 nl, vl;
	ssize_t		 n;

	while (p < end) {
		nl = strlen(p);
		v = p + nl + 2;
		vl = strlen(v);
		n = req_value(rq, p, nl, cw->cw_val, sizeof(cw->cw_val));
		if (n == -2)
			return (0);
		if (p[nl + 1] == '0' ? n != -1 : (n == -1 ||
		    (size_t)n != vl || memcmp(cw->cw_val, v, vl) != 0))
			return (0);
		p = v + vl + 1;
	}
	return (1);
}

/* ---- freshness ---- */

static int64_t
age_ms(const struct cobj *o, int64_t now)
{
	int64_t	 a = o->o_age_ms + (now - o->o_resp_ms);

	return (a < 0 ? 0 : a);
}

/* The request's Cache-Control (Pragma: no-cache when it has none). */
static void
req_cc(const struct http1_req *rq, struct hcache_cc *cc)
{
	int	 i, any = 0;

	hcache_cc_init(cc);
	for (i = 0; (i = http1_find(rq, "cache-control", (size_t)i)) != -1;
	    i++) {
		any = 1;
		(void)hcache_cc_parse(rq->rq_hdr[i].hh_value,
		    rq->rq_hdr[i].hh_valuelen, cc);
	}
	if (!any && (i = http1_find(rq, "pragma", 0)) != -1 &&
	    http1_list_has(rq->rq_hdr[i].hh_value, rq->rq_hdr[i].hh_valuelen,
	    "no-cache"))
		cc->cc_flags |= HCC_NO_CACHE;
}

/* What a stored object is to a request. */
enum { USE_FRESH, USE_STALE_OK, USE_SWR, USE_REVALIDATE };

static int
usable(const struct cobj *o, const struct hcache_cc *rcc, int64_t now)
{
	int64_t	 age = age_ms(o, now), life = o->o_lifetime * 1000;
	int64_t	 over = age - life;

	if ((rcc->cc_flags & HCC_NO_CACHE) || (o->o_flags & OF_NOCACHE))
		return (USE_REVALIDATE);
	if (rcc->cc_max_age >= 0 && age > rcc->cc_max_age * 1000)
		return (USE_REVALIDATE);
	if (life > age) {
		if (rcc->cc_min_fresh >= 0 && life - age < rcc->cc_min_fresh *
		    1000)
			return (USE_REVALIDATE);
		return (USE_FRESH);
	}
	if (o->o_flags & OF_MUSTREVAL)
		return (USE_REVALIDATE);
	/* The client accepts it this stale (RFC 9111 5.2.1.2). */
	if ((rcc->cc_flags & HCC_MAX_STALE_ANY) || (rcc->cc_max_stale >= 0 &&
	    over <= rcc->cc_max_stale * 1000))
		return (USE_STALE_OK);
	if ((o->o_flags & OF_SWR) && over < o->o_swr * 1000)
		return (USE_SWR);
	return (USE_REVALIDATE);
}

/* May o be served because revalidating it failed (RFC 5861 4)? */
static int
stale_if_error(const struct cobj *o, int64_t now)
{
	if (o == NULL || (o->o_flags & (OF_MUSTREVAL | OF_NOCACHE)) ||
	    !(o->o_flags & OF_SIE))
		return (0);
	return (age_ms(o, now) - o->o_lifetime * 1000 < o->o_sie * 1000);
}

/* ---- answering from the cache ---- */

/*
 * Does the client's condition hold for o: 1 when a 304 is the answer
 * (If-None-Match matches, or without it If-Modified-Since is not older
 * than o), RFC 9111 4.3.2.
 */
static int
not_modified(const struct cobj *o, const struct http1_req *rq)
{
	int	 i;
	int64_t	 ims;

	if ((i = http1_find(rq, "if-none-match", 0)) != -1) {
		if (o->o_etaglen == 0)
			return (0);
		return (hcache_etag_match(rq->rq_hdr[i].hh_value,
		    rq->rq_hdr[i].hh_valuelen, o->o_head + o->o_etag,
		    o->o_etaglen) == 1);
	}
	if ((i = http1_find(rq, "if-modified-since", 0)) == -1 ||
	    http1_find(rq, "if-modified-since", (size_t)i + 1) != -1)
		return (0);
	if (hcache_date_parse(rq->rq_hdr[i].hh_value,
	    rq->rq_hdr[i].hh_valuelen, (int64_t)(table_now_ms() / 1000),
	    &ims) == -1)
		return (0);
	return (o->o_lastmod <= ims);
}

/*
 * Answer the exchange with o (a reference the exchange now holds): its
 * stored head, an Age, the connection's field, and its body from where
 * it lies; a 304 when the client's condition holds.
 */
static void
serve(struct hconn *h, struct cobj *o, int word)
{
	struct htx	*tx = h->h_tx;
	struct cache_tx	*c = &tx->tx_c;
	struct flow	*dn = &tx->tx_dn;
	int64_t		 age;
	int		 n, nm;

	c->ct_obj = o;
	c->ct_role = CR_SERVE;
	c->ct_word = (uint8_t)word;
	evtimer_cancel(h->h_w->w_ev, &c->ct_timer);
	if (worker_stopping(h->h_w->w_worker))
		tx->tx_close = 1;
	age = age_ms(o, (int64_t)table_now_ms()) / 1000;
	if (age > HCACHE_DELTA_MAX)
		age = HCACHE_DELTA_MAX;
	nm = not_modified(o, &tx->tx_req);
	n = snprintf(c->ct_extra, sizeof(c->ct_extra), "Age: %lld\r\n%s\r\n",
	    (long long)age, tx->tx_close ? "Connection: close\r\n" :
	    !tx->tx_client11 ? "Connection: keep-alive\r\n" : "");
	iovb_init(&dn->fl_out, dn->fl_iov, LH_IOV_MAX);
	if (nm) {
		iovb_add(&dn->fl_out, o->o_head304, o->o_head304len);
		tx->tx_status = 304;
	} else {
		iovb_add(&dn->fl_out, o->o_head, o->o_headlen);
		tx->tx_status = o->o_status;
	}
	iovb_add(&dn->fl_out, c->ct_extra, (size_t)n);
	if (!nm && !tx->tx_head && o->o_body != NULL && o->o_body->b_len > 0)
		iovb_add(&dn->fl_out, o->o_body->b_data, o->o_body->b_len);
	/* The request, bodiless, is done with: the next may follow. */
	h->h_off += tx->tx_headlen;
	dn->fl_mode = FL_NONE;
	dn->fl_done = 1;
	tx->tx_dnstate = DN_BODY;
	tx->tx_bclose = 1;
	tx->tx_ttfb = evloop_now(h->h_w->w_ev);
	tx_run(h);
}

/* ---- waiting and waking ---- */

static void
on_wait(struct evloop *ev, void *arg)
{
	struct hconn	*h = arg;

	(void)ev;
	if (h->h_tx != NULL && h->h_tx->tx_on &&
	    h->h_tx->tx_c.ct_role == CR_WAIT)
		resume(h, -1);
}

/* With the BUSY's shard locked: wait on it. */
static int
wait_on_locked(struct hconn *h, struct cobj *busy)
{
	struct cache_tx	*c = &h->h_tx->tx_c;
	struct ctoken	*nw;
	size_t		 cap;

	if (busy->o_nwait == busy->o_waitcap) {
		cap = busy->o_waitcap ? busy->o_waitcap * 2 : 8;
		if ((nw = reallocarray(busy->o_wait, cap, sizeof(*nw))) == NULL)
			return (-1);
		busy->o_wait = nw;
		busy->o_waitcap = cap;
	}
	c->ct_serial = atomic_fetch_add(&C.serial, 1) + 1;
	busy->o_wait[busy->o_nwait].tk_w = C.w[worker_id(h->h_w->w_worker)];
	busy->o_wait[busy->o_nwait].tk_h = h;
	busy->o_wait[busy->o_nwait].tk_serial = c->ct_serial;
	busy->o_nwait++;
	c->ct_role = CR_WAIT;
	c->ct_reval = busy->o_stale != NULL;
	return (0);
}

/* Wake each waiter in its own worker: the outcome goes with it. */
static void
wake(struct ctoken *tk, size_t n, int out)
{
	struct cache_w	*cw;
	struct ctoken	*nq;
	uint64_t	 one = 1;
	size_t		 i, cap;

	for (i = 0; i < n; i++) {
		cw = tk[i].tk_w;
		pthread_mutex_lock(&cw->cw_mu);
		if (cw->cw_n == cw->cw_cap) {
			cap = cw->cw_cap ? cw->cw_cap * 2 : 16;
			if ((nq = reallocarray(cw->cw_q, cap,
			    sizeof(*nq))) == NULL) {
				/* Its wait's bound wakes it instead. */
				pthread_mutex_unlock(&cw->cw_mu);
				continue;
			}
			cw->cw_q = nq;
			cw->cw_cap = cap;
		}
		cw->cw_q[cw->cw_n] = tk[i];
		cw->cw_q[cw->cw_n++].tk_out = out;
		pthread_mutex_unlock(&cw->cw_mu);
		if (cw->cw_live)
			(void)write(cw->cw_efd, &one, sizeof(one));
	}
}

/* The worker's eventfd: the waiters that others woke. */
static void
on_woken(struct evloop *ev, int fd, int what, void *arg)
{
	struct cache_w	*cw = arg;
	struct ctoken	*q;
	struct hconn	*h;
	uint64_t	 v;
	size_t		 n, i;

	(void)ev;
	(void)what;
	while (read(fd, &v, sizeof(v)) > 0)
		;
	pthread_mutex_lock(&cw->cw_mu);
	q = cw->cw_q;
	n = cw->cw_n;
	cw->cw_q = NULL;
	cw->cw_n = cw->cw_cap = 0;
	pthread_mutex_unlock(&cw->cw_mu);
	for (i = 0; i < n; i++) {
		/* A waiter gone since (it timed out) is not this one. */
		h = q[i].tk_h;
		if (h->h_state == HC_TX && h->h_tx != NULL &&
		    h->h_tx->tx_on && h->h_tx->tx_c.ct_role == CR_WAIT &&
		    h->h_tx->tx_c.ct_serial == q[i].tk_serial)
			resume(h, q[i].tk_out);
	}
	free(q);
}

/*
 * Take the BUSY out of the index, and wake those who waited on it with
 * out.  The index's reference is dropped.
 */
static void
busy_resolve(struct cobj *busy, int out)
{
	struct shard	*sh = shard_of(busy->o_hash);
	struct ctoken	*tk;
	size_t		 n;

	pthread_rwlock_wrlock(&sh->sh_lock);
	if (busy->o_linked)
		unlink_locked(sh, busy);
	tk = busy->o_wait;
	n = busy->o_nwait;
	busy->o_wait = NULL;
	busy->o_nwait = busy->o_waitcap = 0;
	pthread_rwlock_unlock(&sh->sh_lock);
	wake(tk, n, out);
	free(tk);
	obj_unref(busy);
}

/* ---- counting ---- */

static void
on_flush(struct evloop *ev, void *arg)
{
	struct cache_w	*cw = arg;
	struct hw	*w = cw->cw_hw;
	size_t		 i, k;
	int		 left = 0;

	(void)ev;
	cw->cw_dirty = 0;
	for (i = 0; i < LH_TABLES_MAX; i++)
		for (k = 0; k < TABLE_CACHE_NCTR; k++) {
			if (cw->cw_ctr[i][k] == 0)
				continue;
			/* A table this worker does not follow yet: later. */
			if (i >= w->w_ntab) {
				left = 1;
				continue;
			}
			table_cache_count(w->w_tab[i]->wt_t, (int)k,
			    cw->cw_ctr[i][k]);
			cw->cw_ctr[i][k] = 0;
		}
	if (left)
		cw->cw_dirty = 1;
}

static void
count_word(struct hconn *h)
{
	struct cache_w	*cw = C.w[worker_id(h->h_w->w_worker)];
	struct cache_tx	*c = &h->h_tx->tx_c;
	static const int map[] = { -1, TABLE_CACHE_HIT, TABLE_CACHE_MISS,
	    TABLE_CACHE_STALE, TABLE_CACHE_REVALIDATED, TABLE_CACHE_BYPASS };

	if (c->ct_word == CW_NONE || c->ct_tab >= LH_TABLES_MAX)
		return;
	cw->cw_ctr[c->ct_tab][map[c->ct_word]]++;
	cw->cw_dirty = 1;
}

/* ---- making objects ---- */

/* What a response head says of caching it. */
struct rinfo {
	struct hcache_cc ri_cc;
	int64_t		 ri_date, ri_expires, ri_age, ri_lastmod;
	int		 ri_hasdate, ri_cookie, ri_varystar, ri_nvary;
	const char	*ri_vary[VARY_MAX];
	size_t		 ri_varylen[VARY_MAX];
	int		 ri_etag;		/* index of a valid ETag, or -1 */
};

static void
rinfo_read(const struct http1_resp *rs, int64_t now, struct rinfo *ri)
{
	const struct http1_header *hd;
	const char	*p, *end, *el;
	size_t		 i, ellen;
	int64_t		 t;
	int		 nexp = 0, ndate = 0;

	memset(ri, 0, sizeof(*ri));
	hcache_cc_init(&ri->ri_cc);
	ri->ri_expires = -2;
	ri->ri_age = -1;
	ri->ri_lastmod = -1;
	ri->ri_etag = -1;
	for (i = 0; i < rs->rs_nhdr; i++) {
		hd = &rs->rs_hdr[i];
		if (http1_is(hd, "cache-control"))
			(void)hcache_cc_parse(hd->hh_value, hd->hh_valuelen,
			    &ri->ri_cc);
		else if (http1_is(hd, "expires")) {
			/* Two of them: stale (RFC 9111 4.2.1). */
			if (nexp++ > 0 || hcache_date_parse(hd->hh_value,
			    hd->hh_valuelen, now / 1000, &t) == -1)
				ri->ri_expires = -1;
			else
				ri->ri_expires = t;
		} else if (http1_is(hd, "date")) {
			if (ndate++ == 0 && hcache_date_parse(hd->hh_value,
			    hd->hh_valuelen, now / 1000, &t) == 0) {
				ri->ri_date = t;
				ri->ri_hasdate = 1;
			}
		} else if (http1_is(hd, "age")) {
			if (ri->ri_age == -1 && hcache_delta(hd->hh_value,
			    hd->hh_valuelen, &t) == 0)
				ri->ri_age = t;
		} else if (http1_is(hd, "last-modified")) {
			if (hcache_date_parse(hd->hh_value, hd->hh_valuelen,
			    now / 1000, &t) == 0)
				ri->ri_lastmod = t;
		} else if (http1_is(hd, "etag")) {
			if (ri->ri_etag == -1 && hcache_etag_valid(hd->hh_value,
			    hd->hh_valuelen))
				ri->ri_etag = (int)i;
		} else if (http1_is(hd, "set-cookie"))
			ri->ri_cookie = 1;
		else if (http1_is(hd, "vary")) {
			p = hd->hh_value;
			end = p + hd->hh_valuelen;
			while (hcache_list_next(&p, end, &el, &ellen) == 1) {
				if (ellen == 1 && el[0] == '*')
					ri->ri_varystar = 1;
				else if (ri->ri_nvary == VARY_MAX)
					ri->ri_varystar = 1;	/* too many */
				else {
					ri->ri_vary[ri->ri_nvary] = el;
					ri->ri_varylen[ri->ri_nvary++] = ellen;
				}
			}
		}
	}
	if (!ri->ri_hasdate)
		ri->ri_date = now / 1000;
}

/* The statuses a cache may store without knowing more (RFC 9110 15.1). */
static int
understood(int status)
{
	switch (status) {
	case 200: case 203: case 204: case 300: case 301: case 302:
	case 303: case 307: case 308: case 404: case 405: case 410:
	case 414: case 501:
		return (1);
	}
	return (0);
}

/* Why a response is not stored; 0: it is. */
static int
not_storable(int status, const struct rinfo *ri, int auth, int reqnostore)
{
	unsigned	 f = ri->ri_cc.cc_flags;
	int64_t		 life;

	if (status < 200 || status == 206 || status == 304)
		return (1);
	if ((f & HCC_MUST_UNDERSTAND) && !understood(status))
		return (1);
	if ((f & (HCC_NO_STORE | HCC_PRIVATE)) || reqnostore)
		return (1);
	/* RFC 9111 3.5: shared only when the response says so. */
	if (auth && !(f & (HCC_PUBLIC | HCC_MUST_REVALIDATE)) &&
	    ri->ri_cc.cc_s_maxage < 0)
		return (1);
	/* Per user: Varnish and nginx keep none either. */
	if (ri->ri_cookie || ri->ri_varystar)
		return (1);
	/*
	 * No heuristics: a lifetime the response gives, or no-cache, which
	 * asks for it to be validated each time: then a validator.
	 */
	life = hcache_lifetime(&ri->ri_cc, ri->ri_expires, ri->ri_date);
	if (life < 0 && !(f & HCC_NO_CACHE))
		return (1);
	if ((life <= 0 || (f & HCC_NO_CACHE)) && ri->ri_etag == -1 &&
	    ri->ri_lastmod < 0)
		return (1);
	return (0);
}

static int
field_kept(const struct http1_header *hdr, size_t n,
    const struct http1_header *hd)
{
	if (http1_hop(hdr, n, hd) || http1_is(hd, "age") ||
	    http1_is(hd, "content-length") || http1_is(hd, "set-cookie") ||
	    edited(1, hd))
		return (0);
	return (1);
}

/* The fields a 304 of ours carries (RFC 9110 15.4.5). */
static int
field_304(const struct http1_header *hd)
{
	return (http1_is(hd, "cache-control") ||
	    http1_is(hd, "content-location") || http1_is(hd, "date") ||
	    http1_is(hd, "etag") || http1_is(hd, "expires") ||
	    http1_is(hd, "last-modified") || http1_is(hd, "vary"));
}

/*
 * An object, not yet linked, from the response head rs to the request
 * rq: its head as it will be served (its Content-Length written when
 * its body is whole), the values of what its Vary names, its
 * freshness.  NULL when it is not to be stored (or no memory).
 */
static struct cobj *
obj_make(struct cache_w *cw, const char *key, size_t keylen, uint64_t hash,
    size_t tab, const struct http1_req *rq, const struct http1_resp *rs,
    int64_t req_ms, int64_t resp_ms, int auth, int nostore)
{
	struct rinfo	 ri;
	struct cobj	*o;
	const struct http1_header *hd;
	char		 date[HCACHE_DATE_LEN], *p;
	size_t		 i, fl = 0, f304 = 0, vl = 0, sz, n;
	ssize_t		 v;
	int		 k;

	rinfo_read(rs, resp_ms, &ri);
	if (not_storable(rs->rs_status, &ri, auth, nostore))
		return (NULL);
	for (i = 0; i < rs->rs_nhdr; i++) {
		hd = &rs->rs_hdr[i];
		if (!field_kept(rs->rs_hdr, rs->rs_nhdr, hd))
			continue;
		fl += hd->hh_linelen;
		if (field_304(hd))
			f304 += hd->hh_linelen;
	}
	for (i = 0; i < cf.nedits; i++)
		if (cf.edits[i].ed_resp && cf.edits[i].ed_op != EDIT_DEL)
			fl += cf.edits[i].ed_linelen;
	fl += 8 + HCACHE_DATE_LEN;		/* a Date of ours */
	for (k = 0; k < ri.ri_nvary; k++) {
		v = req_value(rq, ri.ri_vary[k], ri.ri_varylen[k], cw->cw_val,
		    sizeof(cw->cw_val));
		if (v == -2)
			return (NULL);
		vl += ri.ri_varylen[k] + 3 + (v > 0 ? (size_t)v : 0);
	}
	n = 32 + rs->rs_reasonlen + fl + 40;
	sz = sizeof(*o) + keylen + 1 + n + 40 + f304 + 8 + HCACHE_DATE_LEN +
	    vl;
	if (n > cf.z_head || reserve(cw, sz) == -1)
		return (NULL);
	if ((o = calloc(1, sz)) == NULL) {
		unreserve(sz);
		return (NULL);
	}
	o->o_charge = sz;
	charge_tab((uint32_t)tab, 0, (int64_t)sz);
	atomic_init(&o->o_refs, 1);
	o->o_kind = OK_OBJ;
	o->o_hash = hash;
	o->o_tab = (uint32_t)tab;
	o->o_key = (char *)(o + 1);
	memcpy(o->o_key, key, keylen);
	o->o_keylen = keylen;
	o->o_head = o->o_key + keylen + 1;
	o->o_headcap = n;
	o->o_head304 = o->o_head + n;
	o->o_vary = o->o_head304 + 40 + f304 + 8 + HCACHE_DATE_LEN;
	o->o_status = rs->rs_status;
	/* the head: a 1.1 status line, the fields kept, our edits, a Date */
	p = o->o_head;
	p += snprintf(p, 32 + rs->rs_reasonlen, "HTTP/1.1 %d %.*s\r\n",
	    rs->rs_status, (int)rs->rs_reasonlen, rs->rs_reason);
	o->o_fields = (size_t)(p - o->o_head);
	memcpy(o->o_head304, "HTTP/1.1 304 Not Modified\r\n", 27);
	o->o_head304len = 27;
	for (i = 0; i < rs->rs_nhdr; i++) {
		hd = &rs->rs_hdr[i];
		if (!field_kept(rs->rs_hdr, rs->rs_nhdr, hd))
			continue;
		if ((int)i == ri.ri_etag) {
			o->o_etag = (size_t)(p - o->o_head) +
			    (size_t)(hd->hh_value - hd->hh_line);
			o->o_etaglen = hd->hh_valuelen;
		}
		memcpy(p, hd->hh_line, hd->hh_linelen);
		p += hd->hh_linelen;
		if (field_304(hd)) {
			memcpy(o->o_head304 + o->o_head304len, hd->hh_line,
			    hd->hh_linelen);
			o->o_head304len += hd->hh_linelen;
		}
	}
	for (i = 0; i < cf.nedits; i++)
		if (cf.edits[i].ed_resp && cf.edits[i].ed_op != EDIT_DEL) {
			memcpy(p, cf.edits[i].ed_line, cf.edits[i].ed_linelen);
			p += cf.edits[i].ed_linelen;
		}
	/* RFC 9110 6.6.1: a cache adds the Date it received it at. */
	if (!ri.ri_hasdate) {
		hcache_date_fmt(resp_ms / 1000, date);
		p += sprintf(p, "Date: %s\r\n", date);
		o->o_head304len += (size_t)sprintf(o->o_head304 +
		    o->o_head304len, "Date: %s\r\n", date);
	}
	o->o_fieldslen = (size_t)(p - o->o_head) - o->o_fields;
	o->o_headlen = (size_t)(p - o->o_head);
	/* what Vary names: name NUL '0'|'1' value NUL */
	p = o->o_vary;
	for (k = 0; k < ri.ri_nvary; k++) {
		for (i = 0; i < ri.ri_varylen[k]; i++)
			*p++ = (char)tolower((unsigned char)ri.ri_vary[k][i]);
		*p++ = '\0';
		v = req_value(rq, ri.ri_vary[k], ri.ri_varylen[k], cw->cw_val,
		    sizeof(cw->cw_val));
		*p++ = v >= 0 ? '1' : '0';
		if (v > 0) {
			memcpy(p, cw->cw_val, (size_t)v);
			p += v;
		}
		*p++ = '\0';
	}
	o->o_varylen = (size_t)(p - o->o_vary);
	/* freshness, and the rest of what a later request asks */
	o->o_resp_ms = resp_ms;
	o->o_age_ms = hcache_initial_age(ri.ri_date, ri.ri_age, req_ms,
	    resp_ms);
	o->o_lifetime = hcache_lifetime(&ri.ri_cc, ri.ri_expires, ri.ri_date);
	if (o->o_lifetime < 0)
		o->o_lifetime = 0;	/* no-cache alone */
	if (ri.ri_cc.cc_flags & HCC_NO_CACHE)
		o->o_flags |= OF_NOCACHE;
	/* s-maxage has proxy-revalidate's meaning for a shared cache */
	if ((ri.ri_cc.cc_flags & (HCC_MUST_REVALIDATE |
	    HCC_PROXY_REVALIDATE)) || ri.ri_cc.cc_s_maxage >= 0)
		o->o_flags |= OF_MUSTREVAL;
	if (auth)
		o->o_flags |= OF_AUTHOK;
	if ((o->o_swr = ri.ri_cc.cc_swr) >= 0)
		o->o_flags |= OF_SWR;
	if ((o->o_sie = ri.ri_cc.cc_sie) >= 0)
		o->o_flags |= OF_SIE;
	o->o_lastmod = ri.ri_lastmod >= 0 ? ri.ri_lastmod : ri.ri_date;
	return (o);
}

/* The body is whole: its length goes into the head. */
static void
obj_finish(struct cobj *o)
{
	size_t	 len = o->o_body != NULL ? o->o_body->b_len : 0;

	o->o_headlen += (size_t)snprintf(o->o_head + o->o_headlen,
	    o->o_headcap - o->o_headlen, "Content-Length: %zu\r\n", len);
}

/*
 * Link o, done, in place of the objects of its key and Vary values, and
 * of a MARK; take the BUSY of this fetch out and wake its waiters.
 * When the BUSY was purged meanwhile, o is not kept.  The caller's
 * reference to o is dropped.
 */
static void
publish(struct cache_w *cw, struct cobj *o, struct cobj *busy, int out)
{
	struct shard	*sh = shard_of(o->o_hash);
	struct cobj	*e, *next, *gone[VARIANTS_MAX + 4];
	size_t		 ng = 0, nv = 0, i;

	pthread_rwlock_wrlock(&sh->sh_lock);
	/* Purged while it came (under the lock a purge takes): not kept. */
	if (busy != NULL && busy->o_purged) {
		pthread_rwlock_unlock(&sh->sh_lock);
		obj_unref(o);
		busy_resolve(busy, OUT_UNCACHEABLE);
		return;
	}
	for (e = *bucket_of(sh, o->o_hash); e != NULL; e = next) {
		next = e->o_next;
		if (!key_is(e, o->o_hash, o->o_key, o->o_keylen) ||
		    e->o_kind == OK_BUSY || ng == sizeof(gone) / sizeof(gone[0]))
			continue;
		if (e->o_kind == OK_MARK || (e->o_varylen == o->o_varylen &&
		    memcmp(e->o_vary, o->o_vary, o->o_varylen) == 0) ||
		    ++nv >= VARIANTS_MAX) {
			unlink_locked(sh, e);
			gone[ng++] = e;
		}
	}
	link_locked(sh, o);
	pthread_rwlock_unlock(&sh->sh_lock);
	for (i = 0; i < ng; i++)
		obj_unref(gone[i]);
	(void)cw;
	if (busy != NULL)
		busy_resolve(busy, out);
}

/*
 * Remember for a while that key is not stored, so that its next
 * requests do not wait for one another; the BUSY, if any, goes.
 */
static void
mark(struct cache_w *cw, const char *key, size_t keylen, uint64_t hash,
    size_t tab, struct cobj *busy)
{
	struct shard	*sh = shard_of(hash);
	struct cobj	*m, *e;
	size_t		 sz = sizeof(*m) + keylen + 1;

	if (busy != NULL)
		busy_resolve(busy, OUT_UNCACHEABLE);
	if (reserve(cw, sz) == -1)
		return;
	if ((m = calloc(1, sz)) == NULL) {
		unreserve(sz);
		return;
	}
	atomic_init(&m->o_refs, 1);
	m->o_kind = OK_MARK;
	m->o_hash = hash;
	m->o_tab = (uint32_t)tab;
	m->o_charge = sz;
	charge_tab((uint32_t)tab, 0, (int64_t)sz);
	m->o_key = (char *)(m + 1);
	memcpy(m->o_key, key, keylen);
	m->o_keylen = keylen;
	m->o_expire = evloop_clock() + MARK_MS;
	pthread_rwlock_wrlock(&sh->sh_lock);
	for (e = *bucket_of(sh, hash); e != NULL; e = e->o_next)
		if (e->o_kind == OK_MARK && key_is(e, hash, key, keylen))
			break;
	if (e != NULL) {
		e->o_expire = m->o_expire;
		pthread_rwlock_unlock(&sh->sh_lock);
		obj_unref(m);
		return;
	}
	link_locked(sh, m);
	pthread_rwlock_unlock(&sh->sh_lock);
}

/* ---- filling: a body as it comes ---- */

enum { FILL_NONE, FILL_CLEN, FILL_CHUNKED, FILL_CLOSE };

struct cfill {
	struct cobj	*f_obj;
	int		 f_mode;
	uint64_t	 f_left;
	struct http1_chunk f_ck;
	int		 f_bad;
	struct cache_w	*f_cw;
};

static void
fill_data(void *arg, const char *p, size_t n)
{
	struct cfill	*f = arg;
	struct cbody	*b = f->f_obj->o_body;

	if (f->f_bad || n == 0)
		return;
	if (body_grow(f->f_cw, b, n) == -1) {
		f->f_bad = 1;
		return;
	}
	memcpy(b->b_data + b->b_len, p, n);
	b->b_len += n;
}

/*
 * A fill for o of the framing rs and method says (HEAD: none).
 * Returns NULL when its body would not fit.
 */
static struct cfill *
fill_new(struct cache_w *cw, struct cobj *o, const struct http1_resp *rs)
{
	struct cfill	*f;
	size_t		 cap = 0;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (NULL);
	f->f_cw = cw;
	f->f_obj = o;
	if (rs->rs_status == 204 || rs->rs_status == 304)
		f->f_mode = FILL_NONE;
	else if (rs->rs_flags & HTTP1_CHUNKED)
		f->f_mode = FILL_CHUNKED;
	else if (rs->rs_clen >= 0) {
		f->f_mode = rs->rs_clen > 0 ? FILL_CLEN : FILL_NONE;
		f->f_left = (uint64_t)rs->rs_clen;
		if (f->f_left > C.maxobj) {
			free(f);
			return (NULL);
		}
		cap = (size_t)f->f_left;
	} else
		f->f_mode = FILL_CLOSE;
	if ((o->o_body = body_new(cw, o->o_tab, cap)) == NULL) {
		free(f);
		return (NULL);
	}
	return (f);
}

/* Feed n bytes as they came: 1 when the body is whole, 0 more, -1 no. */
static int
fill_feed(struct cfill *f, const char *p, size_t n)
{
	ssize_t	 c;

	if (f->f_bad)
		return (-1);
	switch (f->f_mode) {
	case FILL_NONE:
		return (1);
	case FILL_CLEN:
		if (n > f->f_left)
			n = (size_t)f->f_left;
		fill_data(f, p, n);
		f->f_left -= n;
		if (f->f_bad)
			return (-1);
		return (f->f_left == 0);
	case FILL_CHUNKED:
		if ((c = http1_chunk_feed(&f->f_ck, p, n, fill_data, f)) == -1)
			f->f_bad = 1;
		if (f->f_bad)
			return (-1);
		return (f->f_ck.ck_done);
	default:
		fill_data(f, p, n);
		return (f->f_bad ? -1 : 0);
	}
}

static void
fill_free(struct cfill *f)
{
	if (f == NULL)
		return;
	obj_unref(f->f_obj);
	free(f);
}

/* ---- the exchanges of clients ---- */

/*
 * With the shard of hash locked: the stored response for the request
 * (the newest whose Vary values it sends; one with credentials takes
 * one allowed for them; one stored for the route's table tab, which a
 * HUP's rules may have changed), the BUSY of its key, whether a MARK is
 * there.
 */
static struct cobj *
lookup_locked(struct cache_w *cw, struct shard *sh, uint64_t hash,
    const char *key, size_t keylen, const struct http1_req *rq, int auth,
    size_t tab, struct cobj **busy, int *marked)
{
	struct cobj	*e, *found = NULL;
	uint64_t	 now = evloop_clock();

	*busy = NULL;
	*marked = 0;
	for (e = *bucket_of(sh, hash); e != NULL; e = e->o_next) {
		if (!key_is(e, hash, key, keylen))
			continue;
		if (e->o_kind == OK_BUSY)
			*busy = e;
		else if (e->o_kind == OK_MARK)
			*marked |= e->o_expire > now;
		else if (found == NULL && !e->o_purged && e->o_tab == tab &&
		    (!auth || (e->o_flags & OF_AUTHOK)) &&
		    vary_match(cw, e, rq))
			found = e;
	}
	return (found);
}

/* A BUSY for the key: the fetch this exchange or a fetcher makes. */
static struct cobj *
busy_new(const char *key, size_t keylen, uint64_t hash, size_t tab)
{
	struct cobj	*b;

	if ((b = calloc(1, sizeof(*b) + keylen + 1)) == NULL)
		return (NULL);
	atomic_init(&b->o_refs, 1);
	b->o_kind = OK_BUSY;
	b->o_hash = hash;
	b->o_tab = (uint32_t)tab;
	b->o_key = (char *)(b + 1);
	memcpy(b->o_key, key, keylen);
	b->o_keylen = keylen;
	return (b);
}

/* The request's key into cw's scratch, its hash in ct. */
static size_t
request_key(struct cache_w *cw, struct hconn *h)
{
	struct cache_tx	*c = &h->h_tx->tx_c;
	size_t		 n, olen;

	n = key_build(cw, h, &olen);
	c->ct_ohash = hash_origin(cw->cw_key, olen);
	c->ct_hash = hash_path(c->ct_ohash, cw->cw_key + olen, n - olen);
	return (n);
}

/*
 * Decide, under the shard's write lock, what the exchange does: served
 * (1, done), waiting (1), or to the backend (0), filling or not.
 */
static int
decide(struct hconn *h, struct cache_w *cw, int woken, int out)
{
	struct htx	*tx = h->h_tx;
	struct cache_tx	*c = &tx->tx_c;
	struct http1_req *rq = &tx->tx_req;
	struct hcache_cc rcc;
	struct shard	*sh;
	struct cobj	*o, *busy, *nb = NULL, *stale = NULL;
	int64_t		 now = (int64_t)table_now_ms();
	size_t		 keylen;
	uint64_t	 used;
	int		 marked, use = USE_REVALIDATE, r;

	req_cc(rq, &rcc);
	keylen = request_key(cw, h);
	sh = shard_of(c->ct_hash);
	pthread_rwlock_rdlock(&sh->sh_lock);
	o = lookup_locked(cw, sh, c->ct_hash, cw->cw_key, keylen, rq,
	    c->ct_auth, c->ct_tab, &busy, &marked);
	/*
	 * What the fetch it waited for stored or refreshed is the answer
	 * to this request too, even if stale as it came (an Age above its
	 * lifetime) or to be validated each time (no-cache).
	 */
	if (o != NULL && woken && (out == OUT_STORED || out == OUT_REFRESHED) &&
	    usable(o, &rcc, now) == USE_REVALIDATE)
		use = USE_FRESH;
	else if (o != NULL)
		use = usable(o, &rcc, now);
	if (o != NULL && use != USE_REVALIDATE) {
		obj_ref(o);
		/* Once a while, and once since it was last placed. */
		used = atomic_load_explicit(&o->o_used, memory_order_relaxed);
		if (evloop_clock() - used >= USED_STEP_MS || used <= o->o_moved)
			atomic_store_explicit(&o->o_used, evloop_clock(),
			    memory_order_relaxed);
		if (use == USE_SWR && busy == NULL &&
		    evloop_clock() - atomic_load(&o->o_failed) >= FAIL_MS) {
			/* Stale, to be revalidated behind it: a fetch. */
			pthread_rwlock_unlock(&sh->sh_lock);
			pthread_rwlock_wrlock(&sh->sh_lock);
			(void)lookup_locked(cw, sh, c->ct_hash, cw->cw_key,
			    keylen, rq, c->ct_auth, c->ct_tab, &busy, &marked);
			if (busy == NULL && o->o_linked &&
			    (nb = busy_new(cw->cw_key, keylen, c->ct_hash,
			    c->ct_tab)) != NULL) {
				obj_ref(o);	/* the BUSY's */
				nb->o_stale = o;
				obj_ref(nb);	/* the fetch's */
				link_locked(sh, nb);
			}
		}
		pthread_rwlock_unlock(&sh->sh_lock);
		if (nb != NULL)
			fetch_start(h, nb, o);
		serve(h, o, use == USE_FRESH ? (woken && out == OUT_REFRESHED ?
		    CW_REVALIDATED : CW_HIT) : CW_STALE);
		return (1);
	}
	pthread_rwlock_unlock(&sh->sh_lock);
	if (rcc.cc_flags & HCC_ONLY_IF_CACHED) {
		c->ct_word = CW_MISS;
		h->h_off += tx->tx_headlen;
		tx_respond(h, 504, "not in the cache (only-if-cached)",
		    END_KEEPALIVE, 0);
		return (1);
	}
	pthread_rwlock_wrlock(&sh->sh_lock);
	o = lookup_locked(cw, sh, c->ct_hash, cw->cw_key, keylen, rq,
	    c->ct_auth, c->ct_tab, &busy, &marked);
	/* Revalidating failed, or takes too long: stale if it may. */
	if (woken && (out == OUT_FAILED || out == -1) &&
	    stale_if_error(o, now)) {
		obj_ref(o);
		pthread_rwlock_unlock(&sh->sh_lock);
		serve(h, o, CW_STALE);
		return (1);
	}
	c->ct_word = CW_MISS;
	/* A HEAD, or a request that already waited: the backend, now. */
	if (woken || tx->tx_head || c->ct_auth) {
		pthread_rwlock_unlock(&sh->sh_lock);
		c->ct_role = tx->tx_head ? CR_PASS : CR_FILL;
		return (0);
	}
	if (o != NULL && busy == NULL && evloop_clock() - atomic_load(
	    &o->o_failed) < FAIL_MS && stale_if_error(o, now)) {
		/* It just failed: serve stale a while, do not pile on. */
		obj_ref(o);
		pthread_rwlock_unlock(&sh->sh_lock);
		serve(h, o, CW_STALE);
		return (1);
	}
	if (busy != NULL) {
		r = wait_on_locked(h, busy);
		pthread_rwlock_unlock(&sh->sh_lock);
		if (r == -1) {
			c->ct_role = CR_PASS;
			return (0);
		}
		evtimer_set(h->h_w->w_ev, &c->ct_timer, C.wait_ms, on_wait, h);
		return (1);
	}
	if (marked && o == NULL) {
		pthread_rwlock_unlock(&sh->sh_lock);
		c->ct_role = CR_FILL;
		return (0);
	}
	if ((nb = busy_new(cw->cw_key, keylen, c->ct_hash, c->ct_tab)) ==
	    NULL) {
		pthread_rwlock_unlock(&sh->sh_lock);
		c->ct_role = CR_PASS;
		return (0);
	}
	link_locked(sh, nb);
	if (o != NULL) {
		/* Stale: a fetch of ours revalidates it; this one waits. */
		stale = o;
		obj_ref(stale);		/* the BUSY's */
		nb->o_stale = stale;
		obj_ref(nb);		/* the fetch's */
		r = wait_on_locked(h, nb);
		pthread_rwlock_unlock(&sh->sh_lock);
		if (r == -1) {
			busy_resolve(nb, OUT_FAILED);
			obj_unref(nb);
			c->ct_role = CR_PASS;
			return (0);
		}
		evtimer_set(h->h_w->w_ev, &c->ct_timer, C.wait_ms, on_wait, h);
		fetch_start(h, nb, stale);
		return (1);
	}
	/* A miss: this exchange fetches for all who come meanwhile. */
	pthread_rwlock_unlock(&sh->sh_lock);
	c->ct_busy = nb;
	c->ct_role = CR_FILL;
	return (0);
}

/* A method that may change what the target holds (RFC 9111 4.4). */
static int
unsafe(const char *m, size_t n)
{
	return (!((n == 3 && memcmp(m, "GET", 3) == 0) ||
	    (n == 4 && memcmp(m, "HEAD", 4) == 0) ||
	    (n == 7 && memcmp(m, "OPTIONS", 7) == 0) ||
	    (n == 5 && memcmp(m, "TRACE", 5) == 0)));
}

int
cache_begin(struct hconn *h, size_t tab, int off)
{
	struct htx	*tx = h->h_tx;
	struct cache_tx	*c = &tx->tx_c;
	struct http1_req *rq = &tx->tx_req;
	struct cache_w	*cw;

	if (!C.on)
		return (0);
	cw = C.w[worker_id(h->h_w->w_worker)];
	c->ct_tab = tab;
	c->ct_req_ms = (int64_t)table_now_ms();
	c->ct_word = CW_BYPASS;
	c->ct_role = CR_NONE;
	if (unsafe(rq->rq_method, rq->rq_methodlen)) {
		/* The key's hashes now: a body may overwrite the head. */
		(void)request_key(cw, h);
		c->ct_unsafe = 1;
		return (0);
	}
	if (off || (rq->rq_methodlen == 7 && memcmp(rq->rq_method, "OPTIONS",
	    7) == 0) || (rq->rq_methodlen == 5 && memcmp(rq->rq_method,
	    "TRACE", 5) == 0) || tx->tx_up.fl_mode != FL_NONE ||
	    tx->tx_upgrade || http1_find(rq, "range", 0) != -1 ||
	    rq->rq_pathlen == 0 || rq->rq_path[0] != '/')
		return (0);
	c->ct_auth = http1_find(rq, "authorization", 0) != -1;
	{
		struct hcache_cc rcc;

		req_cc(rq, &rcc);
		c->ct_nostore = (rcc.cc_flags & HCC_NO_STORE) != 0;
	}
	return (decide(h, cw, 0, 0));
}

/* A waiter woken (out: how the fetch ended; -1: its time ran out). */
static void
resume(struct hconn *h, int out)
{
	struct cache_tx	*c = &h->h_tx->tx_c;
	struct cache_w	*cw = C.w[worker_id(h->h_w->w_worker)];

	evtimer_cancel(h->h_w->w_ev, &c->ct_timer);
	c->ct_role = CR_NONE;
	if (decide(h, cw, 1, out) == 0)
		tx_to_backend(h);
}

int
cache_drop_field(const struct hconn *h, const struct http1_header *hd)
{
	if (h->h_tx->tx_c.ct_role != CR_FILL)
		return (0);
	return (http1_is(hd, "if-none-match") ||
	    http1_is(hd, "if-modified-since"));
}

/* ---- invalidation (RFC 9111 4.4) and purges ---- */

/* Take every object of hash out (a BUSY: its result is not kept). */
static void
invalidate(uint64_t hash)
{
	struct shard	*sh = shard_of(hash);
	struct cobj	*e, *next, *gone[32];
	size_t		 ng = 0, i;

	pthread_rwlock_wrlock(&sh->sh_lock);
	for (e = *bucket_of(sh, hash); e != NULL; e = next) {
		next = e->o_next;
		if (e->o_hash != hash)
			continue;
		if (e->o_kind == OK_BUSY)
			e->o_purged = 1;
		else if (ng < sizeof(gone) / sizeof(gone[0])) {
			unlink_locked(sh, e);
			gone[ng++] = e;
		}
	}
	pthread_rwlock_unlock(&sh->sh_lock);
	for (i = 0; i < ng; i++)
		obj_unref(gone[i]);
}

/*
 * An unsafe method succeeded: its target, and a Location or
 * Content-Location on the same origin (scheme and host, the port
 * ignored as routes ignore it), go.
 */
static void
invalidate_response(struct hconn *h, const struct http1_resp *rs)
{
	struct cache_tx	*c = &h->h_tx->tx_c;
	const struct http1_header *hd;
	const char	*v, *e, *hs;
	char		 o[8 + 256];
	size_t		 vl, i, n;

	invalidate(c->ct_hash);
	for (i = 0; i < rs->rs_nhdr; i++) {
		hd = &rs->rs_hdr[i];
		if (!http1_is(hd, "location") &&
		    !http1_is(hd, "content-location"))
			continue;
		v = hd->hh_value;
		vl = hd->hh_valuelen;
		e = v + vl;
		if (vl > 0 && v[0] == '/' && (vl == 1 || v[1] != '/')) {
			invalidate(hash_path(c->ct_ohash, v, vl));
			continue;
		}
		/* absolute: scheme://host[:port]/path */
		if ((hs = memmem(v, vl, "://", 3)) == NULL || hs - v > 5)
			continue;
		hs += 3;
		for (n = 0; v + n < hs; n++)
			o[n] = (char)tolower((unsigned char)v[n]);
		for (; hs < e && *hs != '/' && *hs != ':' && n < sizeof(o);
		    hs++)
			o[n++] = (char)tolower((unsigned char)*hs);
		while (hs < e && *hs != '/')
			hs++;
		if (hs == e || n == sizeof(o) || hash_origin(o, n) !=
		    c->ct_ohash)
			continue;
		invalidate(hash_path(c->ct_ohash, hs, (size_t)(e - hs)));
	}
}

/* Does key match purge pattern (see lb-ctl purge)? */
static int
purge_match(const char *key, size_t keylen, const char *pat, int prefix)
{
	const char	*k = key, *host = strstr(key, "://") + 3;
	size_t		 pl = strlen(pat), kl;

	if (pat[0] == '/')
		k = host + strcspn(host, "/");
	else if (strstr(pat, "://") == NULL)
		k = host;
	kl = keylen - (size_t)(k - key);
	return (prefix ? kl >= pl && memcmp(k, pat, pl) == 0 :
	    kl == pl && memcmp(k, pat, pl) == 0);
}

/*
 * Take out the objects of table tab whose key matches (pat NULL: all
 * of them); a BUSY of theirs keeps nothing.  Returns how many.
 */
static size_t
purge(size_t tab, const char *pat, int prefix)
{
	struct shard	*sh;
	struct cobj	*e, *next, *gone[64];
	size_t		 i, b, ng, n = 0, k;

	for (i = 0; i < NSHARD; i++) {
		sh = &C.sh[i];
 again:
		ng = 0;
		pthread_rwlock_wrlock(&sh->sh_lock);
		for (b = 0; b < C.nb && ng < sizeof(gone) / sizeof(gone[0]);
		    b++)
			for (e = sh->sh_b[b]; e != NULL; e = next) {
				next = e->o_next;
				if (e->o_tab != tab || (pat != NULL &&
				    !purge_match(e->o_key, e->o_keylen, pat,
				    prefix)))
					continue;
				if (e->o_kind == OK_BUSY) {
					e->o_purged = 1;
					continue;
				}
				if (ng == sizeof(gone) / sizeof(gone[0]))
					break;
				unlink_locked(sh, e);
				gone[ng++] = e;
			}
		pthread_rwlock_unlock(&sh->sh_lock);
		for (k = 0; k < ng; k++)
			obj_unref(gone[k]);
		n += ng;
		if (ng == sizeof(gone) / sizeof(gone[0]))
			goto again;
	}
	return (n);
}

/* The main thread: the purges a table holds that we did not apply. */
static void
purges_apply(size_t tab, struct table *t)
{
	char		 pat[TABLE_PURGE_MAX + 1];
	uint64_t	 seq = table_purge_seq(t), s;
	int		 fl;

	if (t != C.pt[tab]) {
		/*
		 * A table made anew, or first seen: what we hold for it
		 * came before; its purges start here.
		 */
		if (C.pt[tab] != NULL || atomic_load(&C.tbytes[tab]) > 0)
			(void)purge(tab, NULL, 0);
		C.pt[tab] = t;
		C.applied[tab] = seq;
		table_purge_ack(t, seq);
		return;
	}
	if (seq == C.applied[tab]) {
		table_purge_ack(t, seq);
		return;
	}
	if (seq < C.applied[tab] || seq - C.applied[tab] > TABLE_PURGE_N) {
		log_info("table %s: purges missed: every object of its routes "
		    "dropped", table_name(t));
		(void)purge(tab, NULL, 0);
	} else
		for (s = C.applied[tab] + 1; s <= seq; s++) {
			if (table_purge_get(t, s, pat, &fl) == -1) {
				log_info("table %s: purge %llu unreadable: "
				    "every object of its routes dropped",
				    table_name(t), (unsigned long long)s);
				(void)purge(tab, NULL, 0);
				break;
			}
			(void)purge(tab, pat, fl & TABLE_PURGE_PREFIX);
		}
	C.applied[tab] = seq;
	table_purge_ack(t, seq);
}

/* The main thread: what we store for a table, into it. */
static void
stores_write(size_t tab, struct table *t)
{
	int64_t	 o = atomic_load(&C.tobj[tab]), b = atomic_load(&C.tbytes[tab]);

	if (t != C.gt[tab]) {
		/* A new handle counts from nothing. */
		C.gt[tab] = t;
		C.gobj[tab] = C.gbytes[tab] = 0;
	}
	if (o == C.gobj[tab] && b == C.gbytes[tab])
		return;
	table_cache_store(t, o - C.gobj[tab], b - C.gbytes[tab]);
	C.gobj[tab] = o;
	C.gbytes[tab] = b;
}

void
cache_tick(void)
{
	struct table	*t;
	size_t		 i, n;

	if (!C.on)
		return;
	n = tableset_count(cf.ts);
	for (i = 0; i < n && i < LH_TABLES_MAX; i++) {
		if ((t = tableset_table(cf.ts, i)) == NULL)
			continue;
		purges_apply(i, t);
		stores_write(i, t);
	}
}

/* ---- responses to exchanges that fill ---- */

void
cache_head(struct hconn *h, const struct http1_resp *rs)
{
	struct htx	*tx = h->h_tx;
	struct cache_tx	*c = &tx->tx_c;
	struct cache_w	*cw;
	struct cobj	*o;
	size_t		 keylen;
	int		 r;

	if (!C.on)
		return;
	cw = C.w[worker_id(h->h_w->w_worker)];
	if (c->ct_unsafe) {
		/* RFC 9111 4.4: a non-error status */
		if (rs->rs_status < 400)
			invalidate_response(h, rs);
		return;
	}
	if (c->ct_role != CR_FILL || c->ct_fill != NULL)
		return;
	keylen = request_key(cw, h);
	o = obj_make(cw, cw->cw_key, keylen, c->ct_hash, c->ct_tab,
	    &tx->tx_req, rs, c->ct_req_ms, (int64_t)table_now_ms(), c->ct_auth,
	    c->ct_nostore);
	if (o == NULL || (c->ct_fill = fill_new(cw, o, rs)) == NULL) {
		obj_unref(o);
		/* A server error is no reason to stop collapsing. */
		if (rs->rs_status >= 500 || rs->rs_status == 304) {
			if (c->ct_busy != NULL)
				busy_resolve(c->ct_busy, OUT_FAILED);
		} else
			mark(cw, cw->cw_key, keylen, c->ct_hash, c->ct_tab,
			    c->ct_busy);
		c->ct_busy = NULL;
		return;
	}
	if ((r = fill_feed(c->ct_fill, NULL, 0)) == 1) {
		/* No body: whole now. */
		obj_ref(o);
		obj_finish(o);
		publish(cw, o, c->ct_busy, OUT_STORED);
		c->ct_busy = NULL;
		fill_free(c->ct_fill);
		c->ct_fill = NULL;
	}
}

void
cache_body(struct hconn *h, const char *p, size_t n)
{
	struct cache_tx	*c = &h->h_tx->tx_c;
	struct cache_w	*cw;
	struct cfill	*f = c->ct_fill;
	int		 r;

	if (f == NULL || n == 0)
		return;
	cw = C.w[worker_id(h->h_w->w_worker)];
	if ((r = fill_feed(f, p, n)) == 0)
		return;
	c->ct_fill = NULL;
	if (r == 1) {
		obj_ref(f->f_obj);
		obj_finish(f->f_obj);
		publish(cw, f->f_obj, c->ct_busy, OUT_STORED);
	} else
		mark(cw, f->f_obj->o_key, f->f_obj->o_keylen, c->ct_hash,
		    c->ct_tab, c->ct_busy);
	c->ct_busy = NULL;
	fill_free(f);
}

void
cache_end(struct hconn *h)
{
	struct cache_tx	*c = &h->h_tx->tx_c;
	struct cache_w	*cw;
	struct cfill	*f = c->ct_fill;

	if (!C.on)
		return;
	cw = C.w[worker_id(h->h_w->w_worker)];
	count_word(h);
	if (cw->cw_dirty && cw->cw_flush.et_idx == 0)
		evtimer_set(cw->cw_ev, &cw->cw_flush, FLUSH_MS, on_flush, cw);
	evtimer_cancel(h->h_w->w_ev, &c->ct_timer);
	/* A body that ended with the connection is whole then. */
	if (f != NULL && f->f_mode == FILL_CLOSE && h->h_tx->tx_dn.fl_done &&
	    (h->h_tx->tx_end == END_KEEPALIVE || h->h_tx->tx_end == END_CLOSE) &&
	    !f->f_bad) {
		obj_ref(f->f_obj);
		obj_finish(f->f_obj);
		publish(cw, f->f_obj, c->ct_busy, OUT_STORED);
		c->ct_busy = NULL;
	}
	fill_free(f);
	c->ct_fill = NULL;
	if (c->ct_busy != NULL) {
		/* Not stored after all: those waiting go themselves. */
		busy_resolve(c->ct_busy, OUT_FAILED);
		c->ct_busy = NULL;
	}
	obj_unref(c->ct_obj);
	c->ct_obj = NULL;
	c->ct_role = CR_NONE;
}

const char *
cache_word(const struct hconn *h)
{
	static const char *const words[] = { NULL, "hit", "miss", "stale",
	    "revalidated", "bypass" };
	int	 w = h->h_tx->tx_c.ct_word;

	return (w > 0 && w < (int)(sizeof(words) / sizeof(words[0])) ?
	    words[w] : NULL);
}

/* ---- fetches of the cache's own: revalidations ---- */

enum { FS_DIAL, FS_TLS, FS_SEND, FS_HEAD, FS_BODY };

struct cfetch {
	struct cfetch	*f_next, *f_prev;	/* its worker's */
	struct cache_w	*f_cw;
	struct hw	*f_w;
	struct wtab	*f_wt;
	struct cobj	*f_busy;		/* a reference */
	struct cobj	*f_stale;		/* a reference */
	int		 f_state;
	struct dial	 f_dial;
	struct io	 f_io;
	int		 f_tls, f_noverify, f_fds;
	char		 f_sni[256];
	struct addr	 f_peer, f_local;
	char		*f_req;			/* the request to send */
	size_t		 f_reqlen, f_sent;
	char		*f_cli;			/* the client's head, parsed */
	struct http1_req f_rq;
	char		*f_buf;			/* the response */
	size_t		 f_len, f_scanned;
	struct http1_resp f_rs;
	struct cfill	*f_fill;
	int64_t		 f_req_ms;
	struct evtimer	 f_timer;
};

/* Build the request a revalidation sends, from the client's. */
static int
fetch_request(struct cfetch *f, const struct hconn *h)
{
	const struct htx *tx = h->h_tx;
	const struct http1_req *rq = &f->f_rq;
	const struct http1_header *hd;
	const struct cobj *o = f->f_stale;
	const char	*path = rq->rq_path + tx->tx_strip;
	size_t		 pathlen = rq->rq_pathlen - tx->tx_strip, cap, i, used;
	char		 ip[INET6_ADDRSTRLEN + 8], date[HCACHE_DATE_LEN];
	char		*p;
	int		 n;

	cap = cf.z_head + 1024;
	if ((f->f_req = malloc(cap)) == NULL)
		return (-1);
	p = f->f_req;
#define ADD(...) do {							\
	n = snprintf(p, cap - (size_t)(p - f->f_req), __VA_ARGS__);	\
	if (n < 0 || (size_t)n >= cap - (size_t)(p - f->f_req))		\
		return (-1);						\
	p += n;								\
} while (0)
	/* the path and Host as build_request() sends them: prefix=, host= */
	ADD("GET %.*s%s%.*s HTTP/1.1\r\n", (int)tx->tx_l7.lt_prefixlen,
	    tx->tx_l7b.lb_prefix, tx->tx_l7.lt_prefixlen > 0 ? "" :
	    pathlen == 0 || path[0] != '/' ? "/" : "", (int)pathlen, path);
	for (i = 0; i < rq->rq_nhdr; i++) {
		hd = &rq->rq_hdr[i];
		if (tx->tx_l7.lt_hostlen > 0 && http1_is(hd, "host"))
			continue;
		if (http1_hop(rq->rq_hdr, rq->rq_nhdr, hd) || edited(0, hd) ||
		    (hd->hh_namelen >= 3 && strncasecmp(hd->hh_name, "if-",
		    3) == 0) || http1_is(hd, "range") ||
		    http1_is(hd, "x-forwarded-for") ||
		    http1_is(hd, "x-forwarded-proto") ||
		    http1_is(hd, "x-forwarded-host") ||
		    http1_is(hd, "forwarded") || http1_is(hd, "expect") ||
		    http1_is(hd, "content-length"))
			continue;
		ADD("%.*s", (int)hd->hh_linelen, hd->hh_line);
	}
	client_ip(h, ip, sizeof(ip), 0);
	ADD("X-Forwarded-For: %s\r\nX-Forwarded-Proto: %s\r\n", ip,
	    h->h_tls ? "https" : "http");
	if (rq->rq_host != NULL)
		ADD("X-Forwarded-Host: %.*s\r\n", (int)rq->rq_hostlen,
		    rq->rq_host);
	if (tx->tx_l7.lt_hostlen > 0)
		ADD("Host: %.*s\r\n", (int)tx->tx_l7.lt_hostlen,
		    tx->tx_l7b.lb_host);
	else if (rq->rq_host == NULL)
		ADD("Host: \r\n");
	else if (http1_find(rq, "host", 0) == -1)
		ADD("Host: %.*s\r\n", (int)rq->rq_hostlen, rq->rq_host);
	if (cf.forwarded) {
		client_ip(h, ip, sizeof(ip), 1);
		ADD("Forwarded: for=%s;proto=%s\r\n", ip, h->h_tls ? "https" :
		    "http");
	}
	used = 0;
	if (add_edits(0, p, cap - (size_t)(p - f->f_req), &used) == -1)
		return (-1);
	p += used;
	/* the validators of what we hold (RFC 9111 4.3.1) */
	if (o->o_etaglen > 0)
		ADD("If-None-Match: %.*s\r\n", (int)o->o_etaglen,
		    o->o_head + o->o_etag);
	hcache_date_fmt(o->o_lastmod, date);
	ADD("If-Modified-Since: %s\r\nConnection: close\r\n\r\n", date);
#undef ADD
	f->f_reqlen = (size_t)(p - f->f_req);
	return (0);
}

static void	fetch_dialed(struct dial *, int);
static void	fetch_event(struct evloop *, int, int, void *);
static void	fetch_step(struct cfetch *);

static void
fetch_timeout(struct evloop *ev, void *arg)
{
	struct cfetch	*f = arg;

	(void)ev;
	log_info("cache: revalidating %.*s: no answer in time",
	    (int)f->f_busy->o_keylen, f->f_busy->o_key);
	fetch_free(f);
}

/*
 * Revalidate stale (a reference of ours is taken) for the BUSY busy
 * (its reference is the fetch's), for the exchange h that found it
 * so: a request of the cache's own, from h's head, to the backend of
 * h's route.
 */
static void
fetch_start(struct hconn *h, struct cobj *busy, struct cobj *stale)
{
	struct htx	*tx = h->h_tx;
	struct cache_w	*cw = C.w[worker_id(h->h_w->w_worker)];
	struct cfetch	*f;
	const void	*key = NULL;
	size_t		 keylen = 0, hsz;

	obj_ref(stale);
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		obj_unref(stale);
		busy_resolve(busy, OUT_FAILED);
		obj_unref(busy);
		return;
	}
	f->f_cw = cw;
	f->f_w = h->h_w;
	f->f_busy = busy;
	f->f_stale = stale;
	f->f_io.io_fd = -1;
	f->f_dial.d_fd = -1;
	f->f_req_ms = (int64_t)table_now_ms();
	f->f_peer = h->h_peer;
	f->f_local = h->h_local;
	f->f_tls = tx->tx_btls;
	f->f_noverify = tx->tx_bnoverify;
	snprintf(f->f_sni, sizeof(f->f_sni), "%s", tx->tx_bsni);
	if ((f->f_next = cw->cw_fetches) != NULL)
		f->f_next->f_prev = f;
	cw->cw_fetches = f;
	/* the client's head, copied and parsed again: it goes on */
	hsz = HDR_AT(cf.z_head) + cf.z_fields * sizeof(struct http1_header);
	if ((f->f_cli = malloc(hsz)) == NULL ||
	    (f->f_buf = malloc(hsz)) == NULL) {
		fetch_free(f);
		return;
	}
	memcpy(f->f_cli, h->h_in + h->h_off, tx->tx_headlen);
	f->f_rq.rq_hdr = (struct http1_header *)(void *)(f->f_cli +
	    HDR_AT(cf.z_head));
	f->f_rq.rq_nhdr = cf.z_fields;
	if (http1_parse_request(f->f_cli, tx->tx_headlen, &f->f_rq) < 0 ||
	    fetch_request(f, h) == -1 || worker_fds_take(1) == -1) {
		fetch_free(f);
		return;
	}
	f->f_fds = 1;
	f->f_wt = tx->tx_wt;
	f->f_wt->wt_uses++;
	f->f_state = FS_DIAL;
	evtimer_set(h->h_w->w_ev, &f->f_timer, cf.dial.dc_conn_ms *
	    (uint64_t)(cf.dial.dc_retries + 1) + cf.t_server, fetch_timeout, f);
	if (h->h_peer.a_ss.ss_family == AF_INET) {
		key = &((const struct sockaddr_in *)&h->h_peer.a_ss)->sin_addr;
		keylen = 4;
	} else if (h->h_peer.a_ss.ss_family == AF_INET6) {
		key = &((const struct sockaddr_in6 *)&h->h_peer.a_ss)->
		    sin6_addr;
		keylen = 16;
	}
	f->f_dial.d_arg = f;
	dial_start(&f->f_dial, &f->f_wt->wt_q, key, keylen, fetch_dialed);
}

static void
fetch_dialed(struct dial *d, int result)
{
	struct cfetch	*f = d->d_arg;
	const char	*host;
	unsigned char	 ip[16];
	char		 pp[PROXYPROTO_WRITE_MAX];
	ssize_t		 n;
	SSL		*ssl;
	int		 numeric;

	if (result != DIAL_OK) {
		log_info("cache: revalidating %.*s: %s",
		    (int)f->f_busy->o_keylen, f->f_busy->o_key,
		    dial_result_str(result));
		fetch_free(f);
		return;
	}
	io_init(&f->f_io, d->d_fd);
	d->d_fd = -1;
	evloop_handler(f->f_w->w_ev, f->f_io.io_fd, fetch_event, f);
	if (cf.proxy_out) {
		n = proxyproto_write(cf.proxy_out,
		    (const struct sockaddr *)&f->f_peer.a_ss,
		    (const struct sockaddr *)&f->f_local.a_ss, pp, sizeof(pp));
		if (n <= 0 || send(f->f_io.io_fd, pp, (size_t)n,
		    MSG_NOSIGNAL) != n) {
			fetch_free(f);
			return;
		}
	}
	f->f_state = FS_SEND;
	if (f->f_tls) {
		host = f->f_sni[0] ? f->f_sni : d->d_pick.bp_host;
		ERR_clear_error();
		if ((ssl = SSL_new(f->f_noverify ? cf.bctx_noverify :
		    cf.bctx)) == NULL || SSL_set_fd(ssl, f->f_io.io_fd) != 1) {
			SSL_free(ssl);
			fetch_free(f);
			return;
		}
		numeric = inet_pton(AF_INET, host, ip) == 1 ||
		    inet_pton(AF_INET6, host, ip) == 1;
		if (*host != '\0' && !numeric)
			SSL_set_tlsext_host_name(ssl, host);
		if (*host != '\0' && !f->f_noverify) {
			if (numeric)
				X509_VERIFY_PARAM_set1_ip_asc(
				    SSL_get0_param(ssl), host);
			else
				SSL_set1_host(ssl, host);
		}
		SSL_set_connect_state(ssl);
		f->f_io.io_ssl = ssl;
		f->f_state = FS_TLS;
	}
	fetch_step(f);
}

static void
fetch_event(struct evloop *ev, int fd, int what, void *arg)
{
	(void)ev;
	(void)fd;
	(void)what;
	fetch_step(arg);
}

/* Count the exchange on its backend, as the proxy counts its own. */
static void
fetch_count(struct cfetch *f, int status)
{
	struct table_counters *c;
	int		 k;

	if (!f->f_dial.d_picked || (c = table_counters(f->f_wt->wt_t,
	    f->f_dial.d_pick.bp_slot)) == NULL)
		return;
	atomic_fetch_add_explicit(&c->c_requests, 1, memory_order_relaxed);
	k = status >= 100 && status < 600 ? status / 100 - 1 : 5;
	atomic_fetch_add_explicit(&c->c_status[k], 1, memory_order_relaxed);
}

/*
 * A 304 (RFC 9111 4.3.4): the stored response, its fields replaced by
 * those the 304 sends, fresh from now; its body is shared.
 */
static struct cobj *
refresh(struct cfetch *f)
{
	struct cobj	*o = f->f_stale, *n = NULL;
	const struct http1_resp *rs = &f->f_rs;
	struct http1_header *hdr;
	struct http1_resp mr;
	const char	*p, *end, *eol, *colon;
	char		*buf;
	size_t		 cap, len = 0, i, nl;
	int		 drop, nodate;

	cap = o->o_fields + o->o_fieldslen + f->f_len + 64;
	if ((buf = malloc(HDR_AT(cap) + cf.z_fields * sizeof(*hdr))) == NULL)
		return (NULL);
	hdr = (struct http1_header *)(void *)(buf + HDR_AT(cap));
	/* the stored status line, with its reason */
	memcpy(buf, o->o_head, o->o_fields);
	len = o->o_fields;
	nodate = http1_field(rs->rs_hdr, rs->rs_nhdr, "date", 0) == -1;
	/* the stored fields, but those the 304 sends again */
	p = o->o_head + o->o_fields;
	end = p + o->o_fieldslen;
	for (; p < end; p = eol + 2) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		colon = memchr(p, ':', (size_t)(eol - p));
		nl = colon != NULL ? (size_t)(colon - p) : 0;
		/* an old Date would make it old: ours is added anew */
		drop = nodate && nl == 4 && strncasecmp(p, "date", 4) == 0;
		for (i = 0; i < rs->rs_nhdr && !drop; i++)
			drop = rs->rs_hdr[i].hh_namelen == nl &&
			    strncasecmp(rs->rs_hdr[i].hh_name, p, nl) == 0 &&
			    field_kept(rs->rs_hdr, rs->rs_nhdr,
			    &rs->rs_hdr[i]);
		if (drop)
			continue;
		memcpy(buf + len, p, (size_t)(eol - p) + 2);
		len += (size_t)(eol - p) + 2;
	}
	for (i = 0; i < rs->rs_nhdr; i++)
		if (field_kept(rs->rs_hdr, rs->rs_nhdr, &rs->rs_hdr[i]) &&
		    len + rs->rs_hdr[i].hh_linelen + 2 < cap) {
			memcpy(buf + len, rs->rs_hdr[i].hh_line,
			    rs->rs_hdr[i].hh_linelen);
			len += rs->rs_hdr[i].hh_linelen;
		}
	memcpy(buf + len, "\r\n", 2);
	len += 2;
	mr.rs_hdr = hdr;
	mr.rs_nhdr = cf.z_fields;
	if (http1_parse_response(buf, len, &mr) > 0) {
		n = obj_make(f->f_cw, o->o_key, o->o_keylen, o->o_hash,
		    o->o_tab, &f->f_rq, &mr, f->f_req_ms,
		    (int64_t)table_now_ms(), (o->o_flags & OF_AUTHOK) != 0, 0);
	}
	if (n != NULL) {
		n->o_body = o->o_body;
		atomic_fetch_add(&n->o_body->b_refs, 1);
		obj_finish(n);
	}
	free(buf);
	return (n);
}

/* The fetch is over: how, for those who wait. */
static void
fetch_done(struct cfetch *f, int out, struct cobj *o)
{
	struct cobj	*busy = f->f_busy;

	f->f_busy = NULL;
	if (out == OUT_FAILED)
		atomic_store(&f->f_stale->o_failed, evloop_clock());
	if (o != NULL)
		publish(f->f_cw, o, busy, out);
	else {
		if (out == OUT_UNCACHEABLE) {
			/* A full answer not stored: what we hold is old. */
			invalidate(f->f_stale->o_hash);
		}
		busy_resolve(busy, out);
	}
	obj_unref(busy);
	fetch_free(f);
}

/*
 * The response head came: what it means for what we hold.  Returns 1
 * when a body to store follows, 0 when the fetch is over (f is freed).
 */
static int
fetch_head(struct cfetch *f)
{
	struct cobj	*o;
	int		 st = f->f_rs.rs_status;

	fetch_count(f, st);
	if (st == 304) {
		o = refresh(f);
		fetch_done(f, o != NULL ? OUT_REFRESHED : OUT_FAILED, o);
		return (0);
	}
	if (st >= 500) {
		log_info("cache: revalidating %.*s: status %d",
		    (int)f->f_busy->o_keylen, f->f_busy->o_key, st);
		fetch_done(f, OUT_FAILED, NULL);
		return (0);
	}
	o = obj_make(f->f_cw, f->f_stale->o_key, f->f_stale->o_keylen,
	    f->f_stale->o_hash, f->f_stale->o_tab, &f->f_rq, &f->f_rs,
	    f->f_req_ms, (int64_t)table_now_ms(),
	    (f->f_stale->o_flags & OF_AUTHOK) != 0, 0);
	if (o == NULL || (f->f_fill = fill_new(f->f_cw, o, &f->f_rs)) ==
	    NULL) {
		obj_unref(o);
		fetch_done(f, OUT_UNCACHEABLE, NULL);
		return (0);
	}
	f->f_state = FS_BODY;
	return (1);
}

static void
fetch_step(struct cfetch *f)
{
	char		 why[200];
	ssize_t		 n;
	int		 hl, r, want;

	for (;;) {
		switch (f->f_state) {
		case FS_TLS:
			if ((r = tlsctx_handshake(f->f_io.io_ssl, &want, why,
			    sizeof(why))) == -2)
				return;
			if (r == -1) {
				log_info("cache: revalidating: TLS: %s", why);
				fetch_done(f, OUT_FAILED, NULL);
				return;
			}
			f->f_state = FS_SEND;
			continue;
		case FS_SEND:
			n = io_write(&f->f_io, f->f_req + f->f_sent,
			    f->f_reqlen - f->f_sent);
			if (n == -1 && errno == EAGAIN)
				return;
			if (n <= 0) {
				fetch_done(f, OUT_FAILED, NULL);
				return;
			}
			f->f_sent += (size_t)n;
			if (f->f_sent == f->f_reqlen)
				f->f_state = FS_HEAD;
			continue;
		case FS_HEAD:
		case FS_BODY:
			break;
		default:
			return;
		}
		if (f->f_len == cf.z_head) {
			if (f->f_state == FS_HEAD) {
				fetch_done(f, OUT_FAILED, NULL);
				return;
			}
			f->f_len = 0;
		}
		n = io_read(&f->f_io, f->f_buf + f->f_len, cf.z_head -
		    f->f_len);
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* The end of a body its close ends. */
			if (n == 0 && f->f_state == FS_BODY &&
			    f->f_fill->f_mode == FILL_CLOSE) {
				struct cobj *o = f->f_fill->f_obj;

				obj_ref(o);
				obj_finish(o);
				fetch_done(f, OUT_STORED, o);
				return;
			}
			fetch_done(f, OUT_FAILED, NULL);
			return;
		}
		if (f->f_state == FS_BODY) {
			r = fill_feed(f->f_fill, f->f_buf + f->f_len,
			    (size_t)n);
			if (r == 0)
				continue;
			if (r == 1) {
				struct cobj *o = f->f_fill->f_obj;

				obj_ref(o);
				obj_finish(o);
				fetch_done(f, OUT_STORED, o);
			} else
				fetch_done(f, OUT_UNCACHEABLE, NULL);
			return;
		}
		f->f_len += (size_t)n;
		if ((hl = http1_head_len(f->f_buf, f->f_len,
		    &f->f_scanned)) == -2)
			continue;
		f->f_rs.rs_hdr = (struct http1_header *)(void *)(f->f_buf +
		    HDR_AT(cf.z_head));
		f->f_rs.rs_nhdr = cf.z_fields;
		if (http1_parse_response(f->f_buf, (size_t)hl,
		    &f->f_rs) < 0 || f->f_rs.rs_status < 200) {
			/* 1xx: none is asked for; a bad head: failed */
			fetch_done(f, OUT_FAILED, NULL);
			return;
		}
		if (fetch_head(f) == 0)
			return;		/* done */
		/* what came with the head */
		r = fill_feed(f->f_fill, f->f_buf + hl, f->f_len -
		    (size_t)hl);
		if (r == 1) {
			struct cobj *o = f->f_fill->f_obj;

			obj_ref(o);
			obj_finish(o);
			fetch_done(f, OUT_STORED, o);
			return;
		}
		if (r == -1) {
			fetch_done(f, OUT_UNCACHEABLE, NULL);
			return;
		}
		f->f_len = 0;
	}
}

static void
fetch_free(struct cfetch *f)
{
	struct cache_w	*cw = f->f_cw;

	if (f->f_busy != NULL) {
		atomic_store(&f->f_stale->o_failed, evloop_clock());
		busy_resolve(f->f_busy, OUT_FAILED);
		obj_unref(f->f_busy);
	}
	evtimer_cancel(f->f_w->w_ev, &f->f_timer);
	if (f->f_dial.d_q != NULL) {
		if (f->f_dial.d_state != 3 /* D_DONE */)
			dial_cancel(&f->f_dial);
		else
			dial_release(&f->f_dial);
	}
	if (f->f_io.io_fd != -1) {
		evloop_forget(f->f_w->w_ev, f->f_io.io_fd);
		io_close(&f->f_io, 0);
	}
	if (f->f_fds)
		worker_fds_give(1);
	if (f->f_wt != NULL)
		wtab_unuse(f->f_wt);
	fill_free(f->f_fill);
	obj_unref(f->f_stale);
	if (f->f_prev != NULL)
		f->f_prev->f_next = f->f_next;
	else
		cw->cw_fetches = f->f_next;
	if (f->f_next != NULL)
		f->f_next->f_prev = f->f_prev;
	free(f->f_req);
	free(f->f_cli);
	free(f->f_buf);
	free(f);
}

/* ---- set up ---- */

int
cache_init(size_t size, size_t maxobj, uint64_t wait_ms, char *err,
    size_t errlen)
{
	size_t	 i, nb;

	C.max = size;
	C.maxobj = maxobj;
	C.wait_ms = wait_ms;
	for (nb = 64; nb * NSHARD * 2048 < size; nb *= 2)
		;
	C.nb = nb;
	if ((C.sh = calloc(NSHARD, sizeof(*C.sh))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (-1);
	}
	for (i = 0; i < NSHARD; i++) {
		if ((C.sh[i].sh_b = calloc(nb, sizeof(*C.sh[i].sh_b))) ==
		    NULL) {
			snprintf(err, errlen, "%s", strerror(errno));
			return (-1);
		}
		pthread_rwlock_init(&C.sh[i].sh_lock, NULL);
		atomic_init(&C.sh[i].sh_oldest, UINT64_MAX);
	}
	arc4random_buf(&C.k0, sizeof(C.k0));
	arc4random_buf(&C.k1, sizeof(C.k1));
	C.on = 1;
	/* The tables known now: their purges start here. */
	cache_tick();
	return (0);
}

int
cache_worker_init(struct hw *w)
{
	struct cache_w	*cw;
	int		 id = worker_id(w->w_worker);

	if (!C.on)
		return (0);
	if ((cw = C.w[id]) == NULL) {
		if ((cw = calloc(1, sizeof(*cw))) == NULL)
			return (-1);
		pthread_mutex_init(&cw->cw_mu, NULL);
		cw->cw_keycap = 16 + 256 + cf.z_head;
		if ((cw->cw_key = malloc(cw->cw_keycap)) == NULL ||
		    (cw->cw_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) ==
		    -1) {
			free(cw->cw_key);
			free(cw);
			return (-1);
		}
		cw->cw_key[0] = '\0';
		C.w[id] = cw;
	}
	cw->cw_hw = w;
	cw->cw_ev = w->w_ev;
	if (evloop_add(w->w_ev, cw->cw_efd, EVLOOP_READ, on_woken, cw) == -1)
		return (-1);
	cw->cw_live = 1;
	return (0);
}

void
cache_worker_fini(struct hw *w)
{
	struct cache_w	*cw;

	if (!C.on || (cw = C.w[worker_id(w->w_worker)]) == NULL)
		return;
	while (cw->cw_fetches != NULL)
		fetch_free(cw->cw_fetches);
	if (cw->cw_dirty)
		on_flush(w->w_ev, cw);
	evtimer_cancel(w->w_ev, &cw->cw_flush);
	evloop_del(w->w_ev, cw->cw_efd);
	cw->cw_live = 0;
}

void
cache_free(void)
{
	struct cobj	*e, *next;
	size_t		 i, b;

	if (!C.on)
		return;
	for (i = 0; i < NSHARD; i++) {
		for (b = 0; b < C.nb; b++)
			for (e = C.sh[i].sh_b[b]; e != NULL; e = next) {
				next = e->o_next;
				e->o_linked = 0;
				obj_unref(e);
			}
		free(C.sh[i].sh_b);
		pthread_rwlock_destroy(&C.sh[i].sh_lock);
	}
	free(C.sh);
	for (i = 0; i < sizeof(C.w) / sizeof(C.w[0]); i++)
		if (C.w[i] != NULL) {
			close(C.w[i]->cw_efd);
			free(C.w[i]->cw_key);
			free(C.w[i]->cw_q);
			pthread_mutex_destroy(&C.w[i]->cw_mu);
			free(C.w[i]);
		}
	C.on = 0;
}
