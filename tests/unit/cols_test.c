/* cols_test: -o selections, TSV and JSON rows, their escaping, json_str. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cols.h"
#include "esc.h"
#include "json.h"
#include "unit.h"

static const struct cols_field F[] = {
	{ "time", COLS_TEXT }, { "backend", COLS_TEXT },
	{ "bytes_in", COLS_NUM }, { "ms", COLS_NUM }, { "sni", COLS_TEXT },
};
#define NF	(sizeof(F) / sizeof(F[0]))

static void
test_parse(void)
{
	struct cols	 c;
	char		 e[1024];

	CHECK(cols_parse(&c, F, NF, "backend,ms", e, sizeof(e)) == 0);
	CHECK(c.cs_n == 2 && c.cs_sel[0] == 1 && c.cs_sel[1] == 3);
	CHECK(cols_has(&c, 1) && cols_has(&c, 3) && !cols_has(&c, 0));
	CHECK(cols_parse(&c, F, NF, "ms,nope", e, sizeof(e)) == -1);
	CHECK(strcmp(e, "unknown field 'nope': the fields are time, backend, "
	    "bytes_in, ms, sni") == 0);
	CHECK(cols_parse(&c, F, NF, "ms,ms", e, sizeof(e)) == -1);
	CHECK(strcmp(e, "field 'ms' named twice") == 0);
	CHECK(cols_parse(&c, F, NF, "", e, sizeof(e)) == -1);
	CHECK(cols_parse(&c, F, NF, "ms,", e, sizeof(e)) == -1);
	CHECK(strncmp(e, "unknown field ''", 16) == 0);
	/* A name from the command line is never shown raw. */
	CHECK(cols_parse(&c, F, NF, "a\033[2Jb\nc", e, sizeof(e)) == -1);
	CHECK(strncmp(e, "unknown field 'a\\x1b[2Jb\\x0ac': ", 32) == 0);
	CHECK(cols_find(F, NF, "sni") == 4 && cols_find(F, NF, "x") == -1);
}

static void
test_lines(void)
{
	struct cols	 c;
	struct cols_val	 v[NF];
	char		 e[256], *buf;
	ssize_t		 n;
	size_t		 len;

	memset(v, 0, sizeof(v));
	cols_text(&v[0], "2026-01-01T00:00:00.000Z", 24);
	cols_text(&v[1], "a b\t\"c\"\\", 8);
	cols_num(&v[2], 18446744073709551615ULL);
	cols_text(&v[3], "12", 2);
	cols_null(&v[4]);
	CHECK(cols_parse(&c, F, NF, "backend,bytes_in,ms,sni,time", e,
	    sizeof(e)) == 0);
	buf = malloc(4096);
	CHECK(cols_header(&c, buf, 4096) > 0);
	CHECK(strcmp(buf, "# backend\tbytes_in\tms\tsni\ttime\n") == 0);
	n = cols_line(&c, v, 0, buf, 4096);
	CHECK(n > 0 && strcmp(buf, "a b\\t\"c\"\\\\\t18446744073709551615\t12\t"
	    "-\t2026-01-01T00:00:00.000Z\n") == 0);
	CHECK((size_t)n == strlen(buf));
	n = cols_line(&c, v, 1, buf, 4096);
	CHECK(n > 0 && strcmp(buf, "{\"backend\":\"a b\\u0009\\\"c\\\"\\\\\","
	    "\"bytes_in\":18446744073709551615,\"ms\":12,\"sni\":null,"
	    "\"time\":\"2026-01-01T00:00:00.000Z\"}\n") == 0);
	/* Empty text: "-" in TSV, "" in JSON; a byte past ASCII stays UTF-8. */
	cols_text(&v[1], "", 0);
	CHECK(cols_parse(&c, F, NF, "backend", e, sizeof(e)) == 0);
	CHECK(cols_line(&c, v, 0, buf, 4096) == 2 && strcmp(buf, "-\n") == 0);
	CHECK(cols_line(&c, v, 1, buf, 4096) > 0 &&
	    strcmp(buf, "{\"backend\":\"\"}\n") == 0);
	cols_text(&v[1], "\xe9\n", 2);
	CHECK(cols_line(&c, v, 1, buf, 4096) > 0 &&
	    strcmp(buf, "{\"backend\":\"\xc3\xa9\\u000a\"}\n") == 0);
	CHECK(cols_line(&c, v, 0, buf, 4096) > 0 &&
	    strcmp(buf, "\\xe9\\n\n") == 0);
	free(buf);

	/* Every length of buffer, ending right before a PROT_NONE page. */
	cols_text(&v[1], "x\ty", 3);
	CHECK(cols_parse(&c, F, NF, "time,backend,bytes_in,ms,sni", e,
	    sizeof(e)) == 0);
	for (len = 0; len < 120; len++) {
		buf = (char *)(uintptr_t)unit_place("", 0) - len;
		n = cols_line(&c, v, len % 2, buf, len);
		if (n >= 0)
			CHECK((size_t)n < len && buf[n] == '\0' &&
			    buf[n - 1] == '\n');
	}
}

static void
test_json_str(void)
{
	char	*p = NULL;
	size_t	 n = 0;
	FILE	*fp;
	char	 big[3000];

	if ((fp = open_memstream(&p, &n)) == NULL)
		return;
	json_str(fp, "connect: refused \"x\"\x01\xff");
	fclose(fp);
	CHECK(strcmp(p, "\"connect: refused \\\"x\\\"\\u0001\xc3\xbf\"") == 0);
	free(p);
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	p = NULL;
	if ((fp = open_memstream(&p, &n)) == NULL)
		return;
	json_str(fp, big);
	fclose(fp);
	CHECK(n == 2 + 6 * (sizeof(big) - 1));
	free(p);
}

static void
test_esc_arg(void)
{
	const char	*a = esc_arg("x\ay"), *b = esc_arg("\033[31m");

	CHECK(strcmp(a, "x\\x07y") == 0);
	CHECK(strcmp(b, "\\x1b[31m") == 0);
}

int
main(void)
{
	unit_init();
	test_parse();
	test_lines();
	test_json_str();
	test_esc_arg();
	return (unit_done("cols_test"));
}
