/* logline: lb-http's access log: one line per exchange, TSV or JSON. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

#include "cols.h"
#include "lb-http.h"

#define LINE_MAX_LEN	8192

static const char *const end_names[] = {
	"keep-alive", "close", "client-close", "client-reset", "server-close",
	"server-reset", "timeout", "server-timeout", "connect-fail",
	"no-backend", "queue-full", "queue-timeout", "no-route",
	"bad-request", "bad-response", "bad-proxy", "tunnel", "stopped",
	"error"
};

/* The fields of a log line: the words of VOCABULARY in lb-table(5). */
const struct cols_field lh_fields[LF_N] = { { "time", COLS_TEXT },
    { "client", COLS_TEXT }, { "method", COLS_TEXT }, { "host", COLS_TEXT },
    { "path", COLS_TEXT }, { "status", COLS_NUM }, { "bytes_in", COLS_NUM },
    { "bytes_out", COLS_NUM }, { "route", COLS_TEXT },
    { "backend", COLS_TEXT }, { "ttfb_ms", COLS_NUM }, { "ms", COLS_NUM },
    { "end", COLS_TEXT }, { "tls", COLS_TEXT }, { "cipher", COLS_TEXT },
    { "sni", COLS_TEXT } };

/* The header line: what each field of the TSV lines is. */
void
lh_log_header(void)
{
	if (cf.quiet || cf.json || cf.noheader)
		return;
	cols_print_header(stdout, &cf.cols);
}

/* Text of n bytes, or missing when there is none. */
static void
text_or_null(struct cols_val *v, const char *s, size_t n)
{
	if (s == NULL || n == 0)
		cols_null(v);
	else
		cols_text(v, s, n);
}

void
lh_log(struct hconn *h, int end)
{
	struct hw	*w = h->h_w;
	struct htx	*tx = h->h_tx;
	struct cols_val	 v[LF_N];
	char		 client[ADDR_STRLEN], *p;
	const char	*be, *sn, *tm;
	SSL		*ssl = h->h_io.io_ssl;
	ssize_t		 n;

	if (cf.quiet)
		return;
	if ((p = alog_begin(w->w_log, LINE_MAX_LEN)) == NULL)
		return;
	if (cols_has(&cf.cols, LF_TIME)) {
		tm = alog_time(w->w_log);
		cols_text(&v[LF_TIME], tm, strlen(tm));
	}
	if (cols_has(&cf.cols, LF_CLIENT)) {
		/* the same for every exchange: printed once, if it fits */
		if (h->h_clientlen == 0) {
			addr_fmt(&h->h_peer, client, sizeof(client));
			n = (ssize_t)strlen(client);
			if ((size_t)n < sizeof(h->h_client)) {
				memcpy(h->h_client, client, (size_t)n + 1);
				h->h_clientlen = (size_t)n;
			}
			cols_text(&v[LF_CLIENT], client, (size_t)n);
		} else
			cols_text(&v[LF_CLIENT], h->h_client, h->h_clientlen);
	}
	text_or_null(&v[LF_METHOD], tx->tx_logf, tx->tx_logm);
	text_or_null(&v[LF_HOST], tx->tx_logf + tx->tx_logm, tx->tx_logh);
	text_or_null(&v[LF_PATH], tx->tx_logf + tx->tx_logm + tx->tx_logh,
	    tx->tx_logp);
	if (tx->tx_status != 0)
		cols_num(&v[LF_STATUS], (uint64_t)tx->tx_status);
	else
		cols_null(&v[LF_STATUS]);
	/* bytes_in came from the client, bytes_out went to it */
	cols_num(&v[LF_BYTES_IN], tx->tx_headlen + tx->tx_bodyin);
	cols_num(&v[LF_BYTES_OUT], tx->tx_dn.fl_bytes);
	text_or_null(&v[LF_ROUTE], tx->tx_route, strcmp(tx->tx_route, "-") ?
	    strlen(tx->tx_route) : 0);
	be = tx->tx_dial.d_attempts > 0 ? tx->tx_dial.d_pick.bp_name : NULL;
	text_or_null(&v[LF_BACKEND], be, be != NULL ? strlen(be) : 0);
	if (tx->tx_ttfb != 0)
		cols_num(&v[LF_TTFB_MS], tx->tx_ttfb - tx->tx_start);
	else
		cols_null(&v[LF_TTFB_MS]);
	cols_num(&v[LF_MS], evloop_now(w->w_ev) - tx->tx_start);
	cols_text(&v[LF_END], end_names[end], strlen(end_names[end]));
	if (ssl != NULL) {
		const char *ver = SSL_get_version(ssl);
		const char *ci = SSL_get_cipher_name(ssl);

		text_or_null(&v[LF_TLS], ver, ver != NULL ? strlen(ver) : 0);
		text_or_null(&v[LF_CIPHER], ci, ci != NULL ? strlen(ci) : 0);
		sn = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
		text_or_null(&v[LF_SNI], sn, sn != NULL ? strlen(sn) : 0);
	} else {
		cols_null(&v[LF_TLS]);
		cols_null(&v[LF_CIPHER]);
		cols_null(&v[LF_SNI]);
	}
	if ((n = cols_line(&cf.cols, v, cf.json, p, LINE_MAX_LEN)) > 0)
		alog_commit(w->w_log, (size_t)n);
	alog_later(w->w_log, w->w_ev);
}
