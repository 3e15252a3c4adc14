/* check_test: result words, rise/fall, agent words and status parsers. */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "table.h"
#include "unit.h"

static int
status(const char *s, int *code)
{
	return (check_http_status(unit_place(s, strlen(s)), strlen(s), code));
}

static int
agent(const char *s, int *share)
{
	return (check_agent_parse(unit_place(s, strlen(s)), strlen(s), share));
}

static void
test_words(void)
{
	char	 b[64];

	CHECK(strcmp(check_result_word(CHECK_L4CON, "refused", b, sizeof(b)),
	    "L4CON:refused") == 0);
	CHECK(strcmp(check_result_word(CHECK_L6RSP, "certificate verify failed",
	    b, sizeof(b)), "L6RSP:certificate-verify-failed") == 0);
	CHECK(strcmp(check_result_word(CHECK_L4OK, NULL, b, sizeof(b)),
	    "L4OK") == 0);
	CHECK(strcmp(check_reason(CHECK_L7STS, "503", 0, b, sizeof(b)),
	    "http: 503") == 0);
	CHECK(strcmp(check_reason(CHECK_L4TOUT, NULL, 1000, b, sizeof(b)),
	    "connect: timeout after 1s") == 0);
	CHECK(strcmp(check_reason(CHECK_EXTOUT, NULL, 250, b, sizeof(b)),
	    "exec: killed after 250ms") == 0);
	CHECK(strcmp(check_reason(CHECK_EXFAIL, "exit 3", 0, b, sizeof(b)),
	    "exec: exit 3") == 0);
	CHECK(check_passed(CHECK_L7OK) && !check_passed(CHECK_L7RSP));
	CHECK(!check_passed(-1) && !check_passed(CHECK_NRESULTS));
	CHECK(strcmp(check_result_str(99), "?") == 0);
}

static void
test_status(void)
{
	struct check_status st;
	int	 code = 0;

	CHECK(check_status_parse("200-399", &st) == 0);
	CHECK(check_status_match(&st, 200) && check_status_match(&st, 399));
	CHECK(!check_status_match(&st, 400) && !check_status_match(&st, 199));
	CHECK(check_status_parse("200,204,500-503", &st) == 0 && st.st_n == 3);
	CHECK(check_status_match(&st, 502) && !check_status_match(&st, 201));
	CHECK(check_status_parse("600", &st) == -1);
	CHECK(check_status_parse("399-200", &st) == -1);
	CHECK(check_status_parse("", &st) == -1);
	CHECK(check_status_parse("20", &st) == -1);
	CHECK(check_status_parse("200-", &st) == -1);
	CHECK(check_status_parse("2xx", &st) == -1);
	CHECK(check_status_parse("200,", &st) == -1);
	CHECK(check_status_parse("1,2,3,4,5,6,7,8,9", &st) == -1);

	CHECK(status("HTTP/1.1 200 OK\r\n", &code) == 17 && code == 200);
	CHECK(status("HTTP/1.0 503\r\n", &code) == 14 && code == 503);
	CHECK(status("HTTP/1.1 20", &code) == -2);
	CHECK(status("HTTP/1.1 200", &code) == -2);
	CHECK(status("HTTP/1.1 200 OK", &code) == -2);
	CHECK(status("HTTP/", &code) == -2);
	CHECK(status("", &code) == -2);
	CHECK(status("SSH-2.0-OpenSSH\r\n", &code) == -1);
	CHECK(status("HTTP/2 200\r\n", &code) == -1);
	CHECK(status("HTTP/1.1 2x0 OK\r\n", &code) == -1);
	CHECK(status("HTTP/1.1 099 X\r\n", &code) == -1);
	CHECK(status("HTTP/1.1 2000 X\r\n", &code) == -1);

	CHECK(check_http_head("HTTP/1.1 200 OK\r\n\r\nbody", 23) == 19);
	CHECK(check_http_head("HTTP/1.1 200 OK\n\nbody", 21) == 17);
	CHECK(check_http_head("HTTP/1.1 200 OK\r\nA: b\r\n", 23) == -2);
}

static void
test_agent(void)
{
	int	 share = -1;

	CHECK(agent("up", &share) == CHECK_AGENT_UP);
	CHECK(agent("DOWN\n", &share) == CHECK_AGENT_DOWN);
	CHECK(agent("drain 50%", &share) == (CHECK_AGENT_DRAIN |
	    CHECK_AGENT_SHARE) && share == 50);
	CHECK(agent(" maint,", &share) == CHECK_AGENT_MAINT);
	CHECK(agent("75%", &share) == CHECK_AGENT_SHARE && share == 75);
	CHECK(agent("0%", &share) == CHECK_AGENT_SHARE && share == 0);
	share = 7;
	CHECK(agent("101%", &share) == 0 && share == 7);
	CHECK(agent("%", &share) == 0);
	CHECK(agent("x%", &share) == 0);
	CHECK(agent("upper downer", &share) == 0);
	CHECK(agent("", &share) == 0);
	CHECK(agent("all good, up", &share) == CHECK_AGENT_UP);
}

static void
test_step(void)
{
	struct check_state cs;
	int	 i;

	memset(&cs, 0, sizeof(cs));
	/* From unknown, the first result decides. */
	CHECK(check_step(&cs, 1, 0, 2, 3) == TABLE_HEALTH_UP);
	/* Up needs fall failures in a row; a pass starts the count again. */
	CHECK(check_step(&cs, 0, 0, 2, 3) == TABLE_HEALTH_UP);
	CHECK(check_changing(&cs));
	CHECK(check_step(&cs, 0, 0, 2, 3) == TABLE_HEALTH_UP);
	CHECK(check_step(&cs, 1, 0, 2, 3) == TABLE_HEALTH_UP);
	CHECK(!check_changing(&cs));
	for (i = 0; i < 2; i++)
		CHECK(check_step(&cs, 0, 0, 2, 3) == TABLE_HEALTH_UP);
	CHECK(check_step(&cs, 0, 0, 2, 3) == TABLE_HEALTH_DOWN);
	CHECK(!check_changing(&cs));
	/* Down needs rise passes in a row. */
	CHECK(check_step(&cs, 1, 0, 2, 3) == TABLE_HEALTH_DOWN);
	CHECK(check_changing(&cs));
	CHECK(check_step(&cs, 0, 0, 2, 3) == TABLE_HEALTH_DOWN);
	CHECK(check_step(&cs, 1, 0, 2, 3) == TABLE_HEALTH_DOWN);
	CHECK(check_step(&cs, 1, 0, 2, 3) == TABLE_HEALTH_UP);
	/* Agent words act at once. */
	CHECK(check_step(&cs, 1, CHECK_AGENT_DRAIN, 2, 3) ==
	    TABLE_HEALTH_DRAIN);
	CHECK(check_step(&cs, 1, 0, 2, 3) == TABLE_HEALTH_UP);
	CHECK(check_step(&cs, 1, CHECK_AGENT_MAINT, 2, 3) == TABLE_HEALTH_DOWN);
	CHECK(check_step(&cs, 1, CHECK_AGENT_UP, 2, 3) == TABLE_HEALTH_UP);
	CHECK(check_step(&cs, 0, CHECK_AGENT_DOWN, 2, 3) == TABLE_HEALTH_DOWN);
	/* "up" from a failing command is not believed. */
	CHECK(check_step(&cs, 0, CHECK_AGENT_UP, 2, 3) == TABLE_HEALTH_DOWN);
	/* A passive mark: down, and probed fast until it rises. */
	memset(&cs, 0, sizeof(cs));
	cs.cs_health = TABLE_HEALTH_UP;
	check_mark_down(&cs);
	CHECK(cs.cs_health == TABLE_HEALTH_DOWN && cs.cs_passive);
	CHECK(check_step(&cs, 1, 0, 1, 3) == TABLE_HEALTH_UP && !cs.cs_passive);
}

int
main(void)
{
	unit_init();
	test_words();
	test_status();
	test_agent();
	test_step();
	return (unit_done("check_test"));
}
