/* check: health check results, rise/fall, agent words and status ranges. */
#ifndef LB_CHECK_H
#define LB_CHECK_H

#include <stddef.h>
#include <stdint.h>

/*
 * What one probe found.  Each has a short word for the table's last
 * check result (as HAProxy's check_status) and a longer one for the
 * reason of a health change; check_result_word() and check_reason()
 * add the detail (an errno word, a status, an exit code).
 */
enum check_result {
	CHECK_L4OK,		/* connected */
	CHECK_L4CON,		/* connect failed: refused, unreachable */
	CHECK_L4TOUT,		/* no connection within the timeout */
	CHECK_L6OK,		/* TLS handshake done */
	CHECK_L6RSP,		/* TLS handshake failed */
	CHECK_L6TOUT,		/* no handshake within the timeout */
	CHECK_L7OK,		/* HTTP status (and body) as wanted */
	CHECK_L7STS,		/* HTTP status not in the range */
	CHECK_L7RSP,		/* not HTTP, closed, reset, body not found */
	CHECK_L7TOUT,		/* no response within the timeout */
	CHECK_EXOK,		/* the command exited 0 */
	CHECK_EXFAIL,		/* exited non-zero, signal, agent down/maint */
	CHECK_EXTOUT,		/* outlived the timeout: killed */
	CHECK_NRESULTS
};

/* 1 when a result means the backend works, else 0. */
int	check_passed(int result);

/* The short word of a result ("L4CON"), "?" when out of range. */
const char *check_result_str(int result);

/*
 * Format a result with its detail into one word in buf:
 * "L4CON:refused", "L7STS:503", "EXFAIL:3", "L6RSP:certificate-verify-failed"
 * (blanks become '-'), or the word alone when detail is NULL or empty.
 * Returns buf.
 */
char	*check_result_word(int result, const char *detail, char *buf,
	    size_t len);

/*
 * Format the reason for a health change into buf: "connect: refused",
 * "http: 503", "exec: exit 3", "timeout after 1s".  timeout_ms is used
 * by the timeout results only.  Returns buf.
 */
char	*check_reason(int result, const char *detail, uint64_t timeout_ms,
	    char *buf, size_t len);

/* A duration in the units dur_parse() reads: "250ms", "2s", "1m". */
char	*check_dur_fmt(uint64_t ms, char *buf, size_t len);

/* Agent words in the first line of an exec check's output. */
#define CHECK_AGENT_UP		0x01
#define CHECK_AGENT_DOWN	0x02
#define CHECK_AGENT_DRAIN	0x04
#define CHECK_AGENT_MAINT	0x08
#define CHECK_AGENT_SHARE	0x10	/* a "N%" gave *share */

/*
 * Read agent words from line (len bytes, need not end in NUL): up,
 * down, drain, maint and N% (0..100), separated by blanks or commas,
 * case ignored; other words are skipped.  Returns CHECK_AGENT_* bits
 * and stores a share in *share.
 */
int	check_agent_parse(const char *line, size_t len, int *share);

/*
 * The rise/fall machine of one backend.  cs_health is an enum
 * table_health; cs_ok and cs_fail count the current run of passes (while
 * down) or failures (while up or drained).
 */
struct check_state {
	int		 cs_health;
	int		 cs_ok;
	int		 cs_fail;
	int		 cs_passive;		/* marked down by -p: probe fast */
};

/*
 * Feed one result (passed 0/1, agent CHECK_AGENT_* bits from an exec
 * check, else 0) to cs.  From unknown the first result decides; up
 * goes down after fall failures in a row, down goes up after rise
 * passes in a row; agent words take effect at once (down and maint on
 * any result, up and drain only with a pass).  Returns the new health.
 */
int	check_step(struct check_state *cs, int passed, int agent, int rise,
	    int fall);

/* 1 while cs is part way through a rise or a fall. */
int	check_changing(const struct check_state *cs);

/* Force cs down now (a passive mark): next probes come fast. */
void	check_mark_down(struct check_state *cs);

/*
 * Accepted HTTP status codes: a list of "N" and "N-M" separated by
 * commas, each 100..599, N <= M.
 */
#define CHECK_STATUS_MAX	8
struct check_status {
	int		 st_n;
	uint16_t	 st_lo[CHECK_STATUS_MAX];
	uint16_t	 st_hi[CHECK_STATUS_MAX];
};

/* Parse s into st.  Returns 0, or -1 when malformed. */
int	check_status_parse(const char *s, struct check_status *st);
/* 1 when code is in st. */
int	check_status_match(const struct check_status *st, int code);

/*
 * Read an HTTP/1.x status line at the start of buf (len bytes).
 * Returns the bytes up to and including its end of line with the code
 * in *code, -2 when more is needed, -1 when it is not one.
 */
int	check_http_status(const char *buf, size_t len, int *code);

/*
 * Find the end of an HTTP response head in buf.  Returns its length
 * (through the blank line), -2 when not there yet.
 */
int	check_http_head(const char *buf, size_t len);

#endif
