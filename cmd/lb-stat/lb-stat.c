/* lb-stat: show what the backend tables hold, for people and programs. */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "table.h"

#define LB_VERSION	"0.1"

enum fmt { FMT_AUTO, FMT_TSV, FMT_JSON, FMT_PROM };
enum kind { K_STR, K_NUM };

/*
 * The columns, in their documented order.  Names follow HAProxy's CSV
 * where it names the same thing; metric names follow Prometheus.
 */
static const struct col {
	const char	*name;
	enum kind	 kind;
	const char	*metric;		/* NULL: not exported */
	const char	*mtype;
	const char	*mlabel;		/* an extra label, or NULL */
	const char	*help;
} cols[] = {
	{ "pxname", K_STR, NULL, NULL, NULL, NULL },
	{ "svname", K_STR, NULL, NULL, NULL, NULL },
	{ "addr", K_STR, NULL, NULL, NULL, NULL },
	{ "admin", K_STR, "lb_backend_admin_state", "gauge", NULL,
	    "Operator's state: 0 enabled, 1 drain, 2 maint." },
	{ "health", K_STR, "lb_backend_health_state", "gauge", NULL,
	    "Checker's state: 0 unknown, 1 up, 2 down, 3 drain." },
	{ "weight", K_NUM, "lb_backend_weight", "gauge", NULL,
	    "Configured weight." },
	{ "share", K_NUM, "lb_backend_weight_share_ratio", "gauge", NULL,
	    "Share of the weight granted by the checker's agent." },
	{ "slim", K_NUM, "lb_backend_max_connections", "gauge", NULL,
	    "Connection limit, 0 for none." },
	{ "bck", K_NUM, "lb_backend_backup", "gauge", NULL,
	    "1 when the backend serves only while no other can." },
	{ "scur", K_NUM, "lb_backend_active_connections", "gauge", NULL,
	    "Open connections." },
	{ "stot", K_NUM, "lb_backend_connections_total", "counter", NULL,
	    "Connections made." },
	{ "econ", K_NUM, "lb_backend_connect_failures_total", "counter", NULL,
	    "Failed connection attempts." },
	{ "bin", K_NUM, "lb_backend_received_bytes_total", "counter", NULL,
	    "Bytes received from clients." },
	{ "bout", K_NUM, "lb_backend_sent_bytes_total", "counter", NULL,
	    "Bytes sent to clients." },
	{ "req_tot", K_NUM, "lb_backend_http_requests_total", "counter", NULL,
	    "HTTP requests." },
	{ "hrsp_1xx", K_NUM, "lb_backend_http_responses_total", "counter",
	    "code=\"1xx\"", "HTTP responses by status class." },
	{ "hrsp_2xx", K_NUM, "lb_backend_http_responses_total", "counter",
	    "code=\"2xx\"", NULL },
	{ "hrsp_3xx", K_NUM, "lb_backend_http_responses_total", "counter",
	    "code=\"3xx\"", NULL },
	{ "hrsp_4xx", K_NUM, "lb_backend_http_responses_total", "counter",
	    "code=\"4xx\"", NULL },
	{ "hrsp_5xx", K_NUM, "lb_backend_http_responses_total", "counter",
	    "code=\"5xx\"", NULL },
	{ "hrsp_other", K_NUM, "lb_backend_http_responses_total", "counter",
	    "code=\"other\"", NULL },
	{ "check_status", K_STR, NULL, NULL, NULL, NULL },
	{ "check_duration", K_NUM, "lb_backend_check_duration_seconds",
	    "gauge", NULL, "Latency of the last health check." },
	{ "lastchg", K_NUM, "lb_backend_state_change_seconds", "gauge", NULL,
	    "Seconds since the admin or health state last changed." },
};
#define NCOLS	(sizeof(cols) / sizeof(cols[0]))

/* One printed row: text for every column, plus numbers for metrics. */
struct row {
	char		 v[NCOLS][TABLE_ADDR_MAX + 8];
	int		 null[NCOLS];		/* no value: "-", null */
	double		 metric[NCOLS];
};

static int	 opt_noheader;
static enum fmt	 opt_fmt = FMT_AUTO;
static int	 failed;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: lb-stat [-HhjpV] [-t table]\n");
	exit(status);
}

/* Print s as a JSON string: quotes, backslashes and controls escaped. */
static void
json_str(FILE *fp, const char *s)
{
	const unsigned char *p;

	fputc('"', fp);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
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

/* Untrusted text from the table: only printable ASCII, no tabs. */
static void
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

static void
fill_row(struct table *t, struct table_snap *s, uint32_t i, struct row *r)
{
	const struct table_backend *be = &s->sn_be[i];
	struct table_counters *c = table_counters(t, i);
	struct table_check ck;
	uint64_t	 now = table_now_ms(), since;
	int		 k;

	memset(r, 0, sizeof(*r));
	clean(r->v[0], sizeof(r->v[0]), table_name(t));
	clean(r->v[1], sizeof(r->v[1]), be->be_name);
	clean(r->v[2], sizeof(r->v[2]), be->be_addr);
	snprintf(r->v[3], sizeof(r->v[3]), "%s", table_admin_str(be->be_admin));
	r->metric[3] = be->be_admin;
	snprintf(r->v[4], sizeof(r->v[4]), "%s",
	    table_health_str(be->be_health));
	r->metric[4] = be->be_health;
	setnum(r, 5, be->be_weight);
	setnum(r, 6, be->be_share);
	r->metric[6] = be->be_share / 100.0;
	setnum(r, 7, be->be_maxconn);
	setnum(r, 8, be->be_backup);
	setnum(r, 9, (uint64_t)table_active(t, s, i));
	setnum(r, 10, atomic_load_explicit(&c->c_total, memory_order_relaxed));
	setnum(r, 11, atomic_load_explicit(&c->c_fail, memory_order_relaxed));
	setnum(r, 12, atomic_load_explicit(&c->c_bytes_in,
	    memory_order_relaxed));
	setnum(r, 13, atomic_load_explicit(&c->c_bytes_out,
	    memory_order_relaxed));
	setnum(r, 14, atomic_load_explicit(&c->c_requests,
	    memory_order_relaxed));
	for (k = 0; k < 6; k++)
		setnum(r, 15 + k, atomic_load_explicit(&c->c_status[k],
		    memory_order_relaxed));
	if (table_check_get(t, i, &ck) == 0 && ck.ck_time != 0) {
		clean(r->v[21], sizeof(r->v[21]), ck.ck_result);
		if (r->v[21][0] == '\0')
			snprintf(r->v[21], sizeof(r->v[21]), "?");
		setnum(r, 22, ck.ck_ms);
		r->metric[22] = ck.ck_ms / 1000.0;
	} else {
		r->null[21] = r->null[22] = 1;
		snprintf(r->v[21], sizeof(r->v[21]), "-");
		snprintf(r->v[22], sizeof(r->v[22]), "-");
	}
	since = be->be_admin_since > be->be_health_since ?
	    be->be_admin_since : be->be_health_since;
	setnum(r, 23, now > since ? (now - since) / 1000 : 0);
}

static void
print_aligned(struct row *rows, size_t n)
{
	size_t	 w[NCOLS], i, c, l;

	for (c = 0; c < NCOLS; c++)
		w[c] = strlen(cols[c].name);
	for (i = 0; i < n; i++)
		for (c = 0; c < NCOLS; c++)
			if ((l = strlen(rows[i].v[c])) > w[c])
				w[c] = l;
	if (!opt_noheader) {
		for (c = 0; c < NCOLS; c++)
			printf(cols[c].kind == K_NUM ? "%*s%s" : "%-*s%s",
			    (int)w[c], cols[c].name, c + 1 < NCOLS ? "  " : "\n");
	}
	for (i = 0; i < n; i++)
		for (c = 0; c < NCOLS; c++)
			printf(cols[c].kind == K_NUM ? "%*s%s" : "%-*s%s",
			    (int)w[c], rows[i].v[c], c + 1 < NCOLS ? "  " : "\n");
}

static void
print_tsv(struct row *rows, size_t n)
{
	size_t	 i, c;

	if (!opt_noheader)
		for (c = 0; c < NCOLS; c++)
			printf("%s%s", c ? "\t" : "# ", cols[c].name);
	if (!opt_noheader)
		putchar('\n');
	for (i = 0; i < n; i++)
		for (c = 0; c < NCOLS; c++)
			printf("%s%s", rows[i].v[c], c + 1 < NCOLS ? "\t" :
			    "\n");
}

static void
print_json(struct row *rows, size_t n)
{
	size_t	 i, c;

	for (i = 0; i < n; i++) {
		putchar('{');
		for (c = 0; c < NCOLS; c++) {
			if (c)
				putchar(',');
			json_str(stdout, cols[c].name);
			putchar(':');
			if (rows[i].null[c])
				fputs("null", stdout);
			else if (cols[c].kind == K_NUM)
				fputs(rows[i].v[c], stdout);
			else
				json_str(stdout, rows[i].v[c]);
		}
		fputs("}\n", stdout);
	}
}

static void
print_prom(struct row *rows, size_t n)
{
	size_t	 i, c;

	for (c = 0; c < NCOLS; c++) {
		if (cols[c].metric == NULL)
			continue;
		if (cols[c].help != NULL)
			printf("# HELP %s %s\n# TYPE %s %s\n", cols[c].metric,
			    cols[c].help, cols[c].metric, cols[c].mtype);
		for (i = 0; i < n; i++) {
			if (rows[i].null[c])
				continue;
			printf("%s{table=", cols[c].metric);
			prom_str(stdout, rows[i].v[0]);
			fputs(",backend=", stdout);
			prom_str(stdout, rows[i].v[1]);
			if (cols[c].mlabel != NULL)
				printf(",%s", cols[c].mlabel);
			printf("} %.15g\n", rows[i].metric[c]);
		}
	}
}

static void
show_table(const char *name)
{
	struct table	*t;
	struct table_snap s;
	struct row	*rows = NULL;
	char		 e[256];
	size_t		 n = 0;
	uint32_t	 i;

	memset(&s, 0, sizeof(s));
	if ((t = table_open(name, TABLE_RDONLY, 0, 0, e, sizeof(e))) == NULL)
		errx(1, "table %s: %s", name, e);
	if (table_snapshot(t, &s, e, sizeof(e)) == -1) {
		table_close(t);
		errx(1, "table %s: %s", name, e);
	}
	if (s.sn_corrupt)
		warnx("table %s: %u damaged slots shown in maint", name,
		    s.sn_corrupt);
	if ((rows = calloc(s.sn_count ? s.sn_count : 1, sizeof(*rows))) ==
	    NULL)
		err(1, NULL);
	for (i = 0; i < s.sn_n && n < s.sn_count; i++)
		if (s.sn_be[i].be_uid != 0)
			fill_row(t, &s, i, &rows[n++]);
	switch (opt_fmt) {
	case FMT_AUTO:
		print_aligned(rows, n);
		break;
	case FMT_TSV:
		print_tsv(rows, n);
		break;
	case FMT_JSON:
		print_json(rows, n);
		break;
	case FMT_PROM:
		print_prom(rows, n);
		break;
	}
	free(rows);
	table_snap_free(&s);
	table_close(t);
}

/* The list of tables: one line each. */
static const char *const lcols[] = { "table", "slots", "backends", "up",
    "down", "active", "total", "procs", "generation" };
#define NLCOLS	(sizeof(lcols) / sizeof(lcols[0]))

static void
list_one(const char *name, void *arg)
{
	struct table	*t;
	struct table_snap s;
	char		 e[256], v[NLCOLS][32];
	uint64_t	 up = 0, down = 0, active = 0, total = 0;
	uint32_t	 i;
	size_t		 c;

	(void)arg;
	memset(&s, 0, sizeof(s));
	if ((t = table_open(name, TABLE_RDONLY, 0, 0, e, sizeof(e))) == NULL ||
	    table_snapshot(t, &s, e, sizeof(e)) == -1) {
		warnx("table %s: %s", name, e);
		failed = 1;
		table_close(t);
		return;
	}
	for (i = 0; i < s.sn_n; i++) {
		if (s.sn_be[i].be_uid == 0)
			continue;
		if (s.sn_be[i].be_health == TABLE_HEALTH_DOWN)
			down++;
		else if (s.sn_be[i].be_health == TABLE_HEALTH_UP)
			up++;
		active += (uint64_t)table_active(t, &s, i);
		total += atomic_load_explicit(&table_counters(t, i)->c_total,
		    memory_order_relaxed);
	}
	snprintf(v[0], sizeof(v[0]), "%s", name);
	snprintf(v[1], sizeof(v[1]), "%u", table_capacity(t));
	snprintf(v[2], sizeof(v[2]), "%u", s.sn_count);
	snprintf(v[3], sizeof(v[3]), "%" PRIu64, up);
	snprintf(v[4], sizeof(v[4]), "%" PRIu64, down);
	snprintf(v[5], sizeof(v[5]), "%" PRIu64, active);
	snprintf(v[6], sizeof(v[6]), "%" PRIu64, total);
	snprintf(v[7], sizeof(v[7]), "%u", s.sn_procs);
	snprintf(v[8], sizeof(v[8]), "%" PRIu64, s.sn_gen);
	if (opt_fmt == FMT_JSON) {
		putchar('{');
		for (c = 0; c < NLCOLS; c++) {
			if (c)
				putchar(',');
			json_str(stdout, lcols[c]);
			putchar(':');
			if (c == 0)
				json_str(stdout, v[c]);
			else
				fputs(v[c], stdout);
		}
		fputs("}\n", stdout);
	} else if (opt_fmt == FMT_AUTO) {
		printf("%-16s %8s %8s %5s %5s %8s %10s %5s %10s\n", v[0], v[1],
		    v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
	} else {
		for (c = 0; c < NLCOLS; c++)
			printf("%s%s", v[c], c + 1 < NLCOLS ? "\t" : "\n");
	}
	table_snap_free(&s);
	table_close(t);
}

int
main(int argc, char *argv[])
{
	const char	*tname = NULL;
	int		 ch;
	size_t		 c;

	log_init("lb-stat", 0);
	while ((ch = getopt(argc, argv, "HhjpVt:")) != -1) {
		switch (ch) {
		case 'H':
			opt_noheader = 1;
			break;
		case 'j':
			opt_fmt = FMT_JSON;
			break;
		case 'p':
			opt_fmt = FMT_PROM;
			break;
		case 't':
			tname = optarg;
			break;
		case 'V':
			printf("lb-stat %s\n", LB_VERSION);
			return (0);
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (opt_fmt == FMT_AUTO && !isatty(STDOUT_FILENO))
		opt_fmt = FMT_TSV;
	if (tname == NULL)
		tname = getenv("LB_TABLE");
	if (tname != NULL) {
		char	 e[256];

		if (table_name_check(tname, e, sizeof(e)) == -1)
			errx(2, "%s", e);
		show_table(tname);
	} else {
		if (opt_fmt == FMT_PROM)
			errx(2, "-p needs a table: give -t TABLE");
		if (!opt_noheader && opt_fmt == FMT_AUTO)
			printf("%-16s %8s %8s %5s %5s %8s %10s %5s %10s\n",
			    "table", "slots", "backends", "up", "down",
			    "active", "total", "procs", "generation");
		else if (!opt_noheader && opt_fmt == FMT_TSV)
			for (c = 0; c < NLCOLS; c++)
				printf("%s%s%s", c ? "\t" : "# ", lcols[c],
				    c + 1 < NLCOLS ? "" : "\n");
		if (table_list(list_one, NULL) == -1)
			err(1, "/dev/shm");
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
	return (failed);
}
