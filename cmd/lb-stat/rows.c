/* rows: lb-stat's columns, and the rows every output is made of. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esc.h"
#include "evloop.h"
#include "json.h"
#include "lb-stat.h"

/*
 * The columns: the words of VOCABULARY in lb-table(5), each with the
 * name HAProxy's CSV gives the same thing, and its Prometheus family.
 * Every output takes its names from here.
 */
const struct col cols[NCOLS] = {
	[C_TABLE] = { "table", K_STR, "pxname", NULL, NULL, NULL, NULL },
	[C_BACKEND] = { "backend", K_STR, "svname", NULL, NULL, NULL, NULL },
	[C_ADDR] = { "addr", K_STR, "addr", NULL, NULL, NULL, NULL },
	[C_ADMIN] = { "admin", K_STR, "status", "lb_backend_admin", "gauge",
	    NULL, "Operator's state: 0 enabled, 1 drain, 2 maint." },
	[C_HEALTH] = { "health", K_STR, "status", "lb_backend_health",
	    "gauge", NULL,
	    "Checker's state: 0 unknown, 1 up, 2 down, 3 drain." },
	[C_WEIGHT] = { "weight", K_NUM, "uweight", "lb_backend_weight",
	    "gauge", NULL, "Configured weight." },
	[C_SHARE] = { "share", K_NUM, NULL, "lb_backend_share_ratio", "gauge",
	    NULL, "Share of the weight granted by the checker's agent." },
	[C_MAXCONN] = { "maxconn", K_NUM, "slim", "lb_backend_maxconn",
	    "gauge", NULL, "Connection limit, 0 for none." },
	[C_BACKUP] = { "backup", K_NUM, "bck", "lb_backend_backup", "gauge",
	    NULL, "1 when the backend serves only while no other can." },
	[C_ACTIVE] = { "active", K_NUM, "scur", "lb_backend_active", "gauge",
	    NULL, "Open connections." },
	[C_TOTAL] = { "total", K_NUM, "stot", "lb_backend_total", "counter",
	    NULL, "Connections made." },
	[C_FAIL] = { "fail", K_NUM, "econ", "lb_backend_fail_total",
	    "counter", NULL, "Failed connects." },
	[C_FAIL_RUN] = { "fail_run", K_NUM, NULL, "lb_backend_fail_run",
	    "gauge", NULL, "Failed connects in a row, until one succeeds." },
	[C_BYTES_IN] = { "bytes_in", K_NUM, "bin", "lb_backend_bytes_in_total",
	    "counter", NULL, "Bytes received from clients." },
	[C_BYTES_OUT] = { "bytes_out", K_NUM, "bout",
	    "lb_backend_bytes_out_total", "counter", NULL,
	    "Bytes sent to clients." },
	[C_REQUESTS] = { "requests", K_NUM, "req_tot",
	    "lb_backend_requests_total", "counter", NULL, "HTTP requests." },
	[C_STATUS_1XX] = { "status_1xx", K_NUM, "hrsp_1xx",
	    "lb_backend_responses_total", "counter", "status=\"1xx\"",
	    "HTTP responses by status class." },
	[C_STATUS_2XX] = { "status_2xx", K_NUM, "hrsp_2xx",
	    "lb_backend_responses_total", "counter", "status=\"2xx\"", NULL },
	[C_STATUS_3XX] = { "status_3xx", K_NUM, "hrsp_3xx",
	    "lb_backend_responses_total", "counter", "status=\"3xx\"", NULL },
	[C_STATUS_4XX] = { "status_4xx", K_NUM, "hrsp_4xx",
	    "lb_backend_responses_total", "counter", "status=\"4xx\"", NULL },
	[C_STATUS_5XX] = { "status_5xx", K_NUM, "hrsp_5xx",
	    "lb_backend_responses_total", "counter", "status=\"5xx\"", NULL },
	[C_STATUS_OTHER] = { "status_other", K_NUM, "hrsp_other",
	    "lb_backend_responses_total", "counter", "status=\"other\"",
	    NULL },
	/* exported by print_prom() itself, as a label */
	[C_CHECK] = { "check", K_STR, "check_status", NULL, NULL, NULL, NULL },
	[C_CHECK_MS] = { "check_ms", K_NUM, "check_duration",
	    "lb_backend_check_seconds", "gauge", NULL,
	    "Latency of the last health check." },
	[C_CHANGED] = { "changed", K_STR, "lastchg",
	    "lb_backend_state_changed_timestamp_seconds", "gauge", NULL,
	    "When the admin or health state last changed." },
	[C_TIME] = { "time", K_STR, NULL, NULL, NULL, NULL, NULL },
	[C_INTERVAL] = { "interval", K_NUM, NULL, NULL, NULL, NULL, NULL },
	[C_TOTAL_RATE] = { "total_rate", K_RATE, "rate", NULL, NULL, NULL,
	    NULL },
	[C_REQUESTS_RATE] = { "requests_rate", K_RATE, "req_rate", NULL, NULL,
	    NULL, NULL },
	[C_BYTES_IN_RATE] = { "bytes_in_rate", K_RATE, NULL, NULL, NULL, NULL,
	    NULL },
	[C_BYTES_OUT_RATE] = { "bytes_out_rate", K_RATE, NULL, NULL, NULL,
	    NULL, NULL },
	[C_FAIL_RATE] = { "fail_rate", K_RATE, NULL, NULL, NULL, NULL, NULL },
	[C_STATUS_5XX_RATE] = { "status_5xx_rate", K_RATE, NULL, NULL, NULL,
	    NULL, NULL },
};

struct cols_field colf[NCOLS];

int	 opt_noheader;
enum fmt opt_fmt = FMT_AUTO;
mode_t	 opt_mode;
struct cols opt_cols;

/* The fields of cols[] for cols_parse(): once, before any output. */
void
cols_init(void)
{
	size_t	 c;

	for (c = 0; c < NCOLS; c++) {
		colf[c].cf_name = cols[c].name;
		colf[c].cf_kind = cols[c].kind == K_STR ? COLS_TEXT : COLS_NUM;
	}
}

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

static void
setnum(struct row *r, int c, uint64_t v)
{
	snprintf(r->v[c], sizeof(r->v[c]), "%" PRIu64, v);
	r->metric[c] = (double)v;
}

static void
setnull(struct row *r, int c)
{
	r->null[c] = 1;
	snprintf(r->v[c], sizeof(r->v[c]), "-");
}

static uint64_t
ld(_Atomic uint64_t *p)
{
	return (atomic_load_explicit(p, memory_order_relaxed));
}

/*
 * Text is kept as the table holds it (bounded, NUL-terminated by the
 * snapshot) and escaped by each output as it needs.
 */
void
fill_row(struct table *t, const struct table_snap *s, uint32_t i,
    struct row *r)
{
	const struct table_backend *be = &s->sn_be[i];
	struct table_counters *c = table_counters(t, i);
	struct table_check ck;
	uint64_t	 since;
	int		 k;

	memset(r, 0, sizeof(*r));
	r->slot = i;
	r->uid = be->be_uid;
	r->table = table_name(t);
	strlcpy(r->v[C_TABLE], r->table, sizeof(r->v[0]));
	strlcpy(r->v[C_BACKEND], be->be_name, sizeof(r->v[0]));
	strlcpy(r->v[C_ADDR], be->be_addr, sizeof(r->v[0]));
	snprintf(r->v[C_ADMIN], sizeof(r->v[0]), "%s",
	    table_admin_str(be->be_admin));
	r->metric[C_ADMIN] = be->be_admin;
	snprintf(r->v[C_HEALTH], sizeof(r->v[0]), "%s",
	    table_health_str(be->be_health));
	r->metric[C_HEALTH] = be->be_health;
	setnum(r, C_WEIGHT, be->be_weight);
	setnum(r, C_SHARE, be->be_share);
	r->metric[C_SHARE] = be->be_share / 100.0;
	setnum(r, C_MAXCONN, be->be_maxconn);
	setnum(r, C_BACKUP, be->be_backup);
	setnum(r, C_ACTIVE, (uint64_t)table_active(t, s, i));
	setnum(r, C_TOTAL, ld(&c->c_total));
	setnum(r, C_FAIL, ld(&c->c_fail));
	setnum(r, C_FAIL_RUN, ld(&c->c_consec_fail));
	setnum(r, C_BYTES_IN, ld(&c->c_bytes_in));
	setnum(r, C_BYTES_OUT, ld(&c->c_bytes_out));
	setnum(r, C_REQUESTS, ld(&c->c_requests));
	for (k = 0; k < 6; k++)
		setnum(r, C_STATUS_1XX + k, ld(&c->c_status[k]));
	/*
	 * A result from before the health was last made unknown (a new
	 * address: lb-ctl set addr=, or a sync) was about the old
	 * address: it is not shown.  So is an empty one.
	 */
	if (table_check_get(t, i, &ck) == 0 && ck.ck_time != 0 &&
	    ck.ck_result[0] != '\0' && !(be->be_health ==
	    TABLE_HEALTH_UNKNOWN && ck.ck_time < be->be_health_since)) {
		ck.ck_result[sizeof(ck.ck_result) - 1] = '\0';
		strlcpy(r->v[C_CHECK], ck.ck_result, sizeof(r->v[0]));
		setnum(r, C_CHECK_MS, ck.ck_ms);
		r->metric[C_CHECK_MS] = ck.ck_ms / 1000.0;
	} else {
		setnull(r, C_CHECK);
		setnull(r, C_CHECK_MS);
	}
	since = be->be_admin_since > be->be_health_since ?
	    be->be_admin_since : be->be_health_since;
	/* Another process's clock, or garbage: never a time to come. */
	if (since > table_now_ms())
		since = table_now_ms();
	if (since != 0) {
		fmt_time(r->v[C_CHANGED], sizeof(r->v[0]), since);
		r->metric[C_CHANGED] = since / 1000.0;
	} else
		setnull(r, C_CHANGED);
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

/* The values of row i of rows, for out_rows(). */
void
row_vals(const void *rows, size_t i, struct cols_val *v)
{
	const struct row *r = (const struct row *)rows + i;
	size_t		 c;

	for (c = 0; c < NCOLS; c++) {
		if (!cols_has(&opt_cols, c))
			continue;
		if (r->null[c])
			cols_null(&v[c]);
		else if (c == C_TABLE)
			cols_text(&v[c], r->table, strlen(r->table));
		else
			cols_text(&v[c], r->v[c], strlen(r->v[c]));
	}
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
	} map[] = { { C_TOTAL_RATE, CT_TOTAL }, { C_REQUESTS_RATE, CT_REQ },
	    { C_BYTES_IN_RATE, CT_BIN }, { C_BYTES_OUT_RATE, CT_BOUT },
	    { C_FAIL_RATE, CT_FAIL }, { C_STATUS_5XX_RATE, CT_5XX } };
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

/* The text a person sees of a value: escaped as TSV, "-" for none. */
static const char *
cell(const struct cols_val *x, char *buf, size_t len)
{
	if (x->cv_s == NULL && x->cv_null)
		return ("-");
	if (x->cv_s == NULL) {
		snprintf(buf, len, "%" PRIu64, x->cv_n);
		return (buf);
	}
	if (x->cv_len == 0)
		return ("-");
	if (esc_tsv(buf, len, x->cv_s, x->cv_len) < 0)
		snprintf(buf, len, "?");
	return (buf);
}

/*
 * Columns aligned under their names, numbers to the right, a space
 * between: for a person.  The width of each is that of its longest.
 */
static void
print_aligned(FILE *fp, const struct out *o, int header)
{
	const struct cols *c = o->o_cols;
	struct cols_val	 v[COLS_MAX];
	size_t		 w[COLS_MAX], i, k, l;
	char		 buf[4 * TABLE_ADDR_MAX + 8];
	const char	*s;
	int		 num;

	if (c->cs_n == 0)
		return;
	memset(v, 0, sizeof(v));
	for (k = 0; k < c->cs_n; k++)
		w[k] = header ? strlen(c->cs_f[c->cs_sel[k]].cf_name) : 1;
	for (i = 0; i < o->o_n; i++) {
		o->o_vals(o->o_arg, i, v);
		for (k = 0; k < c->cs_n; k++)
			if ((l = strlen(cell(&v[c->cs_sel[k]], buf,
			    sizeof(buf)))) > w[k])
				w[k] = l;
	}
	if (header)
		for (k = 0; k < c->cs_n; k++) {
			num = c->cs_f[c->cs_sel[k]].cf_kind == COLS_NUM;
			fprintf(fp, num ? "%*s%s" : "%-*s%s", k + 1 < c->cs_n ||
			    num ? (int)w[k] : 0, c->cs_f[c->cs_sel[k]].cf_name,
			    k + 1 < c->cs_n ? " " : "\n");
		}
	for (i = 0; i < o->o_n; i++) {
		o->o_vals(o->o_arg, i, v);
		for (k = 0; k < c->cs_n; k++) {
			num = c->cs_f[c->cs_sel[k]].cf_kind == COLS_NUM;
			s = cell(&v[c->cs_sel[k]], buf, sizeof(buf));
			/* The last column is not padded: no trailing blanks. */
			fprintf(fp, num ? "%*s%s" : "%-*s%s", k + 1 < c->cs_n ||
			    num ? (int)w[k] : 0, s, k + 1 < c->cs_n ? " " : "\n");
		}
	}
}

void
out_rows(FILE *fp, const struct out *o, int header)
{
	struct cols_val	 v[COLS_MAX];
	size_t		 i;

	if (opt_fmt == FMT_AUTO) {
		print_aligned(fp, o, header);
		return;
	}
	if (header && opt_fmt != FMT_JSON)
		cols_print_header(fp, o->o_cols);
	memset(v, 0, sizeof(v));
	for (i = 0; i < o->o_n; i++) {
		o->o_vals(o->o_arg, i, v);
		cols_print(fp, o->o_cols, v, opt_fmt == FMT_JSON);
	}
}

/* Backend rows, in the fields of opt_cols. */
void
print_rows(FILE *fp, const struct row *rows, size_t n, int header)
{
	struct out	 o = { &opt_cols, row_vals, rows, n };

	out_rows(fp, &o, header);
}

/* Add the backends of t, as s has them, and the table's own figures. */
int
promset_add(struct promset *ps, struct table *t, const struct table_snap *s)
{
	struct row	*nr;
	struct ptab	*nt, *pt;
	size_t		 k, n0 = ps->ps_n;

	if (ps->ps_n + s->sn_count > ps->ps_cap) {
		if ((nr = reallocarray(ps->ps_rows, ps->ps_n + s->sn_count + 16,
		    sizeof(*nr))) == NULL)
			return (-1);
		ps->ps_rows = nr;
		ps->ps_cap = ps->ps_n + s->sn_count + 16;
	}
	if (ps->ps_ntab == ps->ps_tcap) {
		if ((nt = reallocarray(ps->ps_tab, ps->ps_tcap + 16,
		    sizeof(*nt))) == NULL)
			return (-1);
		ps->ps_tab = nt;
		ps->ps_tcap += 16;
	}
	pt = &ps->ps_tab[ps->ps_ntab];
	if ((pt->pt_name = strdup(table_name(t))) == NULL)
		return (-1);
	pt->pt_slots = table_capacity(t);
	pt->pt_backends = s->sn_count;
	pt->pt_procs = s->sn_procs;
	pt->pt_queued = table_queued(t, s);
	ps->ps_ntab++;
	ps->ps_n += fill_rows(t, s, ps->ps_rows + ps->ps_n);
	/* The rows outlive t: they name the table by the copy. */
	for (k = n0; k < ps->ps_n; k++)
		ps->ps_rows[k].table = pt->pt_name;
	return (0);
}

void
promset_clear(struct promset *ps)
{
	size_t	 k;

	for (k = 0; k < ps->ps_ntab; k++)
		free(ps->ps_tab[k].pt_name);
	ps->ps_ntab = 0;
	ps->ps_n = 0;
}

void
promset_free(struct promset *ps)
{
	promset_clear(ps);
	free(ps->ps_rows);
	free(ps->ps_tab);
	memset(ps, 0, sizeof(*ps));
}

static void
prom_labels(FILE *fp, const struct row *r)
{
	fputs("{table=", fp);
	prom_str(fp, r->table);
	fputs(",backend=", fp);
	prom_str(fp, r->v[C_BACKEND]);
}

/*
 * The class of a check result, for a label: the letters and digits
 * before its ':', as "L4CON" of "L4CON:refused"; a bounded set.
 */
static void
check_class(const char *res, char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i + 1 < len && res[i] != '\0' && res[i] != ':'; i++)
		buf[i] = (res[i] >= 'A' && res[i] <= 'Z') || (res[i] >= '0' &&
		    res[i] <= '9') ? res[i] : '_';
	buf[i] = '\0';
}

/*
 * The text exposition format: one family per exported column, each
 * with its HELP and TYPE once and the samples of every table after
 * them, so that the tables of a machine make one valid exposition.
 */
void
print_prom(FILE *fp, const struct promset *ps)
{
	static const struct {
		const char	*name, *help;
	} tf[] = {
		{ "lb_table_slots", "Backend slots: the table's capacity." },
		{ "lb_table_backends", "Backends in the table." },
		{ "lb_table_processes",
		    "Processes attached to the table and alive." },
		{ "lb_table_queued", "Connections or requests waiting for "
		    "a backend with room, every one being at its maxconn." },
	};
	const struct row *r;
	const struct ptab *pt;
	size_t		 i, c, k;
	char		 cls[TABLE_REASON_MAX];
	int64_t		 v;

	for (c = 0; c < NCOLS; c++) {
		if (cols[c].metric == NULL)
			continue;
		if (cols[c].help != NULL)
			fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n",
			    cols[c].metric, cols[c].help, cols[c].metric,
			    cols[c].mtype);
		for (i = 0; i < ps->ps_n; i++) {
			r = &ps->ps_rows[i];
			if (r->null[c])
				continue;
			fputs(cols[c].metric, fp);
			prom_labels(fp, r);
			if (cols[c].mlabel != NULL)
				fprintf(fp, ",%s", cols[c].mlabel);
			fprintf(fp, "} %.15g\n", r->metric[c]);
		}
		if (c != C_STATUS_OTHER)
			continue;
		/* After the responses: the check, its class as a label. */
		fputs("# HELP lb_backend_check_passed 1 when the last health "
		    "check passed, 0 when it failed; the label check is its "
		    "result's class.\n# TYPE lb_backend_check_passed gauge\n",
		    fp);
		for (i = 0; i < ps->ps_n; i++) {
			r = &ps->ps_rows[i];
			if (r->null[C_CHECK])
				continue;
			check_class(r->v[C_CHECK], cls, sizeof(cls));
			fputs("lb_backend_check_passed", fp);
			prom_labels(fp, r);
			fputs(",check=", fp);
			prom_str(fp, cls);
			fprintf(fp, "} %d\n", strlen(cls) >= 2 &&
			    strcmp(cls + strlen(cls) - 2, "OK") == 0);
		}
	}
	for (k = 0; k < sizeof(tf) / sizeof(tf[0]); k++) {
		fprintf(fp, "# HELP %s %s\n# TYPE %s gauge\n", tf[k].name,
		    tf[k].help, tf[k].name);
		for (i = 0; i < ps->ps_ntab; i++) {
			pt = &ps->ps_tab[i];
			v = k == 0 ? pt->pt_slots : k == 1 ? pt->pt_backends :
			    k == 2 ? pt->pt_procs : pt->pt_queued;
			fprintf(fp, "%s{table=", tf[k].name);
			prom_str(fp, pt->pt_name);
			fprintf(fp, "} %lld\n", (long long)v);
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
