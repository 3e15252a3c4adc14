/* lb-http: the Layer 7 balancer: HTTP/1.1 in, routed by host and path, pooled out. */
#include <err.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bset.h"
#include "cookie.h"
#include "dur.h"
#include "esc.h"
#include "lb-http.h"
#include "log.h"
#include "sock.h"
#include "table.h"
#include "tlsctx.h"

#define PIPE_POOL	64		/* idle pipes kept per worker, at most */
#define CONN_FDS	2		/* client, backend; pipes from the budget */
#define RETIRED_MAX	64		/* old rule sets waiting to be freed */
#define CACHE_OBJ	(1 << 20)	/* -z object=: a cached object's bound */

struct lh_conf	 cf;

/* -f: the backends of the command line, then the file's */
static struct bset bs;			/* the command line's, -f's */
/* -r: the rules of the command line, read with -R's */
static char	**rargs;
static size_t	 nrargs;
/* rule sets replaced by a HUP, freed once no worker sees them */
static struct {
	struct rules	*rs;
	uint64_t	 gen;
} retired[RETIRED_MAX];
static size_t	 nretired;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: lb-http [-1FHhjpqVv] [-A cafile] [-a algorithm[,key]]\n"
	    "               [-C name=value,...] [-c cert[,key]] [-e edit] "
	    "[-f file]\n"
	    "               [-g grace] [-i timeout] [-K keyfile] [-k cookie]\n"
	    "               [-L [addr]:port] [-M size] [-m mode] [-n queue] "
	    "[-o field,...]\n"
	    "               [-P v1|v2] [-Q timeout] [-R file] [-r rule] "
	    "[-S duration]\n"
	    "               [-T name=time,...] [-t table] [-u user] "
	    "[-w workers]\n"
	    "               [-X addr[/bits]] [-x fails/time] "
	    "[-z name=size,...]\n"
	    "               -l [addr]:port ... [backend ...]\n");
	if (status == 0)
		printf("\n"
		    "Proxies the HTTP/1.1 requests to -l (and HTTPS to -L) to "
		    "the backends named,\n"
		    "or those of -t, or of the table of the first rule -r that "
		    "matches the host\n"
		    "and path; logs a line per request, under a # header "
		    "line:\n"
		    "  time client method host path status bytes_in bytes_out "
		    "route backend\n"
		    "  ttfb_ms ms end (and tls cipher sni with -L, sticky with -k)\n"
		    "  -1              print the addresses listened on, then "
		    "'table NAME'\n"
		    "  -r rule         host/path=table[,option...], as "
		    "api.example/v1=api\n"
		    "  -L, -c          listen for HTTPS; its certificate "
		    "(cert.pem[,key.pem])\n"
		    "  -e edit         set, add or del a field, as "
		    "'req set X-Env: prod'\n"
		    "  -M size         cache responses in memory, as -M 64m "
		    "(RFC 9111)\n"
		    "  -k, -K          sticky sessions: the cookie's name; "
		    "the key that signs it\n"
		    "  -a algo,key     a hash and its key, as maglev,hdr=X-User "
		    "(or cookie=, path)\n"
		    "  -T, -z          timeouts and limits, as "
		    "-T server=30s -z head=16k\n"
		    "  -H, -j, -o, -q  no header; JSON lines; these fields; "
		    "no log\n"
		    "See lb-http(1); the words of the fields: lb-table(5), "
		    "VOCABULARY.\n");
	exit(status);
}

/* A duration of option what (as "-g", or "-T idle"), min ms at least. */
static uint64_t
dur_arg(const char *s, const char *what, uint64_t min)
{
	uint64_t	 ms;
	char		 why[128];

	if (dur_range(s, min, DUR_MAX_MS, &ms, why, sizeof(why)) == -1)
		errx(2, "bad %s '%s': %s", what, esc_arg(s), why);
	return (ms);
}

/* 16k, 1m, 100: a size in bytes (or a count), within [lo, hi]. */
static uint64_t
size_arg(const char *s, const char *what, uint64_t lo, uint64_t hi)
{
	char		*end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno)
		goto bad;
	if (*end == 'k' || *end == 'K') {
		v *= 1024;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		v *= 1024 * 1024;
		end++;
	} else if (*end == 'g' || *end == 'G') {
		v *= 1024 * 1024 * 1024;
		end++;
	}
	if (*end != '\0' || v < lo || v > hi)
		goto bad;
	return (v);
 bad:
	errx(2, "bad %s '%s': %llu to %llu (k, m and g multiply by 1024)",
	    what, esc_arg(s), (unsigned long long)lo, (unsigned long long)hi);
}

/* -T connect=5s,head=10s,...: the timeouts. */
static void
timeouts_arg(char *arg)
{
	static const struct {
		const char	*name;
		uint64_t	*v;
	} keys[] = {
		{ "connect", &cf.dial.dc_conn_ms }, { "head", &cf.t_head },
		{ "idle", &cf.t_idle }, { "server", &cf.t_server },
		{ "client", &cf.t_client }, { "queue", &cf.dial.dc_queue_ms },
		{ "pool", &cf.t_pool }, { "tunnel", &cf.t_tunnel },
		{ "linger", &cf.t_linger }, { "handshake", &cf.t_handshake },
		{ "collapse", &cf.t_collapse },
	};
	char	*kv, *save = NULL, *eq, m[100];
	size_t	 k;

	for (kv = strtok_r(arg, ",", &save); kv != NULL;
	    kv = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(kv, '=')) == NULL)
			errx(2, "bad -T '%s': NAME=DURATION",
			    esc_arg(kv));
		*eq = '\0';
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strcmp(kv, keys[k].name) == 0)
				break;
		if (k == sizeof(keys) / sizeof(keys[0]))
			errx(2, "bad -T '%s': connect, head, idle, server, "
			    "client, queue, pool, tunnel, linger, handshake or "
			    "collapse",
			    esc_arg(kv));
		snprintf(m, sizeof(m), "-T %s", kv);
		*keys[k].v = dur_arg(eq + 1, m, 1);
	}
}

/* -z head=16k,fields=100,...: the limits. */
static void
limits_arg(char *arg)
{
	char	*kv, *save = NULL, *eq;

	for (kv = strtok_r(arg, ",", &save); kv != NULL;
	    kv = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(kv, '=')) == NULL)
			errx(2, "bad -z '%s': NAME=SIZE",
			    esc_arg(kv));
		*eq++ = '\0';
		if (strcmp(kv, "head") == 0)
			cf.z_head = size_arg(eq, "head size", 1024, 1 << 20);
		else if (strcmp(kv, "fields") == 0)
			cf.z_fields = size_arg(eq, "field count", 8, 1000);
		else if (strcmp(kv, "target") == 0)
			cf.z_target = size_arg(eq, "target length", 64,
			    1 << 20);
		else if (strcmp(kv, "pool") == 0)
			cf.z_pool = (uint32_t)size_arg(eq, "idle connections "
			    "a backend", 0, 100000);
		else if (strcmp(kv, "rate") == 0)
			cf.body_rate = size_arg(eq, "body rate", 0, 1 << 30);
		else if (strcmp(kv, "object") == 0)
			cf.cache_obj = size_arg(eq, "cached object size", 1,
			    (uint64_t)1 << 32);
		else
			errx(2, "bad -z '%s': head, fields, target, pool, "
			    "rate or object", esc_arg(kv));
	}
}

static void
eject_arg(const char *s)
{
	char	 why[100];

	if (balance_eject_parse(s, &cf.eject_fails, &cf.eject_ms, why,
	    sizeof(why)) == -1)
		errx(2, "bad -x '%s': %s", esc_arg(s), why);
}

static mode_t
mode_arg(const char *s)
{
	mode_t	 m;

	if (table_mode_parse(s, &m) == -1)
		errx(2, "bad mode '%s': octal, 1 to 0777",
		    esc_arg(s));
	return (m);
}

/*
 * -C min=1.3,ciphers=...,suites=...,tickets=no,rotate=12h,sni=strict,
 * client-ca=F,client=optional
 */
static int	 tls_given;		/* -C was */

static void
tls_arg(char *arg)
{
	struct tlssrv_conf *c = &cf.tlsconf;
	char	*kv, *save = NULL, *v;

	tls_given = 1;
	for (kv = strtok_r(arg, ",", &save); kv != NULL;
	    kv = strtok_r(NULL, ",", &save)) {
		if ((v = strchr(kv, '=')) == NULL)
			goto bad;
		*v++ = '\0';
		if (strcmp(kv, "min") == 0 && strcmp(v, "1.2") == 0)
			c->tc_min = TLS1_2_VERSION;
		else if (strcmp(kv, "min") == 0 && strcmp(v, "1.3") == 0)
			c->tc_min = TLS1_3_VERSION;
		else if (strcmp(kv, "ciphers") == 0 && *v)
			c->tc_ciphers = v;
		else if (strcmp(kv, "suites") == 0 && *v)
			c->tc_suites = v;
		else if (strcmp(kv, "tickets") == 0 && strcmp(v, "no") == 0)
			c->tc_notickets = 1;
		else if (strcmp(kv, "tickets") == 0 && strcmp(v, "yes") == 0)
			c->tc_notickets = 0;
		else if (strcmp(kv, "rotate") == 0 && *v)
			/* the clock that rotates them ticks once a second */
			c->tc_rotate_ms = dur_arg(v, "-C rotate", 1000);
		else if (strcmp(kv, "sni") == 0 && strcmp(v, "strict") == 0)
			c->tc_strict = 1;
		else if (strcmp(kv, "client-ca") == 0 && *v)
			c->tc_client_ca = v;
		else if (strcmp(kv, "client") == 0 && strcmp(v, "optional") == 0)
			c->tc_client_optional = 1;
		else {
			v[-1] = '=';
			goto bad;
		}
	}
	return;
 bad:
	errx(2, "bad -C '%s': min=1.2|1.3, ciphers=LIST, suites=LIST, "
	    "tickets=yes|no, rotate=DURATION, sni=strict, client-ca=FILE, "
	    "client=optional",
	    esc_arg(kv));
}

/* -a ALGO[,KEY]: the algorithm, and what the hash algorithms hash. */
static void
algo_arg(const char *arg)
{
	char	 a[32], e[200];
	size_t	 n = strcspn(arg, ",");

	if (n >= sizeof(a) || (memcpy(a, arg, n), a[n] = '\0',
	    cf.algo = balance_algo_parse(a)) == -1)
		errx(2, "bad algorithm '%s': rr, lc, p2c, source or maglev, "
		    "the last two with a key (maglev,hdr=X-User)",
		    esc_arg(arg));
	if (arg[n] == '\0')
		return;
	if (cf.algo != BALANCE_SOURCE && cf.algo != BALANCE_MAGLEV)
		errx(2, "bad algorithm '%s': a key goes with source or maglev",
		    esc_arg(arg));
	if (hkey_parse(arg + n + 1, &cf.l7.lc_hkey, e, sizeof(e)) == -1)
		errx(2, "bad hash key '%s': %s", esc_arg(arg + n + 1), e);
}

static void
add_listen(char *spec, int tls)
{
	char	 e[300];

	if (addr_check(spec, ADDR_PASSIVE, e, sizeof(e)) == -1)
		errx(2, "bad listen address '%s': %s",
		    esc_arg(spec), e);
	if ((cf.listen_spec = reallocarray(cf.listen_spec, cf.nlisten + 1,
	    sizeof(*cf.listen_spec))) == NULL ||
	    (cf.listen_tls = reallocarray(cf.listen_tls, cf.nlisten + 1,
	    sizeof(*cf.listen_tls))) == NULL)
		err(1, NULL);
	cf.listen_tls[cf.nlisten] = tls;
	cf.listen_spec[cf.nlisten++] = spec;
}

static void
parse_args(int argc, char *argv[])
{
	struct edit	 ed;
	struct trust	 tr;
	const char	*e, *ocols = NULL;
	char		 ebuf[400], dcols[200];
	int		 ch, anytls = 0;
	long		 ncpu;
	size_t		 k;

	cf.algo = BALANCE_RR;
	cf.dial.dc_retries = 3;
	cf.dial.dc_queue_len = 1024;
	cf.dial.dc_conn_ms = 5000;
	cf.dial.dc_queue_ms = 5000;
	cf.t_head = 10000;
	cf.t_idle = 60000;
	cf.t_server = 60000;
	cf.t_client = 60000;
	cf.t_pool = 5000;
	cf.t_linger = 2000;
	cf.t_tunnel = 3600000;
	cf.t_handshake = 10000;
	cf.t_collapse = 5000;
	cf.grace_ms = 10000;
	cf.eject_fails = 3;
	cf.eject_ms = 10000;
	cf.z_head = 16384;
	cf.z_fields = 100;
	cf.z_target = 8192;
	cf.z_pool = 64;
	cf.body_rate = 500;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cf.nworkers = ncpu > 0 ? (int)ncpu : 1;

	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		usage(0);
	while ((ch = getopt(argc, argv,
	    "1A:a:C:c:e:Ff:g:Hhi:jK:k:L:l:M:m:n:o:P:pQ:qR:r:S:T:t:u:Vvw:X:x:z:")) !=
	    -1) {
		switch (ch) {
		case '1':
			cf.print_addr = 1;
			break;
		case 'A':
			cf.cafile = optarg;
			break;
		case 'C':
			tls_arg(optarg);
			break;
		case 'c':
			if ((cf.certs = reallocarray(cf.certs, cf.ncerts + 1,
			    sizeof(*cf.certs))) == NULL)
				err(1, NULL);
			cf.certs[cf.ncerts++] = optarg;
			break;
		case 'a':
			algo_arg(optarg);
			break;
		case 'e':
			if (edit_parse(optarg, &ed, ebuf, sizeof(ebuf)) == -1)
				errx(2, "%s", ebuf);
			if ((cf.edits = reallocarray(cf.edits, cf.nedits + 1,
			    sizeof(*cf.edits))) == NULL)
				err(1, NULL);
			cf.edits[cf.nedits++] = ed;
			break;
		case 'F':
			cf.forwarded = 1;
			break;
		case 'f':
			cf.file = optarg;
			break;
		case 'g':
			cf.grace_ms = dur_arg(optarg, "-g", 0);
			break;
		case 'H':
			cf.noheader = 1;
			break;
		case 'i':
			cf.t_idle = dur_arg(optarg, "-i", 1);
			break;
		case 'j':
			cf.json = 1;
			break;
		case 'K':
			if (cf.l7.lc_nkeyfile == STICKY_KEYS_MAX)
				errx(2, "-K: %d key files at most",
				    STICKY_KEYS_MAX);
			cf.l7.lc_keyfile[cf.l7.lc_nkeyfile++] = optarg;
			break;
		case 'k':
			if (!cookie_name_ok(optarg))
				errx(2, "bad cookie name '%s': a token of %d "
				    "bytes at most (letters, digits, "
				    "!#$%%&'*+-.^_`|~)",
				    esc_arg(optarg), COOKIE_NAME_MAX);
			cf.l7.lc_cookie = optarg;
			cf.l7.lc_cookielen = strlen(optarg);
			break;
		case 'L':
			add_listen(optarg, 1);
			break;
		case 'l':
			add_listen(optarg, 0);
			break;
		case 'M':
			cf.cache_size = size_arg(optarg, "cache size (-M)",
			    64 * 1024, (uint64_t)1 << 40);
			break;
		case 'm':
			cf.mode = mode_arg(optarg);
			break;
		case 'n':
			cf.dial.dc_queue_len = (uint32_t)strtonum(optarg, 0,
			    1000000, &e);
			if (e != NULL)
				errx(2, "bad queue length '%s': 0 to 1000000",
				    esc_arg(optarg));
			break;
		case 'o':
			ocols = optarg;
			break;
		case 'P':
			if (strcmp(optarg, "v1") == 0)
				cf.proxy_out = 1;
			else if (strcmp(optarg, "v2") == 0)
				cf.proxy_out = 2;
			else
				errx(2, "bad PROXY version '%s': v1 or v2",
				    esc_arg(optarg));
			break;
		case 'p':
			cf.proxy_in = 1;
			break;
		case 'Q':
			cf.dial.dc_queue_ms = dur_arg(optarg, "-Q", 1);
			break;
		case 'q':
			cf.quiet = 1;
			break;
		case 'R':
			cf.rfile = optarg;
			break;
		case 'r':
			if ((rargs = reallocarray(rargs, nrargs + 1,
			    sizeof(*rargs))) == NULL)
				err(1, NULL);
			rargs[nrargs++] = optarg;
			break;
		case 'S':
			cf.slowstart_ms = dur_arg(optarg, "-S", 0);
			break;
		case 'T':
			timeouts_arg(optarg);
			break;
		case 't':
			cf.table_spec = optarg;
			break;
		case 'u':
			cf.user = optarg;
			break;
		case 'V':
			printf("lb-http %s\n", LB_VERSION);
			exit(0);
		case 'v':
			cf.verbose++;
			break;
		case 'w':
			cf.nworkers = (int)strtonum(optarg, 1, 256, &e);
			if (e != NULL)
				errx(2, "bad workers '%s': 1 to 256",
				    esc_arg(optarg));
			break;
		case 'X':
			if (trust_parse(optarg, &tr, ebuf, sizeof(ebuf)) == -1)
				errx(2, "%s", ebuf);
			if ((cf.trust = reallocarray(cf.trust, cf.ntrust + 1,
			    sizeof(*cf.trust))) == NULL)
				err(1, NULL);
			cf.trust[cf.ntrust++] = tr;
			break;
		case 'x':
			eject_arg(optarg);
			break;
		case 'z':
			limits_arg(optarg);
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (cf.z_target > cf.z_head)
		cf.z_target = cf.z_head;
	if (cf.l7.lc_nkeyfile > 0 && cf.l7.lc_cookie == NULL)
		errx(2, "-K keys the cookies of -k: give -k too");
	for (k = 0; k < cf.nlisten; k++)
		anytls |= cf.listen_tls[k];
	/*
	 * The default fields: TLS's with a TLS listener, sticky with -k,
	 * the cache's with -M.
	 */
	snprintf(dcols, sizeof(dcols), "time,client,method,host,path,status,"
	    "bytes_in,bytes_out,route,backend,ttfb_ms,ms,end%s%s%s", anytls ?
	    ",tls,cipher,sni" : "", cf.l7.lc_cookie != NULL ? ",sticky" : "",
	    cf.cache_size > 0 ? ",cache" : "");
	if (cf.cache_size > 0 && cf.cache_obj == 0)
		cf.cache_obj = CACHE_OBJ;
	if (cf.cache_obj > cf.cache_size / 8 && cf.cache_size > 0)
		cf.cache_obj = cf.cache_size / 8;
	if (cols_parse(&cf.cols, lh_fields, LF_N, ocols != NULL ? ocols :
	    dcols, ebuf, sizeof(ebuf)) == -1)
		errx(2, "-o: %s", ebuf);
}

static void
backends(int argc, char *argv[])
{
	char	 ebuf[600];
	int	 r;

	if ((r = bset_init(&bs, argv, (size_t)argc, cf.file, ebuf,
	    sizeof(ebuf))) != 0)
		errx(r, "%s", esc_arg(ebuf));
}

/* ---- the main thread ---- */

/* Free the rule sets that every worker has left. */
static void
rules_reap(void)
{
	uint64_t	 seen = UINT64_MAX, g;
	size_t		 i, k;

	for (i = 0; i < (size_t)cf.nworkers; i++)
		if (hws[i] != NULL && (g = atomic_load(&hws[i]->w_rgen)) <
		    seen)
			seen = g;
	for (i = 0, k = 0; i < nretired; i++) {
		if (retired[i].gen < seen)
			rules_free(retired[i].rs);
		else
			retired[k++] = retired[i];
	}
	nretired = k;
}

static void
on_tick(void *arg)
{
	(void)arg;
	tableset_tick(cf.ts);
	alog_tick(cf.log);
	rules_reap();
	cache_tick();
	if (cf.tls != NULL)
		tlssrv_tick(cf.tls);
}

static void
on_hup(void *arg)
{
	struct rules	*rs, *old;
	char		 ebuf[700];
	int		 n;

	(void)arg;
	if (cf.tls != NULL && tlssrv_reload(cf.tls) == 0)
		log_info("HUP: certificates read again");
	if (cf.rfile != NULL) {
		if (nretired == RETIRED_MAX)
			log_warnx("HUP: %s: workers still use older rules: "
			    "not read now", cf.rfile);
		else if ((rs = rules_read(cf.rfile, rargs, nrargs, ebuf,
		    sizeof(ebuf))) == NULL)
			log_warnx("HUP: %s: the rules are left as they were",
			    ebuf);
		else {
			old = atomic_exchange(&cf.rules, rs);
			retired[nretired].rs = old;
			retired[nretired++].gen = atomic_fetch_add(
			    &cf.rules_gen, 1) + 1;
			log_info("HUP: %zu rules", rs->rs_n);
		}
	}
	if (cf.file == NULL || !cf.has_def)
		return;
	/* A bad file, or an emptied one, leaves the table as it was. */
	if ((n = bset_reload(&bs, tableset_table(cf.ts, cf.def_tab),
	    tableset_is_own(cf.ts, cf.def_tab), ebuf, sizeof(ebuf))) == -1) {
		log_warnx("HUP: %s", esc_arg(ebuf));
		return;
	}
	log_info("HUP: %d backends from %s", n, esc_arg(cf.file));
}

static void
tables(void)
{
	char		 ebuf[700];
	struct rules	*rs;
	int		 i;

	if ((cf.ts = tableset_new(cf.mode)) == NULL)
		err(1, NULL);
	/* The default route: -t, or the backends given here. */
	if (cf.table_spec != NULL || bset_count(&bs) > 0) {
		if (cf.table_spec == NULL)
			i = tableset_own(cf.ts, "http", cf.listen_spec[0],
			    worker_bound(0), ebuf, sizeof(ebuf));
		else
			i = tableset_add(cf.ts, cf.table_spec, ebuf,
			    sizeof(ebuf));
		if (i == -1)
			errx(1, "%s", ebuf);
		cf.def_tab = (size_t)i;
		cf.has_def = 1;
		if (bset_load(&bs, tableset_table(cf.ts, cf.def_tab),
		    tableset_is_own(cf.ts, cf.def_tab), ebuf,
		    sizeof(ebuf)) == -1)
			errx(1, "%s", esc_arg(ebuf));
	}
	if ((rs = rules_read(cf.rfile, rargs, nrargs, ebuf,
	    sizeof(ebuf))) == NULL)
		errx(nrargs > 0 && cf.rfile == NULL ? 2 : 1, "%s", ebuf);
	atomic_store(&cf.rules, rs);
}

/*
 * -u: the user the process becomes once its sockets are bound and its
 * keys read: the process that faces the network cannot read them again.
 */
static void
drop_to(const char *user)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL)
		errx(1, "-u: no user '%s'", esc_arg(user));
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)
		err(1, "-u %s", esc_arg(user));
	if (pw->pw_uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		errx(1, "-u %s: could become root again",
		    esc_arg(user));
	log_info("now user %s (%u)", pw->pw_name, (unsigned)pw->pw_uid);
}

static const struct worker_ops hw_ops = {
	hw_init, hw_accept, hw_cut, hw_fini, on_tick, on_hup
};

int
main(int argc, char *argv[])
{
	struct worker_conf wc;
	char		 ebuf[512], as[ADDR_STRLEN];
	size_t		 k;
	long		 nofile;

	worker_signals();
	log_init("lb-http", 0);
	parse_args(argc, argv);
	argc -= optind;
	argv += optind;
	log_init("lb-http", cf.verbose);
	if (cf.nlisten == 0)
		errx(2, "no listener: give -l [addr]:port");
	for (k = 0; k < cf.nlisten && !cf.listen_tls[k]; k++)
		;
	if (k < cf.nlisten && cf.ncerts == 0)
		errx(2, "a TLS listener (-L) needs a certificate: give -c "
		    "cert[,key]");
	if (k == cf.nlisten && cf.ncerts > 0)
		errx(2, "-c gives certificates to TLS listeners: give -L too");
	if (k == cf.nlisten && tls_given)
		errx(2, "-C sets up TLS listeners: give -L too");
	if (cf.tlsconf.tc_client_optional && cf.tlsconf.tc_client_ca == NULL)
		errx(2, "-C client=optional: of which CA? give client-ca=FILE");
	if (tlssrv_conf_check(&cf.tlsconf, ebuf, sizeof(ebuf)) == -1)
		errx(2, "-C: %s", ebuf);
	if (cf.table_spec != NULL && table_name_check(cf.table_spec, ebuf,
	    sizeof(ebuf)) == -1)
		errx(2, "%s", ebuf);
	if (argc == 0 && cf.file == NULL && cf.table_spec == NULL &&
	    nrargs == 0 && cf.rfile == NULL)
		errx(2, "no backends: name some, or give -f file, -t table or "
		    "-r rule");
	backends(argc, argv);
	if ((cf.listen = calloc(cf.nlisten, sizeof(*cf.listen))) == NULL)
		err(1, NULL);
	for (k = 0; k < cf.nlisten; k++)
		if (addr_resolve(cf.listen_spec[k], ADDR_PASSIVE,
		    &cf.listen[k], ebuf, sizeof(ebuf)) == -1)
			errx(1, "listen address %s", ebuf);

	nofile = sock_nofile_raise();
	cf.pipe_pool = (size_t)(nofile / (16 * cf.nworkers));
	if (cf.pipe_pool > PIPE_POOL)
		cf.pipe_pool = PIPE_POOL;
	memset(&wc, 0, sizeof(wc));
	wc.wc_ops = &hw_ops;
	wc.wc_nworkers = cf.nworkers;
	wc.wc_listen = cf.listen;
	wc.wc_nlisten = cf.nlisten;
	wc.wc_grace_ms = cf.grace_ms;
	wc.wc_fds = CONN_FDS;
	wc.wc_fds_spare = 16;
	wc.wc_verbose = cf.verbose;
	if (worker_listen(&wc, ebuf, sizeof(ebuf)) == -1)
		errx(1, "listen %s", ebuf);
	tables();
	tlsctx_io_init();
	/* Before -u: the key files are read once, as TLS keys are. */
	if (sticky_setup(ebuf, sizeof(ebuf)) == -1)
		errx(1, "-K %s", ebuf);
	if (cf.ncerts > 0 && (cf.tls = tlssrv_new(&cf.tlsconf, cf.certs,
	    cf.ncerts, ebuf, sizeof(ebuf))) == NULL)
		errx(1, "%s", ebuf);
	if ((cf.bctx = tlsctx_backend(cf.cafile, 0, ebuf,
	    sizeof(ebuf))) == NULL)
		errx(1, "%s%s", cf.cafile != NULL ? "-A " : "TLS to backends: ",
		    ebuf);
	if ((cf.bctx_noverify = tlsctx_backend(NULL, 1, ebuf,
	    sizeof(ebuf))) == NULL)
		errx(1, "TLS to backends: %s", ebuf);
	if (cf.cache_size > 0 && cache_init(cf.cache_size, cf.cache_obj,
	    cf.t_collapse, ebuf, sizeof(ebuf)) == -1)
		errx(1, "cache: %s", ebuf);
	SSL_CTX_sess_set_new_cb(cf.bctx, btls_new_session);
	SSL_CTX_sess_set_new_cb(cf.bctx_noverify, btls_new_session);
	if (cf.user != NULL)
		drop_to(cf.user);
	if ((cf.log = alog_new(STDOUT_FILENO, cf.nworkers, 0)) == NULL)
		err(1, "access log");
	if (cf.print_addr) {
		for (k = 0; k < cf.nlisten; k++)
			printf("%s\n", addr_fmt(worker_bound(k), as,
			    sizeof(as)));
		if (cf.tls != NULL)
			tlssrv_list(cf.tls, stdout);
		printf("table %s\n", cf.has_def ? tableset_name(cf.ts,
		    cf.def_tab) : "-");
	}
	lh_log_header();
	fflush(stdout);
	for (k = 0; k < cf.nlisten; k++)
		log_info("listening on %s", addr_fmt(worker_bound(k), as,
		    sizeof(as)));
	if (worker_run(&wc, ebuf, sizeof(ebuf)) == -1)
		errx(1, "%s", ebuf);
	alog_free(cf.log);
	cache_free();
	tlssrv_free(cf.tls);
	SSL_CTX_free(cf.bctx);
	SSL_CTX_free(cf.bctx_noverify);
	free(cf.certs);
	free(cf.listen_tls);
	rules_free(atomic_load(&cf.rules));
	for (k = 0; k < nretired; k++)
		rules_free(retired[k].rs);
	tableset_free(cf.ts);
	for (k = 0; k < cf.nedits; k++) {
		free(cf.edits[k].ed_name);
		free(cf.edits[k].ed_line);
	}
	free(cf.edits);
	free(cf.trust);
	free(cf.listen);
	free(cf.listen_spec);
	free(rargs);
	bset_free(&bs);
	return (0);
}
