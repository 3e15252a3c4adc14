/* l7: lb-http's layers over a request: sticky sessions, hash keys, rewrites, its own answers. */
#ifndef LB_HTTP_L7_H
#define LB_HTTP_L7_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hkey.h"
#include "sticky.h"

struct hconn;
struct http1_header;
struct iovb;
struct rule;
struct wtab;

#define L7_PREFIX_MAX	255		/* prefix=, a cookie's Path */
#define L7_HOST_MAX	261		/* host=: a name and a port */
#define L7_BODY_MAX	65536		/* return=, file= */
#define RULE_NO_TABLE	((size_t)-1)	/* ru_tab of a rule that answers */

/* -k, -K and the key of -a: set before the workers start. */
struct l7conf {
	const char	*lc_cookie;		/* -k; NULL: no sticky cookies */
	size_t		 lc_cookielen;
	const char	*lc_keyfile[STICKY_KEYS_MAX];	/* -K */
	int		 lc_nkeyfile;
	struct sticky_keys lc_keys;
	struct hkey	 lc_hkey;		/* -a ALGO,KEY; HKEY_NONE: addr */
};

/* A body lb-http answers with: its rule's, and each exchange's writing it. */
struct l7body {
	_Atomic long	 bd_ref;
	size_t		 bd_len;
	char		 bd_data[];
};

enum l7_redirect { L7_RD_NONE, L7_RD_FIXED, L7_RD_KEEP };

/* A rule's options beyond its table (ru_opt; NULL when it has none). */
struct ruleopt {
	int		 ro_nosticky;
	struct hkey	 ro_hkey;		/* HKEY_NONE: -a's */
	char		*ro_prefix;		/* replaces the rule's path */
	size_t		 ro_prefixlen;
	char		*ro_host;		/* the Host the backend gets */
	size_t		 ro_hostlen;
	int		 ro_status;		/* redirect= or return=; 0: none */
	int		 ro_redirect;		/* L7_RD_* */
	char		*ro_loc;		/* fixed: the Location */
	char		*ro_scheme;		/* keep: "http" or "https" */
	char		*ro_rhost;		/* keep: "" for the request's */
	char		*ro_rport;		/* keep: ":port", or "" */
	char		*ro_type;		/* return=: Content-Type */
	char		*ro_file;		/* file=, as given */
	struct l7body	*ro_body;		/* return=, file=: NULL for none */
};

/* The log's word for a sticky session: what came, what was done. */
enum l7_sticky_log {
	L7_CK_NONE,			/* not logged: off, or no backend */
	L7_CK_NEW,			/* none came: pinned, cookie set */
	L7_CK_KEPT,			/* honoured */
	L7_CK_MOVED,			/* its backend could not: moved, set */
	L7_CK_INVALID			/* named none: re-pinned, set */
};

/* Each exchange's: zeroed for each one. */
struct l7tx {
	uint8_t		 lt_sticky;		/* cookies on this route */
	uint8_t		 lt_came;		/* a cookie of ours came */
	uint8_t		 lt_oldkey;		/* signed by an older key */
	uint8_t		 lt_log;		/* L7_CK_* */
	size_t		 lt_prefixlen;		/* lb_prefix, after the strip */
	size_t		 lt_hostlen;		/* lb_host: Host is set */
	size_t		 lt_pathlen;		/* lb_path: the cookie's */
	struct l7body	*lt_body;		/* being written */
};

/* Each exchange's too, written before it is read, not zeroed. */
struct l7buf {
	char		 lb_prefix[L7_PREFIX_MAX + 1];
	char		 lb_host[L7_HOST_MAX + 1];
	char		 lb_path[L7_PREFIX_MAX + 2];
	char		 lb_setck[512];		/* Set-Cookie, whole */
	char		 lb_head[2048];		/* an answer's head */
};

/* rewrite.c: the options of a rule (route.c calls), its answers */
int	 ruleopt_parse(struct rule *r, const char *opt, char *err,
	    size_t errlen);
int	 ruleopt_check(struct rule *r, int table, char *err, size_t errlen);
void	 ruleopt_free(struct ruleopt *o);
int	 l7_answer(struct hconn *h, const struct rule *ru);
void	 rewrite_begin(struct hconn *h, const struct rule *ru);
void	 l7_finish(struct hconn *h);

/* sticky.c: a session's backend: cookies and hash keys */
int	 sticky_setup(char *err, size_t errlen);
void	 sticky_begin(struct hconn *h, const struct rule *ru,
	    const void **key, size_t *keylen);
int	 sticky_request_cookie(struct hconn *h, const struct http1_header *hd,
	    struct iovb *b);
int	 sticky_response(struct hconn *h, struct iovb *b);
void	 sticky_wtab_free(struct wtab *wt);
const char *sticky_log_str(int log);

#endif
