/* lb-http.h: what the files of lb-http share. */
#ifndef LB_HTTP_PROG_H
#define LB_HTTP_PROG_H

#include <sys/types.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "alog.h"
#include "balance.h"
#include "buf.h"
#include "cache.h"
#include "cols.h"
#include "dial.h"
#include "evloop.h"
#include "http1.h"
#include "io.h"
#include "l7.h"
#include "pool.h"
#include "relay.h"
#include "slab.h"
#include "tableset.h"
#include "tlssrv.h"
#include "worker.h"

#include <openssl/ssl.h>

#define LH_TABLES_MAX	256		/* as many as a tableset holds */
#define LH_IOV_MAX	160		/* a rewritten head's pieces */
#define LH_ADD_MAX	2048		/* fields lb-http adds to a head */
#define LH_LOGF_MAX	1024		/* a request's fields kept for its log */

/* -r HOST/PATH=TABLE[,strip]: a route. */
struct rule {
	char		*ru_text;		/* as given, for the log */
	char		*ru_host;		/* lower case; "" for any */
	size_t		 ru_hostlen;
	int		 ru_wild;		/* "*.example.com": any name under it */
	char		*ru_path;		/* no trailing '/', "" for "/" */
	size_t		 ru_pathlen;
	size_t		 ru_tab;		/* in the tableset */
	int		 ru_strip;
	int		 ru_tls;		/* HTTPS to the backends */
	int		 ru_noverify;
	int		 ru_nocache;		/* -M does not cache it */
	char		*ru_sni;		/* NULL: the backend's host */
	struct ruleopt	*ru_opt;		/* l7.h; NULL: none */
};

/* A set of rules, swapped whole when the -R file is read again. */
struct rules {
	struct rule	*rs_v;
	size_t		 rs_n;
	char		*rs_text;		/* what the strings point into */
};

/* -e: a header edit. */
enum edit_op { EDIT_SET, EDIT_ADD, EDIT_DEL };
struct edit {
	int		 ed_resp;		/* on responses, else requests */
	int		 ed_op;
	char		*ed_name;
	size_t		 ed_namelen;
	char		*ed_line;		/* "Name: value\r\n" for set, add */
	size_t		 ed_linelen;
};

/* -X: a trusted proxy's address, and how many leading bits count. */
struct trust {
	int		 tr_family;
	uint8_t		 tr_addr[16];
	int		 tr_bits;
};

/* Set before the workers start, read-only after (but the rules). */
struct lh_conf {
	int		 algo;
	int		 json, quiet, verbose, print_addr, noheader;
	struct cols	 cols;			/* -o: the log's fields */
	int		 proxy_in, proxy_out;
	int		 forwarded;		/* -F: add Forwarded */
	int		 nworkers;
	uint32_t	 eject_fails;
	uint64_t	 eject_ms;
	uint64_t	 slowstart_ms, grace_ms;
	/* -T timeouts, ms */
	uint64_t	 t_head, t_idle, t_server, t_client, t_pool, t_linger;
	uint64_t	 t_tunnel;
	uint64_t	 body_rate;		/* bytes a second, at least */
	/* -z limits */
	size_t		 z_head, z_target;
	size_t		 z_fields;
	uint32_t	 z_pool;		/* idle connections a backend */
	mode_t		 mode;
	struct dial_conf dial;
	const char	*table_spec, *file, *rfile;
	char		**listen_spec;
	struct addr	*listen;
	int		*listen_tls;		/* -L: TLS on that listener */
	size_t		 nlisten;
	/* TLS: -c, -C, and to backends -A */
	char		**certs;
	size_t		 ncerts;
	struct tlssrv_conf tlsconf;
	struct tlssrv	*tls;
	uint64_t	 t_handshake;
	const char	*cafile;
	SSL_CTX		*bctx, *bctx_noverify;
	const char	*user;			/* -u */
	struct tableset	*ts;
	struct alog	*log;
	size_t		 def_tab;		/* default route's table, or -1 */
	int		 has_def;
	struct rules *_Atomic rules;		/* workers load it per request */
	_Atomic uint64_t rules_gen;
	struct edit	*edits;
	size_t		 nedits;
	struct trust	*trust;
	size_t		 ntrust;
	size_t		 pipe_pool;
	size_t		 cache_size, cache_obj;	/* -M, -z object= */
	uint64_t	 t_collapse;		/* -T collapse= */
	struct l7conf	 l7;			/* -k, -K, -a's key */
};
extern struct lh_conf	 cf;

struct hw;
struct hconn;

/* A worker's balancer and idle connections over one table. */
struct wtab {
	struct table	*wt_t;
	struct balance	*wt_bal;
	struct dial_queue wt_q;
	struct pool	 wt_pool;
	long		 wt_uses;		/* exchanges and pooled conns on it */
	int		 wt_retired;
	struct sticky_map *wt_sticky;		/* the cookies of its backends */
	struct wsess	*wt_sess;		/* by slot; NULL until one */
};

/* A backend's last TLS session, to resume the next handshake with. */
struct wsess {
	uint64_t	 ws_uid;
	SSL_SESSION	*ws_sess;
	int		 ws_noverify;		/* made without verifying */
};

/* A connection to a backend, busy with one exchange or idle in a pool. */
struct bconn {
	void		*b_link;		/* the slab's while free */
	struct hw	*b_w;
	struct io	 b_io;
	uint8_t		 b_rd, b_wr;		/* readiness, edge-triggered */
	uint8_t		 b_drain;
	int		 b_state;		/* BC_* */
	struct wtab	*b_wt;
	uint64_t	 b_uid;
	uint32_t	 b_slot;
	struct hconn	*b_h;			/* its client while busy */
	struct pool_item b_pi;
	uint32_t	 b_nreq;
	uint64_t	 b_idle;		/* evloop ms it went idle */
	int		 b_kept;		/* idle as its client's own (-P) */
	int		 b_tls;			/* HTTPS */
	int		 b_hs;			/* its TLS handshake is on */
	int		 b_noverify;		/* its certificate was not checked */
};

enum bc_state { BC_FREE, BC_BUSY, BC_IDLE };

/* One direction's body, moving. */
enum flow_mode { FL_NONE, FL_CLEN, FL_CHUNKED, FL_CLOSE };
struct flow {
	int		 fl_mode;
	uint64_t	 fl_left;		/* FL_CLEN */
	struct http1_chunk fl_ck;		/* FL_CHUNKED */
	int		 fl_done;		/* the body is through */
	int		 fl_pipe[2];		/* splice, for long bodies */
	size_t		 fl_pending;		/* bytes in the pipe */
	uint64_t	 fl_bytes;		/* written so far */
	struct iovb	 fl_out;		/* bytes to write */
	/* from here on, not zeroed for each exchange */
	struct iovec	 fl_iov[LH_IOV_MAX];
};

/* The exchange in progress on a client connection. */
struct htx {
	void		*tx_link;		/* the slab's while free */
	int		 tx_on;
	struct relay	 tx_relay;		/* after a 101: the tunnel */
	size_t		 tx_headlen;
	int		 tx_idem;
	int		 tx_head;		/* HEAD: no body in the response */
	int		 tx_upgrade;		/* asks for a websocket */
	int		 tx_client11;		/* the client speaks 1.1 */
	size_t		 tx_strip;		/* path bytes the rule strips */
	int		 tx_btls;		/* to the backend over TLS */
	int		 tx_bnoverify;
	struct wtab	*tx_wt;
	struct bconn	*tx_b;
	int		 tx_dnstate;		/* DN_* */
	int		 tx_status;
	int		 tx_close;		/* the client goes after this one */
	int		 tx_bclose;		/* the backend conn is not reused */
	int		 tx_retried;
	uint64_t	 tx_sent;		/* request bytes written */
	uint64_t	 tx_bodyin;		/* body bytes from the client */
	uint64_t	 tx_start, tx_ttfb;	/* evloop ms */
	uint64_t	 tx_blast;		/* last byte from the backend */
	uint64_t	 tx_rate_at, tx_rate_bytes;
	int		 tx_end;		/* END_* */
	char		*tx_bin;		/* the response's buffer */
	size_t		 tx_binlen, tx_binoff, tx_bscanned;
	size_t		 tx_logm, tx_logh, tx_logp;
	struct l7tx	 tx_l7;			/* sticky, rewrites, answers */
	const void	*tx_hkey;		/* what the balancer hashes */
	size_t		 tx_hkeylen;
	struct cache_tx	 tx_c;			/* the cache's part */
	/* from here on, not zeroed for each exchange */
	struct http1_req tx_req;
	struct dial	 tx_dial;
	struct flow	 tx_up, tx_dn;
	char		 tx_route[128];		/* for the log */
	char		 tx_bsni[256];		/* the backend's name, if given */
	char		 tx_add[LH_ADD_MAX];	/* fields we add */
	char		 tx_radd[512];		/* and to the response */
	char		 tx_logf[LH_LOGF_MAX];	/* method, host, path */
	struct l7buf	 tx_l7b;
};

enum dn_state { DN_WAIT, DN_BODY, DN_DONE, DN_TUNNEL };

/* A client's connection. */
struct hconn {
	void		*h_link;
	struct hw	*h_w;
	int		 h_state;		/* HC_* */
	int		 h_li;			/* its listener */
	struct io	 h_io;
	uint8_t		 h_rd, h_wr;
	uint8_t		 h_drain;		/* a hang-up came: read to the end */
	uint8_t		 h_seen;		/* events before the first read */
	uint8_t		 h_tls;			/* a TLS listener's */
	uint8_t		 h_peeked;		/* looked for plain HTTP on it */
	uint8_t		 h_iotun;		/* a tunnel through io, not splice */
	uint8_t		 h_teof[2], h_tshut[2];	/* its ends, each way */
	struct addr	 h_peer;		/* the client (PROXY: as told) */
	char		 h_ip[INET6_ADDRSTRLEN];	/* h_peer's, as X-Forwarded-For */
	size_t		 h_iplen;		/* 0: not made yet */
	char		 h_client[56];		/* h_peer as the log has it */
	size_t		 h_clientlen;		/* 0: not made yet */
	struct addr	 h_local;
	char		*h_in;			/* pooled; NULL when empty */
	size_t		 h_inlen, h_off;	/* bytes in, where the next starts */
	size_t		 h_scanned;
	struct http1_header *h_hdr;		/* in the same allocation */
	uint64_t	 h_since;		/* waiting for a request since */
	uint64_t	 h_first;		/* its first byte came, 0: not yet */
	uint64_t	 h_last;		/* last activity */
	uint32_t	 h_nreq;
	struct bconn	*h_keep;		/* -P: its own backend connection */
	struct evtimer	 h_timer;
	struct evdefer	 h_defer;
	/*
	 * The exchange: from the worker's slab when a head comes, back to
	 * it when the connection waits for the next with nothing read, as
	 * h_in is; an idle client holds neither.  NULL: none.
	 */
	struct htx	*h_tx;
};

enum hc_state {
	HC_FREE,
	HC_PROXYHDR,			/* -p: the PROXY header */
	HC_TLS,				/* the TLS handshake */
	HC_HEAD,			/* waiting for a request head */
	HC_TX,				/* an exchange */
	HC_TUNNEL,			/* after a 101: bytes both ways */
	HC_LINGER			/* closing: reading what is left */
};

/* Why an exchange or a connection ended: the log's last field. */
enum lh_end {
	END_KEEPALIVE,			/* answered, the connection stays */
	END_CLOSE,			/* answered, then closed */
	END_CLIENT_CLOSE,
	END_CLIENT_RESET,
	END_SERVER_CLOSE,
	END_SERVER_RESET,
	END_TIMEOUT,			/* the client's time ran out */
	END_SERVER_TIMEOUT,		/* the backend's did: 504 */
	END_CONNECT_FAIL,
	END_NO_BACKEND,
	END_QUEUE_FULL,
	END_QUEUE_TIMEOUT,
	END_NO_ROUTE,			/* 404 */
	END_BAD_REQUEST,		/* 400, 414, 431, 501, 505 */
	END_BAD_RESPONSE,		/* 502 */
	END_BAD_PROXY,
	END_TUNNEL,			/* a websocket, ended */
	END_STOPPED,
	END_ERROR
};

/* One worker's own. */
struct hw {
	struct worker	*w_worker;
	struct evloop	*w_ev;
	struct slab	 w_hconns, w_bconns, w_htx;
	struct bufpool	 w_bufs;		/* heads: cf.z_head + fields */
	struct relay_ctx w_relay;		/* pipes, for tunnels and bodies */
	struct alog_w	*w_log;
	struct evtimer	 w_poolt;
	struct wtab	*w_tab[LH_TABLES_MAX];
	size_t		 w_ntab;
	uint64_t	 w_ver;
	struct rules	*w_rules;
	_Atomic uint64_t w_rgen;		/* the rules' generation seen */
	struct evtimer	 w_tick;
};

/* route.c */
int	 rule_parse(const char *spec, struct rule *r, char *err, size_t errlen);
/* printf into buf (len bytes) at *n, moving *n; -1 when it does not fit. */
int	 lh_addf(char *buf, size_t len, size_t *n, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
struct rules *rules_read(const char *path, char *const *extra, size_t nextra,
	    char *err, size_t errlen);
void	 rules_free(struct rules *rs);
const struct rule *rules_match(const struct rules *rs, const char *host,
	    size_t hostlen, const char *path, size_t pathlen);
int	 edit_parse(const char *spec, struct edit *e, char *err,
	    size_t errlen);
int	 trust_parse(const char *spec, struct trust *t, char *err,
	    size_t errlen);
int	 trusted(const struct addr *a);

/* proxy.c */
extern struct hw *hws[256];
void	 tx_to_backend(struct hconn *h);
void	 tx_respond(struct hconn *h, int status, const char *text, int end,
	    int close);
void	 tx_run(struct hconn *h);
void	 wtab_unuse(struct wtab *wt);
int	 edited(int resp, const struct http1_header *hd);
int	 add_edits(int resp, char *buf, size_t len, size_t *n);
void	 client_ip(const struct hconn *h, char *buf, size_t len,
	    int forwarded);
int	 hw_init(struct worker *wk);
int	 btls_new_session(SSL *ssl, SSL_SESSION *sess);
void	 hw_accept(struct worker *wk, int li, int fd, const struct addr *peer);
void	 hw_cut(struct worker *wk);
void	 hw_fini(struct worker *wk);
void	 tx_answered(struct hconn *h, int status);
int	 add_edits(int resp, char *buf, size_t len, size_t *n);

/* logline.c: the access log's lines */
/* The fields of a log line, for -o. */
enum { LF_TIME, LF_CLIENT, LF_METHOD, LF_HOST, LF_PATH, LF_STATUS,
    LF_BYTES_IN, LF_BYTES_OUT, LF_ROUTE, LF_BACKEND, LF_TTFB_MS, LF_MS,
    LF_END, LF_TLS, LF_CIPHER, LF_SNI, LF_STICKY, LF_CACHE, LF_N };
extern const struct cols_field lh_fields[LF_N];

void	 lh_log_header(void);
void	 lh_log(struct hconn *h, int end);

#endif
