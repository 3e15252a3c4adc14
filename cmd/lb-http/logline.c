/* logline: lb-http's access log: one line per exchange, TSV or JSON. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

#include "esc.h"
#include "lb-http.h"

#define LINE_MAX_LEN	4096
#define LOG_FLUSH_MS	100

static const char *const end_names[] = {
	"keep-alive", "close", "client-close", "client-reset", "server-close",
	"server-reset", "timeout", "server-timeout", "connect-fail",
	"no-backend", "queue-full", "queue-timeout", "no-route",
	"bad-request", "bad-response", "bad-proxy", "tunnel", "stopped",
	"error"
};

static const char *const fields[] = { "time", "client", "method", "host",
    "path", "status", "bytes_in", "bytes_out", "route", "backend",
    "ttfb_ms", "ms", "end", "tls", "cipher", "sni" };
#define NFIELDS	(sizeof(fields) / sizeof(fields[0]))

/* The header line: what each field of the TSV lines is. */
void
lh_log_header(void)
{
	size_t	 k;

	if (cf.quiet || cf.json || cf.noheader)
		return;
	for (k = 0; k < NFIELDS; k++)
		printf("%s%s", k ? "\t" : "# ", fields[k]);
	putchar('\n');
}

static void
on_flush(struct evloop *ev, void *arg)
{
	struct hw	*w = arg;

	if (alog_flush(w->w_log))
		evtimer_set(ev, &w->w_flush, LOG_FLUSH_MS, on_flush, w);
}

static const char *
log_time(struct hw *w, const struct timespec *ts)
{
	struct tm	 tm;

	if (ts->tv_sec != w->w_tsec) {
		gmtime_r(&ts->tv_sec, &tm);
		strftime(w->w_tbuf, sizeof(w->w_tbuf), "%Y-%m-%dT%H:%M:%S",
		    &tm);
		w->w_tsec = ts->tv_sec;
	}
	return (w->w_tbuf);
}

/* One escaped field into p (at most left bytes); returns its length. */
static int
field(char *p, size_t left, const char *s, size_t n)
{
	int	 r;

	if (n == 0)
		return (cf.json ? 0 : snprintf(p, left, "-"));
	r = cf.json ? esc_json(p, left, s, n) : esc_tsv(p, left, s, n);
	return (r < 0 ? 0 : r);
}

void
lh_log(struct hconn *h, int end)
{
	struct hw	*w = h->h_w;
	struct htx	*tx = &h->h_tx;
	struct timespec	 ts;
	char		 client[ADDR_STRLEN], m[96], hh[1100], pa[4200];
	char		 ttfb[24], status[8], route[300], sni[600], *p;
	const char	*be, *ver = "", *cipher = "", *sn = NULL;
	uint64_t	 now, ms;
	int		 n;

	if (cf.quiet)
		return;
	if ((p = alog_begin(w->w_log, LINE_MAX_LEN)) == NULL)
		return;
	now = evloop_now(w->w_ev);
	ms = now - tx->tx_start;
	clock_gettime(CLOCK_REALTIME, &ts);
	addr_fmt(&h->h_peer, client, sizeof(client));
	field(m, sizeof(m), tx->tx_logf, tx->tx_logm);
	field(hh, sizeof(hh), tx->tx_logf + tx->tx_logm, tx->tx_logh);
	field(pa, sizeof(pa), tx->tx_logf + tx->tx_logm + tx->tx_logh,
	    tx->tx_logp);
	field(route, sizeof(route), tx->tx_route, strcmp(tx->tx_route, "-") ?
	    strlen(tx->tx_route) : 0);
	if (h->h_io.io_ssl != NULL) {
		SSL	*ssl = h->h_io.io_ssl;

		ver = SSL_get_version(ssl);
		cipher = SSL_get_cipher_name(ssl);
		sn = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	}
	field(sni, sizeof(sni), sn != NULL ? sn : "", sn != NULL ? strlen(sn) :
	    0);
	be = tx->tx_dial.d_attempts > 0 ? tx->tx_dial.d_pick.bp_name : "";
	if (tx->tx_ttfb != 0)
		snprintf(ttfb, sizeof(ttfb), "%llu",
		    (unsigned long long)(tx->tx_ttfb - tx->tx_start));
	else
		snprintf(ttfb, sizeof(ttfb), cf.json ? "null" : "-");
	if (tx->tx_status != 0)
		snprintf(status, sizeof(status), "%d", tx->tx_status);
	else
		snprintf(status, sizeof(status), cf.json ? "null" : "-");
	if (cf.json)
		n = snprintf(p, LINE_MAX_LEN, "{\"time\":\"%s.%03ldZ\","
		    "\"client\":\"%s\",\"method\":\"%s\",\"host\":\"%s\","
		    "\"path\":\"%s\",\"status\":%s,\"bytes_in\":%llu,"
		    "\"bytes_out\":%llu,\"route\":\"%s\",\"backend\":%s%s%s,"
		    "\"ttfb_ms\":%s,\"ms\":%llu,\"end\":\"%s\",\"tls\":%s%s%s,"
		    "\"cipher\":%s%s%s,\"sni\":%s%s%s}\n",
		    log_time(w, &ts), ts.tv_nsec / 1000000, client, m, hh, pa,
		    status, (unsigned long long)(tx->tx_headlen +
		    tx->tx_bodyin), (unsigned long long)tx->tx_dn.fl_bytes,
		    route,
		    *be ? "\"" : "", *be ? be : "null", *be ? "\"" : "",
		    ttfb, (unsigned long long)ms, end_names[end],
		    *ver ? "\"" : "", *ver ? ver : "null", *ver ? "\"" : "",
		    *cipher ? "\"" : "", *cipher ? cipher : "null",
		    *cipher ? "\"" : "", *sni ? "\"" : "", *sni ? sni : "null",
		    *sni ? "\"" : "");
	else
		n = snprintf(p, LINE_MAX_LEN, "%s.%03ldZ\t%s\t%s\t%s\t%s\t%s\t"
		    "%llu\t%llu\t%s\t%s\t%s\t%llu\t%s\t%s\t%s\t%s\n",
		    log_time(w, &ts),
		    ts.tv_nsec / 1000000, client, m, hh, pa, status,
		    (unsigned long long)(tx->tx_headlen + tx->tx_bodyin),
		    (unsigned long long)tx->tx_dn.fl_bytes, route,
		    *be ? be : "-", ttfb, (unsigned long long)ms,
		    end_names[end], *ver ? ver : "-", *cipher ? cipher : "-",
		    sni);
	if (n > 0 && n < LINE_MAX_LEN)
		alog_commit(w->w_log, (size_t)n);
	if (w->w_flush.et_idx == 0)
		evtimer_set(w->w_ev, &w->w_flush, LOG_FLUSH_MS, on_flush, w);
}
