/* sticky: which backend a request's session belongs to: sticky cookies and hash keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "lb-http.h"

static const char *const log_words[] = { NULL, "new", "kept", "moved",
    "invalid" };

const char *
sticky_log_str(int log)
{
	if (log <= L7_CK_NONE || log > L7_CK_INVALID)
		return (NULL);
	return (log_words[log]);
}

/* -K's keys, or one of this process's own. */
int
sticky_setup(char *err, size_t errlen)
{
	struct l7conf	*c = &cf.l7;
	int		 i;

	if (c->lc_cookie == NULL)
		return (0);
	for (i = 0; i < c->lc_nkeyfile; i++)
		if (sticky_key_file(&c->lc_keys, c->lc_keyfile[i], err,
		    errlen) == -1)
			return (-1);
	if (c->lc_nkeyfile == 0)
		return (sticky_key_random(&c->lc_keys, err, errlen));
	return (0);
}

/* The backend a cookie of ours names, in this worker's map of the table. */
static void
pin_of(struct hconn *h)
{
	struct htx	*tx = h->h_tx;
	const struct http1_req *rq = &tx->tx_req;
	const struct http1_header *hd;
	const struct table_snap *s;
	struct wtab	*wt = tx->tx_wt;
	struct cookie_pair p;
	uint32_t	 slot;
	uint64_t	 uid;
	size_t		 i, off;
	int		 key;

	if (wt->wt_sticky == NULL && (wt->wt_sticky = calloc(1,
	    sizeof(*wt->wt_sticky))) == NULL)
		return;
	/* Each backend's value, computed once a table generation. */
	if ((s = balance_snapshot(wt->wt_bal)) == NULL ||
	    sticky_map_build(wt->wt_sticky, &cf.l7.lc_keys, s) == -1)
		return;
	/*
	 * A client may send several cookies of the name, one a path (a
	 * rule's and the root's): the first that names a backend of this
	 * route's table is the one.
	 */
	for (i = 0; i < rq->rq_nhdr; i++) {
		hd = &rq->rq_hdr[i];
		if (!http1_is(hd, "cookie"))
			continue;
		off = 0;
		while (cookie_next(hd->hh_value, hd->hh_valuelen, &off, &p)) {
			if (p.cp_namelen != cf.l7.lc_cookielen ||
			    memcmp(p.cp_name, cf.l7.lc_cookie,
			    p.cp_namelen) != 0)
				continue;
			tx->tx_l7.lt_came = 1;
			if (sticky_map_find(wt->wt_sticky, p.cp_value,
			    p.cp_valuelen, &slot, &uid, &key)) {
				tx->tx_dial.d_pin_slot = slot;
				tx->tx_dial.d_pin_uid = uid;
				tx->tx_l7.lt_oldkey = key != 0;
				return;
			}
		}
	}
}

/*
 * Before the dial: the hash key (the rule's, -a's, or the client's
 * address), and with -k on this route, the backend the session is
 * pinned to and the Path of the cookie that pins it.
 */
void
sticky_begin(struct hconn *h, const struct rule *ru, const void **key,
    size_t *keylen)
{
	struct htx	*tx = h->h_tx;
	const struct ruleopt *o = ru != NULL ? ru->ru_opt : NULL;
	const struct hkey *k = &cf.l7.lc_hkey;
	const char	*semi;
	size_t		 pl;
	int		 fell;

	if (o != NULL && o->ro_hkey.hk_kind != HKEY_NONE)
		k = &o->ro_hkey;
	*key = hkey_req(k, &tx->tx_req, &h->h_peer, keylen, &fell);
	if (cf.l7.lc_cookie == NULL || (o != NULL && o->ro_nosticky))
		return;
	tx->tx_l7.lt_sticky = 1;
	/*
	 * The cookie is the route's: the rule's path, or the root.  A ';'
	 * would end the Path attribute (RFC 6265 4.1.1) and begin another:
	 * a path that holds one has its cookie on the segments before it.
	 */
	pl = ru != NULL ? ru->ru_pathlen : 0;
	if (pl > 0 && (semi = memchr(ru->ru_path, ';', pl)) != NULL) {
		for (pl = (size_t)(semi - ru->ru_path); pl > 0 &&
		    ru->ru_path[pl - 1] != '/'; pl--)
			;
		if (pl == 1)
			pl = 0;
	}
	if (pl == 0 || pl > L7_PREFIX_MAX) {
		tx->tx_l7b.lb_path[0] = '/';
		tx->tx_l7.lt_pathlen = 1;
	} else {
		memcpy(tx->tx_l7b.lb_path, ru->ru_path, pl);
		tx->tx_l7.lt_pathlen = pl;
	}
	pin_of(h);
}

/*
 * A Cookie field on its way to the backend: without our pairs, as
 * HAProxy's "indirect" does (the backend has no use for them), in
 * stretches of the field as it came, however many there are.  Returns
 * 0, or -1 when b is full (the head is then too large to forward).
 */
int
sticky_request_cookie(struct hconn *h, const struct http1_header *hd,
    struct iovb *b)
{
	struct cookie_run r;
	const char	*v;
	size_t		 vl, off = 0;
	int		 cut = 0, n = 0;

	(void)h;
	if (!cookie_get(hd->hh_value, hd->hh_valuelen, cf.l7.lc_cookie,
	    cf.l7.lc_cookielen, &v, &vl))
		return (iovb_add(b, hd->hh_line, hd->hh_linelen));
	while (cookie_cut_next(hd->hh_value, hd->hh_valuelen, cf.l7.lc_cookie,
	    cf.l7.lc_cookielen, &off, &r, &cut)) {
		if ((n++ == 0 ? iovb_add(b, "Cookie: ", 8) :
		    iovb_add(b, "; ", 2)) == -1 || iovb_add(b, hd->hh_value +
		    r.cr_start, r.cr_end - r.cr_start) == -1)
			return (-1);
	}
	/* Ours alone: no field at all. */
	return (n > 0 ? iovb_add(b, "\r\n", 2) : 0);
}

/*
 * A final response from a backend: a Set-Cookie that pins the session
 * to it, unless the request's cookie already did (under the key that
 * signs now).  Our own field, after the backend's: never merged with
 * one of its Set-Cookie fields.  Returns 0, or -1 when b is full.
 */
int
sticky_response(struct hconn *h, struct iovb *b)
{
	struct htx	*tx = h->h_tx;
	struct l7tx	*lt = &tx->tx_l7;
	const struct balance_pick *p = &tx->tx_dial.d_pick;
	const char	*mv;
	char		 v[STICKY_VALUE_LEN + 1];
	int		 n;

	if (!lt->lt_sticky || tx->tx_dial.d_attempts == 0)
		return (0);
	if (tx->tx_dial.d_pin_uid != 0 && p->bp_uid == tx->tx_dial.d_pin_uid) {
		lt->lt_log = L7_CK_KEPT;
		if (!lt->lt_oldkey)
			return (0);
	} else
		lt->lt_log = tx->tx_dial.d_pin_uid != 0 ? L7_CK_MOVED :
		    lt->lt_came ? L7_CK_INVALID : L7_CK_NEW;
	/* The map has it, unless the table moved since: then compute it. */
	if (tx->tx_wt->wt_sticky != NULL && (mv = sticky_map_value(
	    tx->tx_wt->wt_sticky, p->bp_slot, p->bp_uid)) != NULL) {
		memcpy(v, mv, STICKY_VALUE_LEN);
		v[STICKY_VALUE_LEN] = '\0';
	} else
		sticky_value(&cf.l7.lc_keys, 0, p->bp_name, v);
	n = snprintf(tx->tx_l7b.lb_setck, sizeof(tx->tx_l7b.lb_setck),
	    "Set-Cookie: %s=%s; Path=%.*s; HttpOnly; SameSite=Lax%s\r\n",
	    cf.l7.lc_cookie, v, (int)lt->lt_pathlen, tx->tx_l7b.lb_path,
	    h->h_tls ? "; Secure" : "");
	if (n < 0 || (size_t)n >= sizeof(tx->tx_l7b.lb_setck))
		return (0);
	return (iovb_add(b, tx->tx_l7b.lb_setck, (size_t)n));
}

void
sticky_wtab_free(struct wtab *wt)
{
	sticky_map_free(wt->wt_sticky);
	free(wt->wt_sticky);
	wt->wt_sticky = NULL;
}
