/* blist: backend lists, "ADDR [name=N] [weight=N] ...", one a line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "blist.h"

#define BLIST_LINE_MAX	1024
#define BLIST_WORDS_MAX	16

int
blist_name_check(const char *name, char *err, size_t errlen)
{
	size_t	 i, n = strlen(name);

	if (n == 0 || n > TABLE_NAME_MAX) {
		snprintf(err, errlen, "bad backend name '%.80s': 1 to %d "
		    "characters", name, TABLE_NAME_MAX);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if ((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' &&
		    name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') ||
		    strchr("_.:/@%+[]-", name[i]) != NULL)
			continue;
		snprintf(err, errlen, "bad backend name '%.80s': use A-Z a-z "
		    "0-9 _ . : / @ %% + [ ] -", name);
		return (-1);
	}
	return (0);
}

static int
parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long long n = 0;

	if (*s == '\0' || strlen(s) > 10)
		return (-1);
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		n = n * 10 + (unsigned)(*s - '0');
	}
	if (n > max)
		return (-1);
	*out = (uint32_t)n;
	return (0);
}

int
blist_kv(struct blist_entry *e, const char *kv, int allow_addr, char *err,
    size_t errlen)
{
	const char	*eq, *v;
	size_t		 kl;

	if ((eq = strchr(kv, '=')) == NULL) {
		snprintf(err, errlen, "expected key=value, not '%.80s'", kv);
		return (-1);
	}
	kl = (size_t)(eq - kv);
	v = eq + 1;
#define KEY(k)	(kl == sizeof(k) - 1 && strncmp(kv, k, kl) == 0)
	if (KEY("name")) {
		if (blist_name_check(v, err, errlen) == -1)
			return (-1);
		strlcpy(e->ble_name, v, sizeof(e->ble_name));
		e->ble_set |= BLIST_NAME;
	} else if (KEY("weight")) {
		if (parse_uint(v, TABLE_WEIGHT_MAX, &e->ble_weight) == -1) {
			snprintf(err, errlen, "bad weight '%.80s': 0 to %d", v,
			    TABLE_WEIGHT_MAX);
			return (-1);
		}
		e->ble_set |= BLIST_WEIGHT;
	} else if (KEY("maxconn")) {
		if (parse_uint(v, TABLE_MAXCONN_MAX, &e->ble_maxconn) == -1) {
			snprintf(err, errlen, "bad maxconn '%.80s': 0 (no "
			    "limit) to %d", v, TABLE_MAXCONN_MAX);
			return (-1);
		}
		e->ble_set |= BLIST_MAXCONN;
	} else if (KEY("state")) {
		if ((e->ble_admin = table_admin_parse(v)) == -1) {
			snprintf(err, errlen, "bad state '%.80s': enabled, "
			    "drain or maint", v);
			return (-1);
		}
		e->ble_set |= BLIST_STATE;
	} else if (KEY("backup")) {
		if (strcmp(v, "yes") == 0)
			e->ble_backup = 1;
		else if (strcmp(v, "no") == 0)
			e->ble_backup = 0;
		else {
			snprintf(err, errlen, "bad backup '%.80s': yes or no",
			    v);
			return (-1);
		}
		e->ble_set |= BLIST_BACKUP;
	} else if (allow_addr && KEY("addr")) {
		char	 why[200];

		if (strlen(v) >= sizeof(e->ble_be.be_addr)) {
			snprintf(err, errlen, "bad address '%.80s': too long",
			    v);
			return (-1);
		}
		if (addr_check(v, 0, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "bad address '%.80s': %s", v,
			    why);
			return (-1);
		}
		strlcpy(e->ble_be.be_addr, v, sizeof(e->ble_be.be_addr));
		e->ble_set |= BLIST_ADDR;
	} else {
		snprintf(err, errlen, "unknown key '%.*s'", (int)(kl > 40 ? 40 :
		    kl), kv);
		return (-1);
	}
#undef KEY
	return (0);
}

int
blist_words(char *const *words, int n, struct blist_entry *e, char *err,
    size_t errlen)
{
	char	 why[200];
	int	 i;

	memset(e, 0, sizeof(*e));
	if (n < 1) {
		snprintf(err, errlen, "missing address");
		return (-1);
	}
	if (strchr(words[0], '=') != NULL && strncmp(words[0], "unix:", 5)) {
		snprintf(err, errlen, "expected an address first, not '%.80s'",
		    words[0]);
		return (-1);
	}
	if (strlen(words[0]) >= sizeof(e->ble_be.be_addr)) {
		snprintf(err, errlen, "address '%.40s...' longer than %zu "
		    "bytes", words[0], sizeof(e->ble_be.be_addr) - 1);
		return (-1);
	}
	if (addr_check(words[0], 0, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "bad address '%.80s': %s", words[0], why);
		return (-1);
	}
	strlcpy(e->ble_be.be_addr, words[0], sizeof(e->ble_be.be_addr));
	e->ble_set = BLIST_ADDR;
	e->ble_weight = 1;
	e->ble_admin = TABLE_ADMIN_ENABLED;
	for (i = 1; i < n; i++)
		if (blist_kv(e, words[i], 0, err, errlen) == -1)
			return (-1);
	if (!(e->ble_set & BLIST_NAME)) {
		if (blist_name_check(words[0], err, errlen) == -1) {
			snprintf(err, errlen, "address '%.80s' cannot be a name: "
			    "give name=", words[0]);
			return (-1);
		}
		strlcpy(e->ble_name, words[0], sizeof(e->ble_name));
	}
	return (0);
}

int
blist_resolve(struct blist_entry *e, char *err, size_t errlen)
{
	char	 why[256], spec[TABLE_ADDR_MAX];

	strlcpy(spec, e->ble_be.be_addr, sizeof(spec));
	if (table_set_addr(&e->ble_be, spec, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "bad address '%s': %s", spec, why);
		return (-1);
	}
	return (0);
}

int
blist_read(FILE *fp, struct blist_entry **vp, size_t *np, char *err,
    size_t errlen)
{
	struct blist_entry *v = NULL, *nv;
	char		 why[256], *words[BLIST_WORDS_MAX], *line = NULL;
	char		*p, *hash;
	size_t		 n = 0, i, cap = 0;
	ssize_t		 len;
	int		 lineno = 0, nw;

	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (len > BLIST_LINE_MAX) {
			snprintf(err, errlen, "line %d: longer than %d bytes",
			    lineno, BLIST_LINE_MAX);
			goto fail;
		}
		if (strlen(line) != (size_t)len) {
			snprintf(err, errlen, "line %d: holds a NUL byte",
			    lineno);
			goto fail;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		nw = 0;
		for (p = strtok(line, " \t\r\n"); p != NULL;
		    p = strtok(NULL, " \t\r\n")) {
			if (nw == BLIST_WORDS_MAX) {
				snprintf(err, errlen, "line %d: too many words",
				    lineno);
				goto fail;
			}
			words[nw++] = p;
		}
		if (nw == 0)
			continue;
		if ((nv = reallocarray(v, n + 1, sizeof(*v))) == NULL) {
			snprintf(err, errlen, "%s", strerror(errno));
			goto fail;
		}
		v = nv;
		if (blist_words(words, nw, &v[n], why, sizeof(why)) == -1) {
			snprintf(err, errlen, "line %d: %s", lineno, why);
			goto fail;
		}
		v[n].ble_line = lineno;
		for (i = 0; i < n; i++)
			if (strcmp(v[i].ble_name, v[n].ble_name) == 0) {
				snprintf(err, errlen, "line %d: name '%s' also "
				    "on line %d", lineno, v[n].ble_name,
				    v[i].ble_line);
				goto fail;
			}
		n++;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "read: %s", strerror(errno));
		goto fail;
	}
	free(line);
	*vp = v;
	*np = n;
	return (0);
 fail:
	free(line);
	free(v);
	return (-1);
}

int
blist_empty_check(size_t n, int allow, char *err, size_t errlen)
{
	if (n > 0 || allow)
		return (0);
	snprintf(err, errlen, "the list is empty");
	return (-1);
}

void
blist_apply(struct table_backend *be, const struct blist_entry *e)
{
	if (e->ble_set & BLIST_NAME || be->be_name[0] == '\0') {
		memset(be->be_name, 0, sizeof(be->be_name));
		strlcpy(be->be_name, e->ble_name, sizeof(be->be_name));
	}
	if (e->ble_set & BLIST_ADDR) {
		if (strcmp(be->be_addr, e->ble_be.be_addr) != 0 ||
		    be->be_family != e->ble_be.be_family ||
		    be->be_port != e->ble_be.be_port ||
		    memcmp(be->be_ip, e->ble_be.be_ip, sizeof(be->be_ip)) != 0) {
			memcpy(be->be_addr, e->ble_be.be_addr,
			    sizeof(be->be_addr));
			be->be_family = e->ble_be.be_family;
			be->be_port = e->ble_be.be_port;
			memcpy(be->be_ip, e->ble_be.be_ip, sizeof(be->be_ip));
			/* Another address: what the checker knew is void. */
			be->be_health = TABLE_HEALTH_UNKNOWN;
			be->be_share = 100;
			be->be_health_since = table_now_ms();
			memset(be->be_reason, 0, sizeof(be->be_reason));
		}
	}
	if (e->ble_set & BLIST_WEIGHT)
		be->be_weight = e->ble_weight;
	if (e->ble_set & BLIST_MAXCONN)
		be->be_maxconn = e->ble_maxconn;
	if (e->ble_set & BLIST_BACKUP)
		be->be_backup = (uint8_t)e->ble_backup;
	if (e->ble_set & BLIST_STATE && be->be_admin != e->ble_admin) {
		be->be_admin = (uint8_t)e->ble_admin;
		be->be_admin_since = table_now_ms();
	}
}

int
blist_load(struct table *t, struct blist_entry *v, size_t n, int sync,
    char *const *prev, size_t nprev, size_t *at)
{
	struct table_backend *be;
	size_t		 k, j;
	uint32_t	 i;
	int		 s;

	for (i = 0; i < table_hw(t); i++) {
		be = table_slot(t, i);
		if (be->be_uid == 0)
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(be->be_name, v[k].ble_name) == 0)
				break;
		if (k < n)
			continue;
		for (j = 0; j < nprev; j++)
			if (strcmp(be->be_name, prev[j]) == 0)
				break;
		if (sync || j < nprev)
			table_free(t, i);
	}
	for (k = 0; k < n; k++) {
		if ((s = table_find(t, v[k].ble_name)) != -1 &&
		    v[k].ble_line == 0 && !sync)
			continue;	/* there: the operator owns it now */
		if (s == -1 && (s = table_alloc(t)) == -1) {
			*at = k;
			return (-1);
		}
		/* The list is the truth: a key it omits takes its default. */
		v[k].ble_set |= BLIST_NAME | BLIST_WEIGHT | BLIST_MAXCONN |
		    BLIST_STATE | BLIST_BACKUP;
		blist_apply(table_slot(t, (uint32_t)s), &v[k]);
	}
	return (0);
}

char *
blist_fmt(const struct table_backend *be, char *buf, size_t len)
{
	char	 name[sizeof(be->be_name) + 8];

	name[0] = '\0';
	if (strcmp(be->be_name, be->be_addr) != 0)
		snprintf(name, sizeof(name), " name=%s", be->be_name);
	snprintf(buf, len, "%s%s weight=%u maxconn=%u state=%s%s", be->be_addr,
	    name, be->be_weight, be->be_maxconn, table_admin_str(be->be_admin),
	    be->be_backup ? " backup=yes" : "");
	return (buf);
}
