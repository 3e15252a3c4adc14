/* rows: lb-stat's columns, and the rows every output is made of. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evloop.h"
#include "json.h"
#include "lb-stat.h"

/*
 * The columns.  Names follow HAProxy's CSV where it names the same
 * thing; metric names follow Prometheus.  Every output takes its names
 * from here, in the order of a view.
 */
const struct col cols[NCOLS] = {
	[C_PXNAME] = { "pxname", K_STR, NULL, NULL, NULL, NULL },
	[C_SVNAME] = { "svname", K_STR, NULL, NULL, NULL, NULL },
	[C_ADDR] = { "addr", K_STR, NULL, NULL, NULL, NULL },
	[C_ADMIN] = { "admin", K_STR, "lb_backend_admin_state", "gauge", NULL,
	    "Operator's state: 0 enabled, 1 drain, 2 maint." },
	[C_HEALTH] = { "health", K_STR, "lb_backend_health_state", "gauge",
	    NULL, "Checker's state: 0 unknown, 1 up, 2 down, 3 drain." },
	[C_WEIGHT] = { "weight", K_NUM, "lb_backend_weight", "gauge", NULL,
	    "Configured weight." },
	[C_SHARE] = { "share", K_NUM, "lb_backend_weight_share_ratio", "gauge",
	    NULL, "Share of the weight granted by the checker's agent." },
	[C_SLIM] = { "slim", K_NUM, "lb_backend_max_connections", "gauge",
	    NULL, "Connection limit, 0 for none." },
	[C_BCK] = { "bck", K_NUM, "lb_backend_backup", "gauge", NULL,
	    "1 when the backend serves only while no other can." },
	[C_SCUR] = { "scur", K_NUM, "lb_backend_active_connections", "gauge",
	    NULL, "Open connections." },
	[C_STOT] = { "stot", K_NUM, "lb_backend_connections_total", "counter",
	    NULL, "Connections made." },
	[C_ECON] = { "econ", K_NUM, "lb_backend_connect_failures_total",
	    "counter", NULL, "Failed connection attempts." },
	[C_BIN] = { "bin", K_NUM, "lb_backend_received_bytes_total", "counter",
	    NULL, "Bytes received from clients." },
	[C_BOUT] = { "bout", K_NUM, "lb_backend_sent_bytes_total", "counter",
	    NULL, "Bytes sent to clients." },
	[C_REQ_TOT] = { "req_tot", K_NUM, "lb_backend_http_requests_total",
	    "counter", NULL, "HTTP requests." },
	[C_HRSP_1XX] = { "hrsp_1xx", K_NUM, "lb_backend_http_responses_total",
	    "counter", "code=\"1xx\"", "HTTP responses by status class." },
	[C_HRSP_2XX] = { "hrsp_2xx", K_NUM, "lb_backend_http_responses_total",
	    "counter", "code=\"2xx\"", NULL },
	[C_HRSP_3XX] = { "hrsp_3xx", K_NUM, "lb_backend_http_responses_total",
	    "counter", "code=\"3xx\"", NULL },
	[C_HRSP_4XX] = { "hrsp_4xx", K_NUM, "lb_backend_http_responses_total",
	    "counter", "code=\"4xx\"", NULL },
	[C_HRSP_5XX] = { "hrsp_5xx", K_NUM, "lb_backend_http_responses_total",
	    "counter", "code=\"5xx\"", NULL },
	[C_HRSP_OTHER] = { "hrsp_other", K_NUM,
	    "lb_backend_http_responses_total", "counter", "code=\"other\"",
	    NULL },
	[C_CHECK_STATUS] = { "check_status", K_STR, NULL, NULL, NULL, NULL },
	[C_CHECK_DURATION] = { "check_duration", K_NUM,
	    "lb_backend_check_duration_seconds", "gauge", NULL,
	    "Latency of the last health check." },
	[C_LASTCHG] = { "lastchg", K_NUM, "lb_backend_state_change_seconds",
	    "gauge", NULL,
	    "Seconds since the admin or health state last changed." },
	[C_TIME] = { "time", K_STR, NULL, NULL, NULL, NULL },
	[C_INTERVAL] = { "interval", K_NUM, NULL, NULL, NULL, NULL },
	[C_RATE] = { "rate", K_RATE, NULL, NULL, NULL, NULL },
	[C_REQ_RATE] = { "req_rate", K_RATE, NULL, NULL, NULL, NULL },
	[C_BIN_RATE] = { "bin_rate", K_RATE, NULL, NULL, NULL, NULL },
	[C_BOUT_RATE] = { "bout_rate", K_RATE, NULL, NULL, NULL, NULL },
	[C_ECON_RATE] = { "econ_rate", K_RATE, NULL, NULL, NULL, NULL },
	[C_HRSP_5XX_RATE] = { "hrsp_5xx_rate", K_RATE, NULL, NULL, NULL,
	    NULL },
};

static const enum col_id show_cols[] = { C_PXNAME, C_SVNAME, C_ADDR,
    C_ADMIN, C_HEALTH, C_WEIGHT, C_SHARE, C_SLIM, C_BCK, C_SCUR, C_STOT,
    C_ECON, C_BIN, C_BOUT, C_REQ_TOT, C_HRSP_1XX, C_HRSP_2XX, C_HRSP_3XX,
    C_HRSP_4XX, C_HRSP_5XX, C_HRSP_OTHER, C_CHECK_STATUS, C_CHECK_DURATION,
    C_LASTCHG };
static const enum col_id rate_cols[] = { C_TIME, C_INTERVAL, C_PXNAME,
    C_SVNAME, C_ADMIN, C_HEALTH, C_WEIGHT, C_SCUR, C_RATE, C_REQ_RATE,
    C_BIN_RATE, C_BOUT_RATE, C_ECON_RATE, C_HRSP_5XX_RATE };

const struct view view_show = { show_cols,
    sizeof(show_cols) / sizeof(show_cols[0]) };
const struct view view_rate = { rate_cols,
    sizeof(rate_cols) / sizeof(rate_cols[0]) };

int	 opt_noheader;
enum fmt opt_fmt = FMT_AUTO;
mode_t	 opt_mode;

/* Print s as a Prometheus label value. */
static void
prom_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(fp, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

/* Untrusted text from the table: only printable ASCII, no tabs. */
void
clean(char *dst, size_t len, const char *src)
{
	size_t	 i;

	for (i = 0; i + 1 < len && src[i]; i++)
		dst[i] = (src[i] > 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

static void
setnum(struct row *r, int c, uint64_t v)
{
	snprintf(r->v[c], sizeof(r->v[c]), "%" PRIu64, v);
	r->metric[c] = (double)v;
}

static uint64_t
ld(_Atomic uint64_t *p)
{
	return (atomic_load_explicit(p, memory_order_relaxed));
}

void
fill_row(struct table *t, const struct table_snap *s, uint32_t i,
    struct row *r)
{
	const struct table_backend *be = &s->sn_be[i];
	struct table_counters *c = table_counters(t, i);
	struct table_check ck;
	uint64_t	 now = table_now_ms(), since;
	int		 k;

	memset(r, 0, sizeof(*r));
	r->slot = i;
	r->uid = be->be_uid;
	clean(r->v[C_PXNAME], sizeof(r->v[0]), table_name(t));
	clean(r->v[C_SVNAME], sizeof(r->v[0]), be->be_name);
	clean(r->v[C_ADDR], sizeof(r->v[0]), be->be_addr);
	snprintf(r->v[C_ADMIN], sizeof(r->v[0]), "%s",
	    table_admin_str(be->be_admin));
	r->metric[C_ADMIN] = be->be_admin;
	snprintf(r->v[C_HEALTH], sizeof(r->v[0]), "%s",
	    table_health_str(be->be_health));
	r->metric[C_HEALTH] = be->be_health;
	setnum(r, C_WEIGHT, be->be_weight);
	setnum(r, C_SHARE, be->be_share);
	r->metric[C_SHARE] = be->be_share / 100.0;
	setnum(r, C_SLIM, be->be_maxconn);
	setnum(r, C_BCK, be->be_backup);
	setnum(r, C_SCUR, (uint64_t)table_active(t, s, i));
	setnum(r, C_STOT, ld(&c->c_total));
	setnum(r, C_ECON, ld(&c->c_fail));
	setnum(r, C_BIN, ld(&c->c_bytes_in));
	setnum(r, C_BOUT, ld(&c->c_bytes_out));
	setnum(r, C_REQ_TOT, ld(&c->c_requests));
	for (k = 0; k < 6; k++)
		setnum(r, C_HRSP_1XX + k, ld(&c->c_status[k]));
	if (table_check_get(t, i, &ck) == 0 && ck.ck_time != 0) {
		clean(r->v[C_CHECK_STATUS], sizeof(r->v[0]), ck.ck_result);
		if (r->v[C_CHECK_STATUS][0] == '\0')
			snprintf(r->v[C_CHECK_STATUS], sizeof(r->v[0]), "?");
		setnum(r, C_CHECK_DURATION, ck.ck_ms);
		r->metric[C_CHECK_DURATION] = ck.ck_ms / 1000.0;
	} else {
		r->null[C_CHECK_STATUS] = r->null[C_CHECK_DURATION] = 1;
		snprintf(r->v[C_CHECK_STATUS], sizeof(r->v[0]), "-");
		snprintf(r->v[C_CHECK_DURATION], sizeof(r->v[0]), "-");
	}
	since = be->be_admin_since > be->be_health_since ?
	    be->be_admin_since : be->be_health_since;
	setnum(r, C_LASTCHG, now > since ? (now - since) / 1000 : 0);
}

/* A row for each backend in s, in slot order; returns how many. */
size_t
fill_rows(struct table *t, const struct table_snap *s, struct row *rows)
{
	size_t		 n = 0;
	uint32_t	 i;

	for (i = 0; i < s->sn_n && n < s->sn_count; i++)
		if (s->sn_be[i].be_uid != 0)
			fill_row(t, s, i, &rows[n++]);
	return (n);
}

/* The counters of slot i, for the backend of incarnation uid. */
void
sample_read(struct table *t, uint32_t i, uint64_t uid, struct sample *sa)
{
	struct table_counters *c = table_counters(t, i);

	sa->sa_uid = uid;
	sa->sa_v[CT_TOTAL] = ld(&c->c_total);
	sa->sa_v[CT_FAIL] = ld(&c->c_fail);
	sa->sa_v[CT_BIN] = ld(&c->c_bytes_in);
	sa->sa_v[CT_BOUT] = ld(&c->c_bytes_out);
	sa->sa_v[CT_REQ] = ld(&c->c_requests);
	sa->sa_v[CT_5XX] = ld(&c->c_status[4]);
}

/*
 * The rate columns of r from two samples secs apart.  Another backend
 * in the slot, or a counter that went back (a table made again), is a
 * restart: every rate of that interval is 0, never negative.
 */
void
set_rates(struct row *r, const struct sample *prev, const struct sample *now,
    double secs)
{
	static const struct {
		enum col_id	 c;
		enum ctr	 k;
	} map[] = { { C_RATE, CT_TOTAL }, { C_REQ_RATE, CT_REQ },
	    { C_BIN_RATE, CT_BIN }, { C_BOUT_RATE, CT_BOUT },
	    { C_ECON_RATE, CT_FAIL }, { C_HRSP_5XX_RATE, CT_5XX } };
	size_t		 i;
	int		 restart;

	restart = prev == NULL || prev->sa_uid != now->sa_uid || secs <= 0;
	for (i = 0; !restart && i < NCTR; i++)
		if (now->sa_v[i] < prev->sa_v[i])
			restart = 1;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		r->metric[map[i].c] = restart ? 0 :
		    (double)(now->sa_v[map[i].k] - prev->sa_v[map[i].k]) / secs;
		snprintf(r->v[map[i].c], sizeof(r->v[0]), "%.2f",
		    r->metric[map[i].c]);
	}
	r->metric[C_INTERVAL] = secs;
	snprintf(r->v[C_INTERVAL], sizeof(r->v[0]), "%.3f", secs);
}

/* ms since the epoch as ISO 8601 UTC with milliseconds. */
void
fmt_time(char *buf, size_t len, uint64_t ms)
{
	struct tm	 tm;
	time_t		 s = (time_t)(ms / 1000);
	char		 t[32];

	gmtime_r(&s, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", t, (unsigned)(ms % 1000));
}

static int
numeric(enum col_id c)
{
	return (cols[c].kind != K_STR);
}

static void
print_aligned(FILE *fp, const struct view *vw, const struct row *rows,
    size_t n, int header)
{
	size_t	 w[NCOLS], i, k, l;
	enum col_id c;

	for (k = 0; k < vw->vw_n; k++) {
		c = vw->vw_col[k];
		w[k] = strlen(cols[c].name);
		for (i = 0; i < n; i++)
			if ((l = strlen(rows[i].v[c])) > w[k])
				w[k] = l;
	}
	if (header)
		for (k = 0; k < vw->vw_n; k++)
			fprintf(fp, numeric(vw->vw_col[k]) ? "%*s%s" : "%-*s%s",
			    (int)w[k], cols[vw->vw_col[k]].name,
			    k + 1 < vw->vw_n ? "  " : "\n");
	for (i = 0; i < n; i++)
		for (k = 0; k < vw->vw_n; k++)
			fprintf(fp, numeric(vw->vw_col[k]) ? "%*s%s" : "%-*s%s",
			    (int)w[k], rows[i].v[vw->vw_col[k]],
			    k + 1 < vw->vw_n ? "  " : "\n");
}

/* The TSV header: "# " and the names, tab-separated. */
void
print_header(FILE *fp, const struct view *vw)
{
	size_t	 k;

	for (k = 0; k < vw->vw_n; k++)
		fprintf(fp, "%s%s", k ? "\t" : "# ", cols[vw->vw_col[k]].name);
	fputc('\n', fp);
}

static void
print_tsv(FILE *fp, const struct view *vw, const struct row *rows, size_t n,
    int header)
{
	size_t	 i, k;

	if (header)
		print_header(fp, vw);
	for (i = 0; i < n; i++)
		for (k = 0; k < vw->vw_n; k++)
			fprintf(fp, "%s%s", rows[i].v[vw->vw_col[k]],
			    k + 1 < vw->vw_n ? "\t" : "\n");
}

static void
print_json(FILE *fp, const struct view *vw, const struct row *rows, size_t n)
{
	size_t	 i, k;
	enum col_id c;

	for (i = 0; i < n; i++) {
		fputc('{', fp);
		for (k = 0; k < vw->vw_n; k++) {
			c = vw->vw_col[k];
			if (k)
				fputc(',', fp);
			json_str(fp, cols[c].name);
			fputc(':', fp);
			if (rows[i].null[c])
				fputs("null", fp);
			else if (numeric(c))
				fputs(rows[i].v[c], fp);
			else
				json_str(fp, rows[i].v[c]);
		}
		fputs("}\n", fp);
	}
}

/* Rows in the format of opt_fmt (not Prometheus: see print_prom()). */
void
print_rows(FILE *fp, const struct view *vw, const struct row *rows, size_t n,
    int header)
{
	switch (opt_fmt) {
	case FMT_AUTO:
		print_aligned(fp, vw, rows, n, header);
		break;
	case FMT_JSON:
		print_json(fp, vw, rows, n);
		break;
	default:
		print_tsv(fp, vw, rows, n, header);
		break;
	}
}

/* The text exposition format: one family per exported column. */
void
print_prom(FILE *fp, const struct row *rows, size_t n)
{
	size_t	 i, c;

	for (c = 0; c < NCOLS; c++) {
		if (cols[c].metric == NULL)
			continue;
		if (cols[c].help != NULL)
			fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n",
			    cols[c].metric, cols[c].help, cols[c].metric,
			    cols[c].mtype);
		for (i = 0; i < n; i++) {
			if (rows[i].null[c])
				continue;
			fprintf(fp, "%s{table=", cols[c].metric);
			prom_str(fp, rows[i].v[C_PXNAME]);
			fputs(",backend=", fp);
			prom_str(fp, rows[i].v[C_SVNAME]);
			if (cols[c].mlabel != NULL)
				fprintf(fp, ",%s", cols[c].mlabel);
			fprintf(fp, "} %.15g\n", rows[i].metric[c]);
		}
	}
}

int
src_open(struct src *sr, const char *name, char *err, size_t errlen)
{
	memset(sr, 0, sizeof(*sr));
	sr->sr_name = name;
	if ((sr->sr_t = table_open(name, TABLE_RDONLY, 0, opt_mode, err,
	    errlen)) == NULL)
		return (-1);
	if (table_snapshot(sr->sr_t, &sr->sr_snap, err, errlen) == -1) {
		src_close(sr);
		return (-1);
	}
	sr->sr_gen = sr->sr_snap.sn_gen;
	return (0);
}

/*
 * See whether the table is still there, attach to a new one made under
 * its name, and take a new snapshot when the generation moved (or
 * always).  SRC_GONE leaves sr closed, with the reason in err.
 */
enum src_state
src_refresh(struct src *sr, int always, char *err, size_t errlen)
{
	struct table	*t;
	enum src_state	 st = SRC_SAME;
	int		 stale;

	if ((stale = table_stale(sr->sr_t)) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto gone;
	}
	if (stale) {
		if ((t = table_open(sr->sr_name, TABLE_RDONLY, 0, opt_mode,
		    err, errlen)) == NULL) {
			if (errno == ENOENT)
				snprintf(err, errlen, "the table was removed");
			goto gone;
		}
		table_close(sr->sr_t);
		sr->sr_t = t;
		st = SRC_NEW;
		always = 1;
	}
	if (always || table_generation(sr->sr_t) != sr->sr_gen) {
		if (table_snapshot(sr->sr_t, &sr->sr_snap, err, errlen) == -1)
			goto gone;
		sr->sr_gen = sr->sr_snap.sn_gen;
	}
	return (st);
 gone:
	src_close(sr);
	return (SRC_GONE);
}

void
src_close(struct src *sr)
{
	table_snap_free(&sr->sr_snap);
	memset(&sr->sr_snap, 0, sizeof(sr->sr_snap));
	table_close(sr->sr_t);
	sr->sr_t = NULL;
}

/* Room for the table's capacity; a new table's samples start afresh. */
static int
rater_resize(struct rater *ra)
{
	uint32_t	 cap = table_capacity(ra->ra_src.sr_t);

	if (cap != ra->ra_cap) {
		free(ra->ra_prev);
		free(ra->ra_cur);
		free(ra->ra_rows);
		ra->ra_prev = calloc(cap, sizeof(*ra->ra_prev));
		ra->ra_cur = calloc(cap, sizeof(*ra->ra_cur));
		ra->ra_rows = calloc(cap, sizeof(*ra->ra_rows));
		ra->ra_cap = cap;
		if (ra->ra_prev == NULL || ra->ra_cur == NULL ||
		    ra->ra_rows == NULL)
			return (-1);
	} else
		memset(ra->ra_prev, 0, cap * sizeof(*ra->ra_prev));
	return (0);
}

/* Sample every backend into ra_cur, and make the rows of the rates. */
static void
rater_fill(struct rater *ra)
{
	const struct table_snap *s = &ra->ra_src.sr_snap;
	struct sample	*tmp;
	char		 ts[40];
	uint64_t	 now = evloop_clock();
	double		 secs = (double)(now - ra->ra_at) / 1000.0;
	uint32_t	 i;
	size_t		 k;

	memset(ra->ra_cur, 0, ra->ra_cap * sizeof(*ra->ra_cur));
	for (i = 0; i < s->sn_n && i < ra->ra_cap; i++)
		if (s->sn_be[i].be_uid != 0)
			sample_read(ra->ra_src.sr_t, i, s->sn_be[i].be_uid,
			    &ra->ra_cur[i]);
	ra->ra_n = fill_rows(ra->ra_src.sr_t, s, ra->ra_rows);
	fmt_time(ts, sizeof(ts), table_now_ms());
	for (k = 0; k < ra->ra_n; k++) {
		struct row *r = &ra->ra_rows[k];

		set_rates(r, ra->ra_prev[r->slot].sa_uid ?
		    &ra->ra_prev[r->slot] : NULL, &ra->ra_cur[r->slot], secs);
		strlcpy(r->v[C_TIME], ts, sizeof(r->v[C_TIME]));
	}
	tmp = ra->ra_prev;
	ra->ra_prev = ra->ra_cur;
	ra->ra_cur = tmp;
	ra->ra_at = now;
}

int
rater_open(struct rater *ra, const char *name, char *err, size_t errlen)
{
	memset(ra, 0, sizeof(*ra));
	if (src_open(&ra->ra_src, name, err, errlen) == -1)
		return (-1);
	if (rater_resize(ra) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		rater_close(ra);
		return (-1);
	}
	ra->ra_at = evloop_clock();
	rater_fill(ra);
	return (0);
}

enum src_state
rater_next(struct rater *ra, char *err, size_t errlen)
{
	enum src_state	 st;

	st = src_refresh(&ra->ra_src, 1, err, errlen);
	if (st == SRC_NEW && rater_resize(ra) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		src_close(&ra->ra_src);
		return (SRC_GONE);
	}
	if (st != SRC_GONE)
		rater_fill(ra);
	return (st);
}

void
rater_close(struct rater *ra)
{
	if (ra->ra_src.sr_t != NULL)
		src_close(&ra->ra_src);
	free(ra->ra_prev);
	free(ra->ra_cur);
	free(ra->ra_rows);
	ra->ra_prev = ra->ra_cur = NULL;
	ra->ra_rows = NULL;
}
