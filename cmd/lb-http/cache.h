/* cache.h: lb-http's cache of responses (-M), one per process, shared by its workers. */
#ifndef LB_HTTP_CACHE_H
#define LB_HTTP_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "evloop.h"
#include "hcache.h"
#include "http1.h"

struct hconn;
struct hw;
struct cobj;
struct cfill;

/* What the cache did with an exchange: the word of the log's cache field. */
enum cache_word { CW_NONE, CW_HIT, CW_MISS, CW_STALE, CW_REVALIDATED,
    CW_BYPASS };

/* An exchange's role for the cache. */
enum cache_role {
	CR_NONE,			/* not the cache's: to the backend */
	CR_FILL,			/* to the backend, to store its answer */
	CR_PASS,			/* to the backend, not stored */
	CR_WAIT,			/* waiting for another's fetch */
	CR_SERVE			/* answered from the cache */
};

/*
 * The cache's part of an exchange, in struct htx: zeroed with it for
 * each exchange.
 */
struct cache_tx {
	uint8_t		 ct_word;		/* CW_* */
	uint8_t		 ct_role;		/* CR_* */
	uint8_t		 ct_unsafe;		/* invalidate on success */
	uint8_t		 ct_auth;		/* the request has Authorization */
	uint8_t		 ct_nostore;		/* the request said no-store */
	uint8_t		 ct_reval;		/* the wait was for a revalidation */
	size_t		 ct_tab;		/* the route's table */
	uint64_t	 ct_hash;		/* of the key */
	uint64_t	 ct_ohash;		/* of its scheme://host */
	int64_t		 ct_req_ms;		/* when it came, wall clock */
	struct cobj	*ct_obj;		/* served from: a reference */
	struct cobj	*ct_busy;		/* the fetch it does for others */
	struct cfill	*ct_fill;		/* what it stores while it goes */
	uint64_t	 ct_serial;		/* of its wait */
	struct evtimer	 ct_timer;		/* the wait's bound */
	char		 ct_extra[96];		/* Age, Connection, the end */
};

/*
 * The cache of size bytes (objects, their heads and keys, as counted
 * by what is allocated for them), of objects up to maxobj bytes each,
 * a wait of wait_ms for another request's fetch.  In the main thread,
 * before the workers start.  Returns 0, or -1 with err.
 */
int	 cache_init(size_t size, size_t maxobj, uint64_t wait_ms, char *err,
	    size_t errlen);
void	 cache_free(void);

/* A worker's side: its wake-ups from other workers, its counts. */
int	 cache_worker_init(struct hw *w);
void	 cache_worker_fini(struct hw *w);

/* The main thread, once a second: purges, stores written to tables. */
void	 cache_tick(void);

/*
 * tx_begin(), once the route is known (its table tab, off: its rule
 * says nocache): 1 when the cache answers the request or makes it
 * wait, 0 when it goes to the backend (tx_to_backend()).
 */
int	 cache_begin(struct hconn *h, size_t tab, int off);

/*
 * build_request(): 1 for a field of the client's not to send: its
 * conditions on a request that fills the cache, whose full answer is
 * wanted.
 */
int	 cache_drop_field(const struct hconn *h, const struct http1_header *hd);

/* dn_head(): the backend's response head, parsed (a final one). */
void	 cache_head(struct hconn *h, const struct http1_resp *rs);

/*
 * dn_take(): n bytes that came from the backend after the head, as
 * they came (chunked or not; past the body too).
 */
void	 cache_body(struct hconn *h, const char *p, size_t n);

/* tx_finish(): the exchange ends; what it held goes. */
void	 cache_end(struct hconn *h);

/* The word of the log's cache field, or NULL. */
const char *cache_word(const struct hconn *h);

#endif
