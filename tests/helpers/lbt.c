/* lbt: move a table's counters and health by hand, for the tests. */
#include <err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "balance.h"
#include "table.h"

static char	 e[256];

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: lbt lock table\n"
	    "       lbt queue table n\n"
	    "       lbt hold table name n\n"
	    "       lbt bump table name counter n\n"
	    "       lbt raw table name\n"
	    "       lbt health table name state [reason [since]]\n"
	    "       lbt check table name ms result\n"
	    "       lbt pick table algo n\n");
	exit(2);
}

static int
find(struct table *t, const char *name, uint64_t *uid)
{
	struct table_snap s;
	uint32_t	 i;

	memset(&s, 0, sizeof(s));
	if (table_snapshot(t, &s, e, sizeof(e)) == -1)
		errx(1, "%s", e);
	for (i = 0; i < s.sn_n; i++)
		if (s.sn_be[i].be_uid && strcmp(s.sn_be[i].be_name, name) == 0) {
			*uid = s.sn_be[i].be_uid;
			table_snap_free(&s);
			return ((int)i);
		}
	errx(1, "no backend %s", name);
}

/* n picks of algo over t, as a proxy would make them: name and port. */
static int
pick(struct table *t, const char *algo, int n)
{
	struct balance	*b;
	struct balance_pick p;
	int		 a;

	if ((a = balance_algo_parse(algo)) == -1)
		errx(2, "unknown algorithm %s", algo);
	if (table_register(t, e, sizeof(e)) == -1)
		errx(1, "%s", e);
	if ((b = balance_new(t, a, 0)) == NULL)
		err(1, "balance_new");
	for (; n > 0; n--) {
		if (balance_pick(b, "k", 1, NULL, &p) == -1) {
			printf("-\n");
			continue;
		}
		printf("%s %d\n", p.bp_name, addr_port(&p.bp_addr));
		balance_done(b, &p);
	}
	balance_free(b);
	table_close(t);
	return (0);
}

int
main(int argc, char *argv[])
{
	struct table	*t;
	struct table_counters *c;
	uint64_t	 uid;
	long long	 n;
	char		 buf[64];
	int		 i, k;

	if (argc < 3)
		usage();
	if ((t = table_open(argv[2], TABLE_RDWR, 0, 0, e, sizeof(e))) == NULL)
		errx(1, "%s: %s", argv[2], e);
	if (strcmp(argv[1], "pick") == 0 && argc == 5)
		return (pick(t, argv[3], atoi(argv[4])));
	/* A writer's lock, held until stdin closes: another writer waits. */
	if (strcmp(argv[1], "lock") == 0 && argc == 3) {
		if (table_begin(t, e, sizeof(e)) == -1)
			errx(1, "%s", e);
		printf("locked\n");
		fflush(stdout);
		while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
			;
		table_abort(t);
		table_close(t);
		return (0);
	}
	/* Work of ours waiting for the table, until stdin closes. */
	if (strcmp(argv[1], "queue") == 0 && argc == 4) {
		if (table_register(t, e, sizeof(e)) == -1)
			errx(1, "%s", e);
		table_queue_add(t, atoi(argv[3]));
		printf("queued\n");
		fflush(stdout);
		while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
			;
		table_close(t);
		return (0);
	}
	if (argc < 4)
		usage();
	i = find(t, argv[3], &uid);
	c = table_counters(t, (uint32_t)i);
	if (strcmp(argv[1], "hold") == 0 && argc == 5) {
		if (table_register(t, e, sizeof(e)) == -1)
			errx(1, "%s", e);
		for (n = atoll(argv[4]); n > 0; n--)
			if (table_conn_begin(t, (uint32_t)i, uid) == -1)
				errx(1, "conn_begin failed");
		printf("held\n");
		fflush(stdout);
		/*
		 * Until stdin closes; a kill -9 leaves the count behind.
		 * Once a second, as a proxy does, reclaim and repair.
		 */
		for (;;) {
			struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };

			if (poll(&pfd, 1, 1000) == 0) {
				table_reclaim(t);
				continue;
			}
			if (read(STDIN_FILENO, buf, sizeof(buf)) <= 0)
				break;
		}
		table_close(t);
		return (0);
	}
	if (strcmp(argv[1], "bump") == 0 && argc == 6) {
		static const char *const names[] = { "total", "bytes_in",
		    "bytes_out", "requests", "fail", "1xx", "2xx", "3xx", "4xx",
		    "5xx", "other", "consec" };
		_Atomic uint64_t *ctr[] = { &c->c_total, &c->c_bytes_in,
		    &c->c_bytes_out, &c->c_requests, &c->c_fail,
		    &c->c_status[0], &c->c_status[1], &c->c_status[2],
		    &c->c_status[3], &c->c_status[4], &c->c_status[5],
		    &c->c_consec_fail };

		for (k = 0; k < (int)(sizeof(names) / sizeof(names[0])); k++)
			if (strcmp(argv[4], names[k]) == 0) {
				atomic_fetch_add(ctr[k],
				    (uint64_t)atoll(argv[5]));
				table_close(t);
				return (0);
			}
		errx(2, "unknown counter %s", argv[4]);
	}
	if (strcmp(argv[1], "raw") == 0 && argc == 4) {
		printf("%lld\n", (long long)table_held(t, (uint32_t)i));
		table_close(t);
		return (0);
	}
	if (strcmp(argv[1], "health") == 0 && argc >= 5 && argc <= 7) {
		struct table_backend *be;

		if (table_begin(t, e, sizeof(e)) == -1)
			errx(1, "%s", e);
		be = table_slot(t, (uint32_t)i);
		for (k = 0; k < TABLE_HEALTH_NSTATES; k++)
			if (strcmp(argv[4], table_health_str(k)) == 0)
				break;
		if (k == TABLE_HEALTH_NSTATES)
			errx(2, "unknown health %s", argv[4]);
		be->be_health = (uint8_t)k;
		/* since: ms after the epoch, or +N / -N ms from now */
		be->be_health_since = table_now_ms();
		if (argc == 7 && (argv[6][0] == '+' || argv[6][0] == '-'))
			be->be_health_since += (uint64_t)strtoll(argv[6], NULL,
			    10);
		else if (argc == 7)
			be->be_health_since = strtoull(argv[6], NULL, 10);
		snprintf(be->be_reason, sizeof(be->be_reason), "%s",
		    argc >= 6 ? argv[5] : "");
		table_commit(t);
		table_close(t);
		return (0);
	}
	if (strcmp(argv[1], "check") == 0 && argc == 6) {
		table_check_put(t, (uint32_t)i, (uint32_t)atoi(argv[4]),
		    argv[5]);
		table_close(t);
		return (0);
	}
	usage();
}
