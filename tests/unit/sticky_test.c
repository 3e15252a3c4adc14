/* sticky_test: Cookie fields, hash keys, sticky values, keys and maps. */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blist.h"
#include "cookie.h"
#include "hkey.h"
#include "http1.h"
#include "sticky.h"
#include "table.h"
#include "unit.h"

static char	 e[256];

/* The pairs of v as "name=value|name=value|", each parsed at the guard. */
static const char *
pairs(const char *v)
{
	static char	 out[1024];
	struct cookie_pair p;
	const char	*g = unit_place(v, strlen(v));
	size_t		 off = 0, n = 0;

	out[0] = '\0';
	while (cookie_next(g, strlen(v), &off, &p)) {
		CHECK(p.cp_start < p.cp_end && p.cp_end <= strlen(v));
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%.*s=%.*s|",
		    (int)p.cp_namelen, p.cp_name, (int)p.cp_valuelen,
		    p.cp_value);
	}
	return (out);
}

/* v without the pairs named name, joined as lb-http joins them. */
static const char *
cut(const char *v, const char *name, int *ncut)
{
	static char	 out[1024];
	struct cookie_run r[8];
	const char	*g = unit_place(v, strlen(v));
	int		 n, i;
	size_t		 o = 0;

	n = cookie_cut(g, strlen(v), name, strlen(name), r, 8, ncut);
	if (n < 0)
		return ("(too many)");
	out[0] = '\0';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%.*s",
		    i ? "; " : "", (int)(r[i].cr_end - r[i].cr_start),
		    g + r[i].cr_start);
	return (out);
}

static void
t_cookie(void)
{
	const char	*v;
	size_t		 vl;
	int		 n;

	CHECK(strcmp(pairs("a=1; b=2"), "a=1|b=2|") == 0);
	CHECK(strcmp(pairs("a=1;b=2;"), "a=1|b=2|") == 0);
	CHECK(strcmp(pairs("  a = 1 ;; b=\"x y\" "), "a=1|b=x y|") == 0);
	CHECK(strcmp(pairs("lone; c="), "=lone|c=|") == 0);
	CHECK(strcmp(pairs("a==b"), "a==b|") == 0);
	CHECK(strcmp(pairs(""), "") == 0);
	CHECK(strcmp(pairs(" ;  ; "), "") == 0);
	CHECK(strcmp(pairs("q=\""), "q=\"|") == 0);
	CHECK(cookie_get("x=1; LB=abc; LB=def", 19, "LB", 2, &v, &vl) &&
	    vl == 3 && memcmp(v, "abc", 3) == 0);
	CHECK(!cookie_get("lb=abc", 6, "LB", 2, &v, &vl));
	CHECK(!cookie_get("LBX=abc", 7, "LB", 2, &v, &vl));
	/* cut: the others stay, in order, in as few stretches as can be */
	CHECK(strcmp(cut("a=1; LB=x; b=2", "LB", &n), "a=1; b=2") == 0 &&
	    n == 1);
	CHECK(strcmp(cut("LB=x", "LB", &n), "") == 0 && n == 1);
	CHECK(strcmp(cut("LB=x; a=1;b=2", "LB", &n), "a=1;b=2") == 0);
	CHECK(strcmp(cut("a=1;  b=2 ; LB=x", "LB", &n), "a=1;  b=2") == 0);
	CHECK(strcmp(cut("a=1; b=2", "LB", &n), "a=1; b=2") == 0 && n == 0);
	CHECK(strcmp(cut("LB=1; LB=2; c=3; LB=4", "LB", &n), "c=3") == 0 &&
	    n == 3);
	CHECK(strcmp(cut("a; LB=1; b; LB=2; c; LB=3; d; LB=4; e; LB=5; f; "
	    "LB=6; g; LB=7; h; LB=8; i", "LB", &n), "(too many)") == 0);
	/* one stretch at a time: as many as there are */
	{
		const char *many = "a; LB=1; b; LB=2; c; LB=3; d; LB=4; e; "
		    "LB=5; f; LB=6; g; LB=7; h; LB=8; i;LB=9";
		const char *g = unit_place(many, strlen(many));
		struct cookie_run r;
		size_t	 off = 0;
		char	 got[64];
		int	 k = 0, c = 0;

		while (k < 20 && cookie_cut_next(g, strlen(many), "LB", 2,
		    &off, &r, &c))
			got[k++] = r.cr_end - r.cr_start == 1 ?
			    g[r.cr_start] : '?';
		got[k] = '\0';
		CHECK(strcmp(got, "abcdefghi") == 0 && c == 9 &&
		    off == strlen(many));
	}
	CHECK(cookie_name_ok("SERVERID") && cookie_name_ok("lb.s-1"));
	CHECK(!cookie_name_ok("") && !cookie_name_ok("a b") &&
	    !cookie_name_ok("a=b") && !cookie_name_ok("a;b"));
}

static void
t_hkey(void)
{
	static const char head[] = "GET /cart/x?item=3 HTTP/1.1\r\n"
	    "Host: shop\r\nX-User: alice\r\nX-Empty: \r\n"
	    "Cookie: theme=dark; sid=s42\r\n\r\n";
	struct http1_header hdr[16];
	struct http1_req rq;
	struct hkey	 k;
	struct addr	 a;
	const char	*key;
	size_t		 len;
	int		 fell;
	char		 b[80];

	rq.rq_hdr = hdr;
	rq.rq_nhdr = 16;
	CHECK(http1_parse_request(head, sizeof(head) - 1, &rq) > 0);
	CHECK(addr_resolve("192.0.2.7:1234", 0, &a, e, sizeof(e)) == 0);
	CHECK(hkey_parse("hdr=X-User", &k, e, sizeof(e)) == 0);
	key = hkey_req(&k, &rq, &a, &len, &fell);
	CHECK(len == 5 && memcmp(key, "alice", 5) == 0 && !fell);
	CHECK(hkey_parse("hdr=X-Empty", &k, e, sizeof(e)) == 0);
	key = hkey_req(&k, &rq, &a, &len, &fell);
	CHECK(len == 4 && fell && memcmp(key, "\xc0\x00\x02\x07", 4) == 0);
	CHECK(hkey_parse("cookie=sid", &k, e, sizeof(e)) == 0);
	key = hkey_req(&k, &rq, &a, &len, &fell);
	CHECK(len == 3 && memcmp(key, "s42", 3) == 0 && !fell);
	CHECK(hkey_parse("cookie=nope", &k, e, sizeof(e)) == 0);
	key = hkey_req(&k, &rq, &a, &len, &fell);
	CHECK(len == 4 && fell);
	CHECK(hkey_parse("path", &k, e, sizeof(e)) == 0);
	key = hkey_req(&k, &rq, &a, &len, &fell);
	CHECK(len == 7 && memcmp(key, "/cart/x", 7) == 0 && !fell);
	CHECK(strcmp(hkey_str(&k, b, sizeof(b)), "path") == 0);
	CHECK(hkey_parse("addr", &k, e, sizeof(e)) == 0 &&
	    k.hk_kind == HKEY_ADDR);
	key = hkey_req(&k, &rq, &a, &len, &fell);
	CHECK(len == 4 && !fell);
	CHECK(hkey_parse("hdr=", &k, e, sizeof(e)) == -1);
	CHECK(hkey_parse("hdr=a b", &k, e, sizeof(e)) == -1);
	CHECK(hkey_parse("header=X", &k, e, sizeof(e)) == -1);
	CHECK(hkey_parse("cookie=x", &k, e, sizeof(e)) == 0 &&
	    strcmp(hkey_str(&k, b, sizeof(b)), "cookie=x") == 0);
}

/* A key file of content c and mode m; returns its path. */
static const char *
keyfile(const char *dir, const char *c, mode_t m)
{
	static char	 p[512];
	int		 fd;

	snprintf(p, sizeof(p), "%s/key", dir);
	unlink(p);
	if ((fd = open(p, O_WRONLY | O_CREAT, 0600)) == -1 ||
	    write(fd, c, strlen(c)) != (ssize_t)strlen(c))
		err(1, "%s", p);
	fchmod(fd, m);
	close(fd);
	return (p);
}

static void
t_keys(const char *dir)
{
	struct sticky_keys k, r;
	char		 v[STICKY_VALUE_LEN + 1], w[STICKY_VALUE_LEN + 1];

	memset(&k, 0, sizeof(k));
	/* the value is HMAC-SHA256 as documented: checked against Python's */
	CHECK(sticky_key_file(&k, keyfile(dir,
	    "0123456789abcdef0123456789abcdef\n", 0600), e, sizeof(e)) == 0);
	CHECK(k.sk_len[0] == 32);
	sticky_value(&k, 0, "web1", v);
	ok(strcmp(v, "G2QuKOmHIJSt0wKoFWsLVA") == 0, "value of web1: %s", v);
	sticky_value(&k, 0, "web2", w);
	CHECK(strlen(w) == STICKY_VALUE_LEN && strcmp(v, w) != 0);
	/* no name, no address readable in it */
	CHECK(strstr(v, "web") == NULL);
	CHECK(sticky_key_file(&k, keyfile(dir, "short\n", 0600), e,
	    sizeof(e)) == -1 && strstr(e, "16 to 1024 bytes") != NULL);
	CHECK(sticky_key_file(&k, keyfile(dir,
	    "0123456789abcdef0123456789abcdef", 0604), e, sizeof(e)) == -1 &&
	    strstr(e, "others may read (mode 0604)") != NULL);
	CHECK(sticky_key_file(&k, "/nonexistent/key", e, sizeof(e)) == -1 &&
	    strstr(e, "/nonexistent/key") != NULL);
	CHECK(k.sk_n == 1);
	memset(&r, 0, sizeof(r));
	CHECK(sticky_key_random(&r, e, sizeof(e)) == 0 && r.sk_len[0] == 32);
	sticky_value(&r, 0, "web1", w);
	CHECK(strcmp(v, w) != 0);
}

static void
t_map(const char *dir)
{
	struct sticky_keys k;
	struct sticky_map m;
	struct blist_entry be;
	struct table	*t;
	struct table_snap s;
	char		 path[512], v[STICKY_VALUE_LEN + 1];
	char		*words[2];
	uint32_t	 slot;
	uint64_t	 uid;
	int		 i, key, at;

	memset(&k, 0, sizeof(k));
	memset(&m, 0, sizeof(m));
	memset(&s, 0, sizeof(s));
	CHECK(sticky_key_file(&k, keyfile(dir, "new-key-new-key-new-key", 0600),
	    e, sizeof(e)) == 0);
	CHECK(sticky_key_file(&k, keyfile(dir, "old-key-old-key-old-key", 0600),
	    e, sizeof(e)) == 0);
	snprintf(path, sizeof(path), "%s/table", dir);
	if ((t = table_open(path, TABLE_RDWR | TABLE_CREATE, 64, 0, e,
	    sizeof(e))) == NULL)
		errx(1, "%s", e);
	table_begin(t, e, sizeof(e));
	for (i = 0; i < 40; i++) {
		char	 a[32], n[32];

		snprintf(a, sizeof(a), "127.0.0.1:%d", 1000 + i);
		snprintf(n, sizeof(n), "name=b%d", i);
		words[0] = a;
		words[1] = n;
		if (blist_words(words, 2, &be, e, sizeof(e)) == -1 ||
		    blist_resolve(&be, e, sizeof(e)) == -1 ||
		    (at = table_alloc(t)) == -1)
			errx(1, "%s", e);
		be.ble_set |= BLIST_NAME;
		blist_apply(table_slot(t, (uint32_t)at), &be);
	}
	table_commit(t);
	CHECK(table_snapshot(t, &s, e, sizeof(e)) == 0);
	CHECK(sticky_map_build(&m, &k, &s) == 0 && m.sm_n == 80);
	for (i = 0; i < 40; i++) {
		char	 n[32];

		snprintf(n, sizeof(n), "b%d", i);
		for (int kk = 0; kk < 2; kk++) {
			sticky_value(&k, kk, n, v);
			CHECK(sticky_map_find(&m, v, STICKY_VALUE_LEN, &slot,
			    &uid, &key) == 1 && key == kk &&
			    strcmp(s.sn_be[slot].be_name, n) == 0 &&
			    s.sn_be[slot].be_uid == uid);
			/* by slot: the value of the key that signs */
			if (kk == 0)
				CHECK(sticky_map_value(&m, slot, uid) != NULL &&
				    memcmp(sticky_map_value(&m, slot, uid), v,
				    STICKY_VALUE_LEN) == 0);
			CHECK(sticky_map_value(&m, slot, uid + 1) == NULL);
			/* one bit off, one byte short: names nothing */
			v[5] ^= 1;
			CHECK(sticky_map_find(&m, v, STICKY_VALUE_LEN, &slot,
			    &uid, &key) == 0);
			v[5] ^= 1;
			CHECK(sticky_map_find(&m, v, STICKY_VALUE_LEN - 1,
			    &slot, &uid, &key) == 0);
		}
	}
	/* a backend gone: its value names nothing once the map is rebuilt */
	table_begin(t, e, sizeof(e));
	table_free(t, (uint32_t)table_find(t, "b7"));
	table_commit(t);
	CHECK(table_snapshot(t, &s, e, sizeof(e)) == 0);
	CHECK(sticky_map_build(&m, &k, &s) == 0 && m.sm_n == 78);
	sticky_value(&k, 0, "b7", v);
	CHECK(sticky_map_find(&m, v, STICKY_VALUE_LEN, &slot, &uid,
	    &key) == 0);
	CHECK(sticky_map_value(&m, 7, uid) == NULL);
	CHECK(sticky_map_value(&m, 1000, uid) == NULL);
	sticky_value(&k, 0, "b8", v);
	CHECK(sticky_map_find(&m, v, STICKY_VALUE_LEN, &slot, &uid,
	    &key) == 1);
	sticky_map_free(&m);
	table_snap_free(&s);
	table_close(t);
	unlink(path);
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: sticky_test dir\n");
		return (2);
	}
	unit_init();
	t_cookie();
	t_hkey();
	t_keys(argv[1]);
	t_map(argv[1]);
	return (unit_done("sticky_test"));
}
