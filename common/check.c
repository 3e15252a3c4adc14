/* check: health check results, rise/fall, agent words and status ranges. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "table.h"

static const struct {
	const char	*word;		/* for the table's last result */
	const char	*reason;	/* for a change of health */
	int		 passed;
} results[CHECK_NRESULTS] = {
	[CHECK_L4OK] =		{ "L4OK", "connect: ok", 1 },
	[CHECK_L4CON] =		{ "L4CON", "connect:", 0 },
	[CHECK_L4TOUT] =	{ "L4TOUT", "connect: timeout after", 0 },
	[CHECK_L6OK] =		{ "L6OK", "tls: ok", 1 },
	[CHECK_L6RSP] =		{ "L6RSP", "tls:", 0 },
	[CHECK_L6TOUT] =	{ "L6TOUT", "tls: timeout after", 0 },
	[CHECK_L7OK] =		{ "L7OK", "http:", 1 },
	[CHECK_L7STS] =		{ "L7STS", "http:", 0 },
	[CHECK_L7RSP] =		{ "L7RSP", "http:", 0 },
	[CHECK_L7TOUT] =	{ "L7TOUT", "http: timeout after", 0 },
	[CHECK_EXOK] =		{ "EXOK", "exec:", 1 },
	[CHECK_EXFAIL] =	{ "EXFAIL", "exec:", 0 },
	[CHECK_EXTOUT] =	{ "EXTOUT", "exec: killed after", 0 },
};

int
check_passed(int result)
{
	if (result < 0 || result >= CHECK_NRESULTS)
		return (0);
	return (results[result].passed);
}

const char *
check_result_str(int result)
{
	if (result < 0 || result >= CHECK_NRESULTS)
		return ("?");
	return (results[result].word);
}

char *
check_result_word(int result, const char *detail, char *buf, size_t len)
{
	char	*p;

	if (detail == NULL || *detail == '\0')
		snprintf(buf, len, "%s", check_result_str(result));
	else
		snprintf(buf, len, "%s:%s", check_result_str(result), detail);
	/* One word, for awk and for lb-stat's columns. */
	for (p = buf; *p != '\0'; p++)
		if (*p == ' ' || *p == '\t')
			*p = '-';
	return (buf);
}

char *
check_dur_fmt(uint64_t ms, char *buf, size_t len)
{
	if (ms != 0 && ms % 60000 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else if (ms != 0 && ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	return (buf);
}

char *
check_reason(int result, const char *detail, uint64_t timeout_ms, char *buf,
    size_t len)
{
	char	 d[32];

	if (result < 0 || result >= CHECK_NRESULTS) {
		snprintf(buf, len, "?");
		return (buf);
	}
	switch (result) {
	case CHECK_L4TOUT:
	case CHECK_L6TOUT:
	case CHECK_L7TOUT:
	case CHECK_EXTOUT:
		snprintf(buf, len, "%s %s", results[result].reason,
		    check_dur_fmt(timeout_ms, d, sizeof(d)));
		break;
	case CHECK_L4OK:
	case CHECK_L6OK:
		snprintf(buf, len, "%s", results[result].reason);
		break;
	default:
		if (detail == NULL || *detail == '\0')
			detail = "failed";
		snprintf(buf, len, "%s %s", results[result].reason, detail);
		break;
	}
	return (buf);
}

int
check_agent_parse(const char *line, size_t len, int *share)
{
	static const struct {
		const char	*w;
		int		 bit;
	} words[] = {
		{ "up", CHECK_AGENT_UP },
		{ "ready", CHECK_AGENT_UP },
		{ "down", CHECK_AGENT_DOWN },
		{ "drain", CHECK_AGENT_DRAIN },
		{ "maint", CHECK_AGENT_MAINT },
	};
	size_t		 i = 0, j, k, n;
	int		 bits = 0, v;

	while (i < len) {
		while (i < len && (line[i] == ' ' || line[i] == '\t' ||
		    line[i] == ',' || line[i] == '\r' || line[i] == '\n'))
			i++;
		for (j = i; j < len && line[j] != ' ' && line[j] != '\t' &&
		    line[j] != ',' && line[j] != '\r' && line[j] != '\n'; j++)
			;
		n = j - i;
		if (n == 0)
			break;
		for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
			if (strlen(words[k].w) == n &&
			    strncasecmp(line + i, words[k].w, n) == 0)
				bits |= words[k].bit;
		if (line[j - 1] == '%' && n >= 2 && n <= 4) {
			v = 0;
			for (k = i; k < j - 1 && isdigit((unsigned char)line[k]);
			    k++)
				v = v * 10 + (line[k] - '0');
			if (k == j - 1 && v <= 100) {
				*share = v;
				bits |= CHECK_AGENT_SHARE;
			}
		}
		i = j;
	}
	return (bits);
}

int
check_changing(const struct check_state *cs)
{
	if (cs->cs_health == TABLE_HEALTH_DOWN)
		return (cs->cs_ok > 0);
	if (cs->cs_health == TABLE_HEALTH_UP ||
	    cs->cs_health == TABLE_HEALTH_DRAIN)
		return (cs->cs_fail > 0);
	return (0);
}

void
check_mark_down(struct check_state *cs)
{
	cs->cs_health = TABLE_HEALTH_DOWN;
	cs->cs_ok = cs->cs_fail = 0;
	cs->cs_passive = 1;
}

int
check_step(struct check_state *cs, int passed, int agent, int rise,
    int fall)
{
	int	 up;

	/* The backend's own word first: it knows better than a probe. */
	if (agent & (CHECK_AGENT_DOWN | CHECK_AGENT_MAINT))
		passed = 0;
	if (!passed && (agent & (CHECK_AGENT_DOWN | CHECK_AGENT_MAINT))) {
		cs->cs_health = TABLE_HEALTH_DOWN;
		cs->cs_ok = cs->cs_fail = 0;
		return (cs->cs_health);
	}
	up = (agent & CHECK_AGENT_DRAIN) ? TABLE_HEALTH_DRAIN :
	    TABLE_HEALTH_UP;
	if (passed && (agent & (CHECK_AGENT_UP | CHECK_AGENT_DRAIN))) {
		cs->cs_health = up;
		cs->cs_ok = cs->cs_fail = 0;
		cs->cs_passive = 0;
		return (cs->cs_health);
	}
	switch (cs->cs_health) {
	case TABLE_HEALTH_UP:
	case TABLE_HEALTH_DRAIN:
		if (passed) {
			cs->cs_fail = 0;
			cs->cs_health = up;
		} else if (++cs->cs_fail >= fall) {
			cs->cs_health = TABLE_HEALTH_DOWN;
			cs->cs_ok = cs->cs_fail = 0;
		}
		break;
	case TABLE_HEALTH_DOWN:
		if (!passed)
			cs->cs_ok = 0;
		else if (++cs->cs_ok >= rise) {
			cs->cs_health = up;
			cs->cs_ok = cs->cs_fail = 0;
			cs->cs_passive = 0;
		}
		break;
	default:
		cs->cs_health = passed ? up : TABLE_HEALTH_DOWN;
		cs->cs_ok = cs->cs_fail = 0;
		if (passed)
			cs->cs_passive = 0;
		break;
	}
	return (cs->cs_health);
}

/* A status code: three digits, 100..599.  Returns it or -1. */
static int
status_num(const char *s, size_t n)
{
	int	 v;

	if (n != 3 || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]))
		return (-1);
	v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	return (v < 100 || v > 599 ? -1 : v);
}

int
check_status_parse(const char *s, struct check_status *st)
{
	const char	*p = s, *comma, *dash;
	size_t		 n;
	int		 lo, hi;

	memset(st, 0, sizeof(*st));
	for (;;) {
		if (st->st_n == CHECK_STATUS_MAX)
			return (-1);
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		dash = memchr(p, '-', n);
		if (dash == NULL) {
			lo = hi = status_num(p, n);
		} else {
			lo = status_num(p, (size_t)(dash - p));
			hi = status_num(dash + 1, n - (size_t)(dash - p) - 1);
		}
		if (lo == -1 || hi == -1 || lo > hi)
			return (-1);
		st->st_lo[st->st_n] = (uint16_t)lo;
		st->st_hi[st->st_n] = (uint16_t)hi;
		st->st_n++;
		if (comma == NULL)
			return (0);
		p = comma + 1;
	}
}

int
check_status_match(const struct check_status *st, int code)
{
	int	 i;

	for (i = 0; i < st->st_n; i++)
		if (code >= st->st_lo[i] && code <= st->st_hi[i])
			return (1);
	return (0);
}

int
check_http_status(const char *buf, size_t len, int *code)
{
	static const char pfx[] = "HTTP/1.";
	const char	*nl;
	size_t		 n;

	n = len < sizeof(pfx) - 1 ? len : sizeof(pfx) - 1;
	if (memcmp(buf, pfx, n) != 0)
		return (-1);
	/* "HTTP/1.x NNN" then a space or the end of the line */
	if (len >= 9 && (buf[7] < '0' || buf[7] > '9' || buf[8] != ' '))
		return (-1);
	if (len < 13)
		return (-2);
	if (!isdigit((unsigned char)buf[9]) ||
	    !isdigit((unsigned char)buf[10]) ||
	    !isdigit((unsigned char)buf[11]) ||
	    (buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n'))
		return (-1);
	*code = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	if (*code < 100)
		return (-1);
	if ((nl = memchr(buf, '\n', len)) == NULL)
		return (len > 4096 ? -1 : -2);
	return ((int)(nl - buf + 1));
}

int
check_http_head(const char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return ((int)(i + 2));
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return ((int)(i + 3));
	}
	return (-2);
}
