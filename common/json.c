/* json: JSON lines, as every program's -j writes them. */
#include <stdio.h>
#include <string.h>

#include "esc.h"
#include "json.h"

void
json_str(FILE *fp, const char *s)
{
	char	 buf[1024];
	size_t	 n, chunk;

	fputc('"', fp);
	/* Each byte escapes to at most 6: a chunk always fits. */
	for (n = strlen(s); n > 0; s += chunk, n -= chunk) {
		chunk = n < (sizeof(buf) - 1) / 6 ? n : (sizeof(buf) - 1) / 6;
		if (esc_json(buf, sizeof(buf), s, chunk) >= 0)
			fputs(buf, fp);
	}
	fputc('"', fp);
}
