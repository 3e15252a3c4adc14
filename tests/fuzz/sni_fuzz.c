/* sni_fuzz: libFuzzer target for sni_parse and sni_match. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sni.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char	 name[SNI_NAME_MAX], name2[SNI_NAME_MAX], pat[SNI_NAME_MAX + 2];
	size_t	 i, n;
	int	 r;

	r = sni_parse(data, len, name, sizeof(name));
	if (r < -2 || (r > 0 && (size_t)r > len))
		abort();
	if (r <= 0)
		return (0);
	n = strlen(name);
	if (n == 0 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n)
		abort();
	/* A valid hello: every strict prefix of it asks for more. */
	for (i = 0; i < (size_t)r && i < 2000; i++)
		if (sni_parse(data, i, name2, sizeof(name2)) != -2)
			abort();
	/* The name matches itself, and its one-label wildcard if it has one. */
	if (!sni_match(name, name))
		abort();
	if (strchr(name, '.') != NULL && name[0] != '.' &&
	    strchr(name, '.')[1] != '\0') {
		pat[0] = '*';
		strcpy(pat + 1, strchr(name, '.'));
		if (!sni_match(pat, name))
			abort();
	}
	return (0);
}
