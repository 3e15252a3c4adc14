/* tableset: the tables a proxy balances over, followed while it runs. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tableset.h"

#define OWN_TRIES	9		/* NAME, NAME.2 ... NAME.9 */
#define TS_MAX		256		/* tables a set may hold */

/* A handle, current or retired, and the workers that hold it. */
struct ts_handle {
	struct table	*h_t;
	int		 h_refs;
	int		 h_retired;
	struct ts_handle *h_next;
};

struct ts_entry {
	char		*e_name;
	int		 e_own;
	struct table *_Atomic e_cur;
	int		 e_warned;		/* removed, not made again: said */
};

struct tableset {
	mode_t		 ts_mode;
	struct ts_entry	*ts_e;		/* TS_MAX, never moved: workers read it */
	_Atomic size_t	 ts_n;
	_Atomic uint64_t ts_version;
	pthread_mutex_t	 ts_mu;			/* the handles and their refs */
	struct ts_handle *ts_h;
};

/* For errx(3) after set-up: the own tables go with the process. */
static struct tableset	*ts_atexit;

static void
own_cleanup(void)
{
	struct tableset	*ts = ts_atexit;
	struct table_proc p[2];
	struct table	*t;
	size_t		 i;

	if (ts == NULL)
		return;
	for (i = 0; i < ts->ts_n; i++) {
		if (!ts->ts_e[i].e_own)
			continue;
		t = atomic_load(&ts->ts_e[i].e_cur);
		/*
		 * Another instance on the same port may still use it.  One
		 * that cannot be removed (the process became a user that
		 * may not) is said, not left behind in silence.
		 */
		if (table_stale(t) == 0 && table_procs(t, p, 2) <= 1 &&
		    table_destroy(ts->ts_e[i].e_name, NULL, 0) == -1 &&
		    errno != ENOENT)
			log_warnx("table %s: not removed: %s (lb-ctl -t %s "
			    "destroy removes it)", ts->ts_e[i].e_name,
			    strerror(errno), ts->ts_e[i].e_name);
	}
}

struct tableset *
tableset_new(mode_t mode)
{
	struct tableset	*ts;

	if ((ts = calloc(1, sizeof(*ts))) == NULL)
		return (NULL);
	if ((ts->ts_e = calloc(TS_MAX, sizeof(*ts->ts_e))) == NULL) {
		free(ts);
		return (NULL);
	}
	ts->ts_mode = mode;
	pthread_mutex_init(&ts->ts_mu, NULL);
	return (ts);
}

static int
handle_new(struct tableset *ts, struct table *t)
{
	struct ts_handle *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return (-1);
	h->h_t = t;
	pthread_mutex_lock(&ts->ts_mu);
	h->h_next = ts->ts_h;
	ts->ts_h = h;
	pthread_mutex_unlock(&ts->ts_mu);
	return (0);
}

static int
entry_add(struct tableset *ts, const char *name, struct table *t, int own,
    char *err, size_t errlen)
{
	struct ts_entry	*ne;
	size_t		 n = atomic_load(&ts->ts_n);

	if (n == TS_MAX) {
		snprintf(err, errlen, "table %s: more than %d tables", name,
		    TS_MAX);
		return (-1);
	}
	ne = &ts->ts_e[n];
	memset(ne, 0, sizeof(*ne));
	if ((ne->e_name = strdup(name)) == NULL || handle_new(ts, t) == -1) {
		free(ne->e_name);
		snprintf(err, errlen, "%s", strerror(errno));
		return (-1);
	}
	ne->e_own = own;
	atomic_store(&ne->e_cur, t);
	/* Whole before it is counted: a worker may look at once. */
	atomic_store_explicit(&ts->ts_n, n + 1, memory_order_release);
	return ((int)n);
}

int
tableset_add(struct tableset *ts, const char *name, char *err,
    size_t errlen)
{
	struct table	*t;
	char		 e[512];
	size_t		 i;

	for (i = 0; i < ts->ts_n; i++)
		if (strcmp(ts->ts_e[i].e_name, name) == 0)
			return ((int)i);
	if ((t = table_open(name, TABLE_RDWR | TABLE_CREATE, 0, ts->ts_mode,
	    e, sizeof(e))) == NULL) {
		snprintf(err, errlen, "table %s: %s", name, e);
		return (-1);
	}
	if (table_register(t, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "table %s: %s", name, e);
		table_close(t);
		return (-1);
	}
	return (entry_add(ts, name, t, 0, err, errlen));
}

/* The own table's name for the listener, into buf. */
static void
own_name(const char *prefix, const char *spec, const struct addr *bound,
    char *buf, size_t len)
{
	char	 s[ADDR_STRLEN], *p;

	if (strncmp(spec, "unix:", 5) == 0)
		snprintf(s, sizeof(s), "unix-%s", spec + 5);
	else if (spec[0] == ':')
		snprintf(s, sizeof(s), "%d", addr_port(bound));
	else {
		addr_fmt(bound, s, sizeof(s));
		/* "[::1]:80" -> "::1-80" */
		if ((p = strrchr(s, ':')) != NULL)
			*p = '-';
		for (p = s; *p; p++)
			if (*p == '[' || *p == ']') {
				memmove(p, p + 1, strlen(p));
				p--;
			}
	}
	/* Room for ".N" after it, within a table name's 64 bytes. */
	snprintf(buf, len, "%s-%.*s", prefix,
	    (int)(TABLE_NAME_MAX - 3 - strlen(prefix) - 1), s);
	for (p = buf; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		    *p == '_'))
			*p = '_';
}

/*
 * The name is taken: if by a table of ours that nobody uses (its maker
 * died), remove it so that it can be made afresh.  1 when removed.
 */
static int
own_leftover(struct tableset *ts, const char *name)
{
	struct table	*t;
	struct table_proc p[1];
	char		 e[512];
	int		 n;

	if ((t = table_open(name, TABLE_RDONLY, 0, ts->ts_mode, e,
	    sizeof(e))) == NULL)
		return (0);
	n = table_procs(t, p, 1);
	table_close(t);
	if (n != 0)
		return (0);
	log_info("table %s: left behind by a process that died: made afresh",
	    name);
	return (table_destroy(name, NULL, 0) == 0);
}

int
tableset_own(struct tableset *ts, const char *prefix, const char *spec,
    const struct addr *bound, char *err, size_t errlen)
{
	struct table	*t = NULL;
	char		 base[TABLE_NAME_MAX + 1], name[TABLE_NAME_MAX + 8];
	char		 e[512];
	int		 k, i, taken;

	own_name(prefix, spec, bound, base, sizeof(base));
	for (k = 1; k <= OWN_TRIES && t == NULL; k++) {
		if (k == 1)
			strlcpy(name, base, sizeof(name));
		else
			snprintf(name, sizeof(name), "%s.%d", base, k);
		t = table_open(name, TABLE_RDWR | TABLE_CREATE | TABLE_EXCL, 0,
		    ts->ts_mode, e, sizeof(e));
		taken = t == NULL && errno == EEXIST;
		if (taken && own_leftover(ts, name)) {
			t = table_open(name, TABLE_RDWR | TABLE_CREATE |
			    TABLE_EXCL, 0, ts->ts_mode, e, sizeof(e));
			taken = t == NULL && errno == EEXIST;
		}
		if (t == NULL && !taken) {
			snprintf(err, errlen, "table %s: %s", name, e);
			return (-1);
		}
		if (t == NULL)
			log_info("table %s: taken: trying the next name",
			    name);
	}
	if (t == NULL) {
		snprintf(err, errlen, "table %s: taken, and so are %s.2 to "
		    "%s.%d: give -t TABLE", base, base, base, OWN_TRIES);
		return (-1);
	}
	if ((i = entry_add(ts, name, t, 1, err, errlen)) == -1) {
		table_close(t);
		table_destroy(name, NULL, 0);
		return (-1);
	}
	ts_atexit = ts;
	atexit(own_cleanup);
	if (table_register(t, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "table %s: %s", name, e);
		return (-1);
	}
	return (i);
}

size_t
tableset_count(const struct tableset *ts)
{
	return (atomic_load_explicit(&ts->ts_n, memory_order_acquire));
}

const char *
tableset_name(const struct tableset *ts, size_t i)
{
	return (i < ts->ts_n ? ts->ts_e[i].e_name : NULL);
}

struct table *
tableset_table(struct tableset *ts, size_t i)
{
	return (i < ts->ts_n ? atomic_load_explicit(&ts->ts_e[i].e_cur,
	    memory_order_acquire) : NULL);
}

int
tableset_is_own(const struct tableset *ts, size_t i)
{
	return (i < ts->ts_n && ts->ts_e[i].e_own);
}

uint64_t
tableset_version(const struct tableset *ts)
{
	return (atomic_load_explicit(&ts->ts_version, memory_order_acquire));
}

static struct ts_handle *
handle_of(struct tableset *ts, struct table *t)
{
	struct ts_handle *h;

	for (h = ts->ts_h; h != NULL; h = h->h_next)
		if (h->h_t == t)
			return (h);
	return (NULL);
}

void
tableset_hold(struct tableset *ts, struct table *t)
{
	struct ts_handle *h;

	pthread_mutex_lock(&ts->ts_mu);
	if ((h = handle_of(ts, t)) != NULL)
		h->h_refs++;
	pthread_mutex_unlock(&ts->ts_mu);
}

void
tableset_drop(struct tableset *ts, struct table *t)
{
	struct ts_handle *h;

	pthread_mutex_lock(&ts->ts_mu);
	if ((h = handle_of(ts, t)) != NULL && h->h_refs > 0)
		h->h_refs--;
	pthread_mutex_unlock(&ts->ts_mu);
}

/* Entry i's name leads elsewhere: attach to what is there now, if any. */
static void
follow(struct tableset *ts, size_t i)
{
	struct ts_entry	*en = &ts->ts_e[i];
	struct ts_handle *h;
	struct table	*t, *old;
	char		 e[512];

	if ((t = table_open(en->e_name, TABLE_RDWR, 0, ts->ts_mode, e,
	    sizeof(e))) == NULL) {
		if (!en->e_warned)
			log_warnx("table %s: %s: balancing over its last "
			    "backends until one is made under its name",
			    en->e_name, errno == ENOENT ? "removed" : e);
		en->e_warned = 1;
		return;
	}
	if (table_register(t, e, sizeof(e)) == -1 || handle_new(ts, t) == -1) {
		if (!en->e_warned)
			log_warnx("table %s: made again, but: %s", en->e_name,
			    e);
		en->e_warned = 1;
		table_close(t);
		return;
	}
	log_warnx("table %s was made again: following it", en->e_name);
	en->e_warned = 0;
	old = atomic_load(&en->e_cur);
	atomic_store_explicit(&en->e_cur, t, memory_order_release);
	pthread_mutex_lock(&ts->ts_mu);
	if ((h = handle_of(ts, old)) != NULL)
		h->h_retired = 1;
	pthread_mutex_unlock(&ts->ts_mu);
	atomic_fetch_add_explicit(&ts->ts_version, 1, memory_order_release);
}

void
tableset_tick(struct tableset *ts)
{
	struct ts_handle *h, **hp;
	struct table	*t;
	size_t		 i;
	int		 st;

	for (i = 0; i < ts->ts_n; i++) {
		t = atomic_load(&ts->ts_e[i].e_cur);
		/*
		 * Least connections and maxconn read the counts, which no
		 * reader corrects: take back what dead processes left.
		 */
		table_reclaim(t);
		if ((st = table_stale(t)) == 1)
			follow(ts, i);
		else if (st == 0)
			ts->ts_e[i].e_warned = 0;
	}
	/* Old handles that no worker holds any more. */
	pthread_mutex_lock(&ts->ts_mu);
	for (hp = &ts->ts_h; (h = *hp) != NULL; ) {
		if (h->h_retired && h->h_refs == 0) {
			*hp = h->h_next;
			table_close(h->h_t);
			free(h);
		} else
			hp = &h->h_next;
	}
	pthread_mutex_unlock(&ts->ts_mu);
}

void
tableset_free(struct tableset *ts)
{
	struct ts_handle *h;
	size_t		 i;

	if (ts == NULL)
		return;
	own_cleanup();
	ts_atexit = NULL;
	while ((h = ts->ts_h) != NULL) {
		ts->ts_h = h->h_next;
		table_close(h->h_t);
		free(h);
	}
	for (i = 0; i < tableset_count(ts); i++)
		free(ts->ts_e[i].e_name);
	free(ts->ts_e);
	pthread_mutex_destroy(&ts->ts_mu);
	free(ts);
}
