/* json: JSON lines, as every program's -j writes them. */
#ifndef LB_JSON_H
#define LB_JSON_H

#include <stdio.h>

/*
 * Write s to fp as a JSON string: quoted, with '"', '\' and control
 * characters escaped (\uXXXX), every other byte as it is.
 */
void	json_str(FILE *fp, const char *s);

#endif
