/* log: diagnostics on stderr, prefixed with the program's name. */
#ifndef LB_LOG_H
#define LB_LOG_H

#include <stdarg.h>

/*
 * Set the name that prefixes every message (default: the program's
 * short name) and the verbosity: 0 warnings only, 1 info, 2 debug.
 */
void	log_init(const char *name, int verbose);
/* "NAME: message: strerror(errno)" */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "NAME: message" */
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* as log_warnx, only at verbosity 1 or more */
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* as log_warnx, only at verbosity 2 or more */
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn, then exit(1): for programs, after their event loop started */
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/* log_warnx, then exit(1) */
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
