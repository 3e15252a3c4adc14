/* lb-check.h: what the files of lb-check share. */
#ifndef LB_CHECK_PROG_H
#define LB_CHECK_PROG_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>

#include <openssl/ssl.h>

#include "addr.h"
#include "check.h"
#include "evloop.h"
#include "table.h"

enum ck_kind {
	CK_TCP,
	CK_HTTP,
	CK_TLS,
	CK_EXEC
};

/* What to check and how often: from the command line, read-only after. */
struct ck_conf {
	int		 cc_kind;		/* enum ck_kind */
	const char	*cc_path;		/* http */
	const char	*cc_method;
	const char	*cc_host;		/* NULL: the backend's address */
	const char	*cc_body;		/* NULL: any body */
	struct check_status cc_status;
	int		 cc_tls;		/* tls, or http over tls */
	const char	*cc_sni;		/* NULL: the backend's host name */
	int		 cc_noverify;		/* any certificate */
	const char	*cc_cafile;		/* -A; NULL: the trust store */
	SSL_CTX		*cc_ctx;
	char		*cc_prog;		/* exec: the program's path */
	char		**cc_argv;		/* exec: its arguments */
	uint64_t	 cc_inter;		/* ms */
	uint64_t	 cc_fast;
	uint64_t	 cc_down;
	uint64_t	 cc_timeout;
	int		 cc_rise;
	int		 cc_fall;
	int		 cc_passive;		/* -p: failures, 0: off */
	int		 cc_maxexec;
	const char	*cc_table;
};

enum ck_phase {
	PH_IDLE,
	PH_QUEUED,			/* exec: waiting for a free run slot */
	PH_CONNECT,
	PH_TLS,
	PH_SEND,
	PH_RECV,
	PH_EXEC
};

/* One backend as lb-check sees it, matched to its slot by index and uid. */
struct backend {
	TAILQ_ENTRY(backend) b_entry;		/* lbc_all */
	TAILQ_ENTRY(backend) b_qentry;		/* exec queue or run list */
	TAILQ_ENTRY(backend) b_dentry;		/* dirtyq */
	int		 b_onq;			/* which list b_qentry is on */
	uint32_t	 b_idx;
	uint64_t	 b_uid;
	char		 b_name[TABLE_NAME_MAX + 1];
	char		 b_addr[TABLE_ADDR_MAX];
	char		 b_host[TABLE_ADDR_MAX];	/* host part, no brackets */
	char		 b_port[8];
	struct addr	 b_sa;
	int		 b_sa_ok;
	int		 b_gone;		/* deleted while a child runs */

	struct check_state b_cs;
	int		 b_health;		/* in the table */
	int		 b_share;		/* in the table */
	uint64_t	 b_pbase;		/* passive: failures already seen */

	struct evtimer	 b_next;		/* the next probe */
	uint64_t	 b_due;			/* when it should start */

	/* the probe in flight */
	int		 b_phase;		/* enum ck_phase */
	uint64_t	 b_start;
	struct evtimer	 b_tmo;
	int		 b_fd;			/* kept from probe to probe */
	int		 b_fdfam;		/* b_fd's address family */
	int		 b_onloop;		/* b_fd is on the loop */
	int		 b_conn;		/* b_fd is connected */
	SSL		*b_ssl;
	char		*b_buf;
	size_t		 b_len;			/* bytes in b_buf */
	size_t		 b_off;			/* of the request, sent */
	size_t		 b_reqlen;
	int		 b_code;		/* http status, 0: not yet */
	size_t		 b_head;		/* http head's length, 0: not yet */
	pid_t		 b_pid;			/* exec */
	int		 b_pipe;
	int		 b_killed;
	char		 b_line[128];		/* its first line */
	size_t		 b_linelen;
	int		 b_lineend;

	/* a health change waiting for the next write to the table */
	int		 b_dirty;
	int		 b_new;
	int		 b_newshare;
	uint32_t	 b_ms;
	char		 b_reason[TABLE_REASON_MAX];
};

#define LBC_Q_NONE	0
#define LBC_Q_EXEC	1		/* waiting to run */
#define LBC_Q_RUN	2		/* running */

extern struct ck_conf	 conf;
extern struct evloop	*ev;

/*
 * lb-check.c: a probe ends with one result.  wdetail goes with the
 * result's word, rdetail with the reason; agent and share come from an
 * exec check's first line.
 */
void	lbc_result(struct backend *b, int result, const char *wdetail,
	    const char *rdetail, int agent, int share);
/* A probe could not start for want of resources: try again soon. */
void	lbc_retry(struct backend *b);
/* A backend deleted while its exec check ran is now done with. */
void	lbc_release(struct backend *b);

/* probe.c: tcp, http and tls probes on the loop. */
void	probe_start(struct backend *b);
void	probe_abort(struct backend *b);
/*
 * Whether an http check fits what a probe sends and reads: its request,
 * with the longest address a table holds as Host, and body=.  Returns 0,
 * or -1 with the reason, naming the option and the limit, in err.
 */
int	probe_conf_check(char *err, size_t errlen);
/* Close the socket kept for b's next probe. */
void	probe_forget(struct backend *b);
const char *probe_errword(int error);

/* exec.c: exec checks as child processes. */
int	exec_init(char *err, size_t errlen);
void	exec_start(struct backend *b);
void	exec_abort(struct backend *b);
void	exec_sigchld(void);
/* Find the program of an exec check on PATH; malloc'd or NULL. */
char	*exec_which(const char *prog);

#endif
