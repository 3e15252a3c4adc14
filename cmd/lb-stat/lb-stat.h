/* lb-stat: what its files share: columns, rows, samples and the source. */
#ifndef LB_STAT_H
#define LB_STAT_H

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "table.h"

enum fmt { FMT_AUTO, FMT_TSV, FMT_JSON, FMT_PROM };
enum kind { K_STR, K_NUM, K_RATE };

/* Every column any output has; cols[] in rows.c describes each. */
enum col_id {
	C_PXNAME, C_SVNAME, C_ADDR, C_ADMIN, C_HEALTH, C_WEIGHT, C_SHARE,
	C_SLIM, C_BCK, C_SCUR, C_STOT, C_ECON, C_BIN, C_BOUT, C_REQ_TOT,
	C_HRSP_1XX, C_HRSP_2XX, C_HRSP_3XX, C_HRSP_4XX, C_HRSP_5XX,
	C_HRSP_OTHER, C_CHECK_STATUS, C_CHECK_DURATION, C_LASTCHG,
	/* -w only */
	C_TIME, C_INTERVAL, C_RATE, C_REQ_RATE, C_BIN_RATE, C_BOUT_RATE,
	C_ECON_RATE, C_HRSP_5XX_RATE,
	NCOLS
};

struct col {
	const char	*name;
	enum kind	 kind;
	const char	*metric;		/* NULL: not exported */
	const char	*mtype;
	const char	*mlabel;		/* an extra label, or NULL */
	const char	*help;
};
extern const struct col cols[NCOLS];

/* Which columns an output shows, in its order. */
struct view {
	const enum col_id *vw_col;
	size_t		 vw_n;
};
extern const struct view view_show, view_rate;

/* One row: text for every column, numbers for metrics and rates. */
struct row {
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

/* Output options, set by main(); opt_mode: the -m a table is trusted up to. */
extern int	 opt_noheader;
extern enum fmt	 opt_fmt;
extern mode_t	 opt_mode;

/* rows.c */
void	 clean(char *dst, size_t len, const char *src);
void	 fill_row(struct table *t, const struct table_snap *s, uint32_t i,
	    struct row *r);
size_t	 fill_rows(struct table *t, const struct table_snap *s,
	    struct row *rows);
void	 print_header(FILE *fp, const struct view *vw);
void	 print_rows(FILE *fp, const struct view *vw, const struct row *rows,
	    size_t n, int header);
void	 print_prom(FILE *fp, const struct row *rows, size_t n);
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

/* watch.c, live.c, events.c, http.c: each runs until done; exit status */
int	 watch_lines(const char *name, uint64_t interval, long long count);
int	 live_run(const char *name, uint64_t interval, long long count);
int	 events_run(const char *name, uint64_t interval, long long count);
int	 http_serve(const char *name, const char *spec, int print_addr);

#endif
