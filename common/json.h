/* json: JSON lines, as every program's -j writes them. */
#ifndef LB_JSON_H
#define LB_JSON_H

#include <stdio.h>

/*
 * Write s to fp as a JSON string, as esc_json() escapes it: quoted,
 * with '"', '\' and control characters escaped (\uXXXX), and a byte
 * past ASCII as the code point of the same value, so that the output is
 * always valid UTF-8 whatever s holds.
 */
void	json_str(FILE *fp, const char *s);

#endif
