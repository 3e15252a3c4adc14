/* args_test: durations and addresses as the command line gives them. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "dur.h"
#include "unit.h"

static int
dur(const char *s, uint64_t want)
{
	uint64_t	 ms = 12345;

	return (ok(dur_parse(s, &ms) == 0 && ms == want,
	    "dur_parse(\"%s\") = %llu, not %llu", s, (unsigned long long)ms,
	    (unsigned long long)want));
}

static int
nodur(const char *s)
{
	uint64_t	 ms;

	return (ok(dur_parse(s, &ms) == -1, "dur_parse(\"%s\") took it", s));
}

static void
test_dur(void)
{
	char		 why[128], b[32];
	uint64_t	 ms;

	dur("250ms", 250);
	dur("2", 2000);
	dur("2s", 2000);
	dur("1m", 60000);
	dur("1h", 3600000);
	dur("0.5", 500);
	dur("1.5s", 1500);
	dur(".25s", 250);
	dur("1.5m", 90000);
	dur("0.001", 1);
	dur("1.000000000000s", 1000);
	dur("2.0ms", 2);
	nodur("2.50ms");
	dur("720h", 30ULL * 24 * 3600 * 1000);
	nodur("1.5ms");
	nodur("0.0001s");
	nodur("1.");
	nodur(".");
	nodur("");
	nodur("-1");
	nodur("1e3");
	nodur("1 s");
	nodur("2x");
	nodur("721h");
	nodur("99999999999999999999999");
	CHECK(dur_range("0", 1, 1000, &ms, why, sizeof(why)) == -1);
	CHECK(strcmp(why, "a duration from 1ms to 1s, as 250ms, 1.5s or 2m") ==
	    0);
	CHECK(dur_range("0.5", 1, DUR_MAX_MS, &ms, why, sizeof(why)) == 0 &&
	    ms == 500);
	CHECK(dur_range("2s", 1, 1000, &ms, why, sizeof(why)) == -1);
	CHECK(strcmp(dur_fmt(b, sizeof(b), DUR_MAX_MS), "30d") == 0);
	CHECK(strcmp(dur_fmt(b, sizeof(b), 1500), "1.5s") == 0);
	CHECK(strcmp(dur_fmt(b, sizeof(b), 90000), "90s") == 0);
	CHECK(strcmp(dur_fmt(b, sizeof(b), 120000), "2m") == 0);
	CHECK(strcmp(dur_fmt(b, sizeof(b), 250), "250ms") == 0);
	CHECK(strcmp(dur_fmt(b, sizeof(b), 0), "0ms") == 0);
}

static void
test_addr(void)
{
	static const struct {
		const char	*spec, *means;
	} old[] = { { "0177.0.0.1:80", "127.0.0.1" },
	    { "010.1.1.1:80", "8.1.1.1" }, { "127.1:80", "127.0.0.1" },
	    { "0x7f.0.0.1:80", "127.0.0.1" }, { "2130706433:80", "127.0.0.1" },
	    { "01.2.3.4:80", "1.2.3.4" }, { "10.0.0.010:80", "10.0.0.8" } };
	struct addr	 a;
	char		 e[256], want[128], buf[ADDR_STRLEN];
	size_t		 i;

	for (i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		CHECK(addr_check(old[i].spec, 0, e, sizeof(e)) == -1);
		snprintf(want, sizeof(want), "an old form of the address %s ",
		    old[i].means);
		ok(strstr(e, want) != NULL, "%s: %s", old[i].spec, e);
		CHECK(addr_resolve(old[i].spec, 0, &a, e, sizeof(e)) == -1);
	}
	CHECK(addr_resolve("127.0.0.1:80", 0, &a, e, sizeof(e)) == 0);
	CHECK(strcmp(addr_fmt(&a, buf, sizeof(buf)), "127.0.0.1:80") == 0);
	CHECK(addr_resolve("[::1]:80", 0, &a, e, sizeof(e)) == 0);
	CHECK(addr_check("0.0.0.0:0", ADDR_PASSIVE, e, sizeof(e)) == 0);
	CHECK(addr_check("localhost:80", 0, e, sizeof(e)) == 0);
	/* A name that only starts with digits is a name. */
	CHECK(addr_check("1password.example:443", 0, e, sizeof(e)) == 0);
	CHECK(addr_check("0x7f.example:443", 0, e, sizeof(e)) == 0);
}

int
main(void)
{
	unit_init();
	test_dur();
	test_addr();
	return (unit_done("args_test"));
}
