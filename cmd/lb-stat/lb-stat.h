/* lb-stat: what its files share: columns, rows, samples and the source. */
#ifndef LB_STAT_H
#define LB_STAT_H

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>

#include "cols.h"
#include "json.h"
#include "table.h"

enum fmt { FMT_AUTO, FMT_TSV, FMT_JSON, FMT_PROM };
enum kind { K_STR, K_NUM, K_RATE };

/*
 * Every column a backend row has, in the order of the long view; the
 * words are those of VOCABULARY in lb-table(5).  cols[] in rows.c
 * describes each.
 */
enum col_id {
	C_TABLE, C_BACKEND, C_ADDR, C_ADMIN, C_HEALTH, C_WEIGHT, C_SHARE,
	C_MAXCONN, C_BACKUP, C_ACTIVE, C_TOTAL, C_FAIL, C_FAIL_RUN,
	C_BYTES_IN, C_BYTES_OUT, C_REQUESTS, C_STATUS_1XX, C_STATUS_2XX,
	C_STATUS_3XX, C_STATUS_4XX, C_STATUS_5XX, C_STATUS_OTHER, C_CHECK,
	C_CHECK_MS, C_CHANGED,
	/* -w only */
	C_TIME, C_INTERVAL, C_TOTAL_RATE, C_REQUESTS_RATE, C_BYTES_IN_RATE,
	C_BYTES_OUT_RATE, C_FAIL_RATE, C_STATUS_5XX_RATE,
	NCOLS
};
#define NSHOW	(C_CHANGED + 1)		/* the columns of a backend row */

struct col {
	const char	*name;
	enum kind	 kind;
	const char	*haproxy;		/* HAProxy's CSV name, or NULL */
	const char	*metric;		/* NULL: not exported as itself */
	const char	*mtype;
	const char	*mlabel;		/* an extra label, or NULL */
	const char	*help;
};
extern const struct col cols[NCOLS];
extern struct cols_field colf[NCOLS];	/* the same, for cols_parse() */

/* One row: text for every column, numbers for metrics and rates. */
struct row {
	const char	*table;			/* its table's name, as given */
	char		 v[NCOLS][TABLE_ADDR_MAX + 8];
	int		 null[NCOLS];		/* no value: "-", null */
	double		 metric[NCOLS];
	uint32_t	 slot;
	uint64_t	 uid;
};

/* The counters a rate is made of, in one slot at one moment. */
enum ctr { CT_TOTAL, CT_FAIL, CT_BIN, CT_BOUT, CT_REQ, CT_5XX, NCTR };
struct sample {
	uint64_t	 sa_uid;		/* 0: none */
	uint64_t	 sa_v[NCTR];
};

/*
 * A watched table: attached, with its latest snapshot, and able to
 * tell when its name was removed or taken by a new table.
 */
struct src {
	const char	*sr_name;
	struct table	*sr_t;
	struct table_snap sr_snap;
	uint64_t	 sr_gen;
};
enum src_state { SRC_SAME, SRC_NEW, SRC_GONE };

/*
 * A table sampled at intervals: each rater_next() fills ra_rows with
 * the rates since the call before (0 at first, and after a restart).
 */
struct rater {
	struct src	 ra_src;
	struct sample	*ra_prev, *ra_cur;	/* by slot; ra_cap entries */
	uint32_t	 ra_cap;
	struct row	*ra_rows;
	size_t		 ra_n;
	uint64_t	 ra_at;			/* monotonic ms of ra_prev */
};

/*
 * Rows of any view for out_rows(): n of them, whose values vals() fills
 * (those of the fields selected, at least) for row i of arg.
 */
struct out {
	const struct cols *o_cols;
	void		(*o_vals)(const void *arg, size_t i,
			    struct cols_val *v);
	const void	*o_arg;
	size_t		 o_n;
};

/* The tables of one Prometheus exposition, and all their rows. */
struct ptab {
	char		*pt_name;
	uint32_t	 pt_slots, pt_backends, pt_procs;
	int64_t		 pt_queued;
};
struct promset {
	struct row	*ps_rows;
	size_t		 ps_n, ps_cap;
	struct ptab	*ps_tab;
	size_t		 ps_ntab, ps_tcap;
};

/* Output options, set by main(); opt_mode: the -m a table is trusted up to. */
extern int	 opt_noheader;
extern enum fmt	 opt_fmt;
extern struct cols opt_cols;		/* the fields of the view */
extern mode_t	 opt_mode;

/* rows.c */
void	 cols_init(void);
void	 fill_row(struct table *t, const struct table_snap *s, uint32_t i,
	    struct row *r);
size_t	 fill_rows(struct table *t, const struct table_snap *s,
	    struct row *rows);
void	 row_vals(const void *rows, size_t i, struct cols_val *v);
/* Rows in the format of opt_fmt (not Prometheus): aligned, TSV, JSON. */
void	 out_rows(FILE *fp, const struct out *o, int header);
void	 print_rows(FILE *fp, const struct row *rows, size_t n, int header);
int	 promset_add(struct promset *ps, struct table *t,
	    const struct table_snap *s);
void	 promset_clear(struct promset *ps);
void	 promset_free(struct promset *ps);
void	 print_prom(FILE *fp, const struct promset *ps);
void	 fmt_time(char *buf, size_t len, uint64_t ms);
void	 sample_read(struct table *t, uint32_t i, uint64_t uid,
	    struct sample *sa);
void	 set_rates(struct row *r, const struct sample *prev,
	    const struct sample *now, double secs);
int	 src_open(struct src *sr, const char *name, char *err, size_t errlen);
enum src_state src_refresh(struct src *sr, int always, char *err,
	    size_t errlen);
void	 src_close(struct src *sr);
int	 rater_open(struct rater *ra, const char *name, char *err,
	    size_t errlen);
enum src_state rater_next(struct rater *ra, char *err, size_t errlen);
void	 rater_close(struct rater *ra);

/* lb-stat.c */
struct evloop;
/* A sig_watch() handler that stops the loop: TERM and INT, in most views. */
void	 sig_stop(struct evloop *ev, int signo);
int	 sig_watch(struct evloop *ev, const int *signo, size_t n,
	    void (*fn)(struct evloop *ev, int signo));
void	 stdout_watch(struct evloop *ev);
/*
 * Every table on the machine into ps, those that cannot be read said on
 * the standard error once each (quiet: never); returns how many failed.
 */
int	 prom_all(struct promset *ps, int quiet);

/* events.c: the fields of -e, for -o */
extern const struct cols_field evfields[];
extern const size_t nevfields;

/* watch.c, live.c, events.c, http.c: each runs until done; exit status */
int	 watch_lines(const char *name, uint64_t interval, long long count);
int	 live_run(const char *name, uint64_t interval, long long count);
int	 events_run(const char *name, uint64_t interval, long long count);
int	 http_serve(const char *name, const char *spec, int print_addr);

#endif
