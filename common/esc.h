/* esc: untrusted bytes made safe for a TSV field or a JSON string. */
#ifndef LB_ESC_H
#define LB_ESC_H

#include <stddef.h>

/*
 * Write s (n bytes) into dst (at most dlen bytes, NUL added) so that it
 * cannot break a line or a column: tab, newline, carriage return and
 * backslash become \t \n \r \\, other control bytes and bytes past
 * ASCII become \xHH.  Everything else is copied.  Returns the length
 * written (without the NUL), or -1 when it does not fit.
 */
int	esc_tsv(char *dst, size_t dlen, const char *s, size_t n);

/*
 * The same for the inside of a JSON string (no quotes added): '"' and
 * '\' escaped, control bytes as \uXXXX, bytes past ASCII as the code
 * point of the same value (\u0080..\u00ff), so the result is always
 * valid UTF-8.  Returns the length, or -1 when it does not fit.
 */
int	esc_json(char *dst, size_t dlen, const char *s, size_t n);

/*
 * The same for one line of a diagnostic: a value from the command line
 * or another process, shown in a message.  Controls become \xHH (so an
 * ESC or a newline never reaches the terminal raw); the result is cut
 * with "..." when longer than dlen allows.  Returns dst.
 */
char	*esc_msg(char *dst, size_t dlen, const char *s);

/*
 * esc_msg() into one of four static buffers of 1024 bytes, taken in
 * turn: for the values of one message from main(), as in
 * errx(2, "bad -w '%s'", esc_arg(optarg)).  Not for threads.
 */
const char *esc_arg(const char *s);

#endif
