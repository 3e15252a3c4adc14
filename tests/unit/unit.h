/*
 * unit.h: what every unit test in tests/unit shares.  Each test is one .c
 * file built alone, so the functions are static and defined here.
 *
 *	unit_init()		map UNIT_AREA bytes followed by a PROT_NONE page
 *	unit_place(p, n)	copy n bytes so they end right before that page:
 *				a parser reading one byte too far faults at once
 *	ok(cond, fmt, ...)	count a check; print "not ok: ..." if it failed;
 *				returns cond
 *	CHECK(cond)		ok() saying where and what: file:line: func: cond
 *	unit_done(name)		print "name: N checks, M failed"; returns the
 *				exit status, 0 when nothing failed
 */
#ifndef UNIT_H
#define UNIT_H

#include <sys/mman.h>

#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define UNIT_AREA	(64 * 4096)	/* the longest input a test places */

static unsigned char	*unit_guard;	/* the PROT_NONE page */
static int		 unit_checks, unit_failed;

static inline void
unit_init(void)
{
	size_t		 pg = (size_t)sysconf(_SC_PAGESIZE), sz;
	unsigned char	*m;

	sz = (UNIT_AREA + pg - 1) / pg * pg;
	if ((m = mmap(NULL, sz + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		err(1, "mmap");
	unit_guard = m + sz;
	if (mprotect(unit_guard, pg, PROT_NONE) == -1)
		err(1, "mprotect");
}

static inline const void *
unit_place(const void *p, size_t n)
{
	unsigned char	*d = unit_guard - n;

	if (unit_guard == NULL)
		errx(1, "unit_place before unit_init");
	if (n > UNIT_AREA)
		errx(1, "input of %zu bytes is too long", n);
	memcpy(d, p, n);
	return (d);
}

static inline int __attribute__((__format__(__printf__, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list	 ap;

	unit_checks++;
	if (cond)
		return (1);
	unit_failed++;
	printf("not ok: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return (0);
}

#define CHECK(c)	ok((c) != 0, "%s:%d: %s: %s", __FILE__, __LINE__, \
			    __func__, #c)

static inline int
unit_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, unit_checks, unit_failed);
	return (unit_failed != 0);
}

#endif /* UNIT_H */
