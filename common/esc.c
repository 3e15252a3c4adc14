/* esc: untrusted bytes made safe for a TSV field or a JSON string. */
#include <string.h>

#include "esc.h"

static const char hex[] = "0123456789abcdef";

int
esc_tsv(char *dst, size_t dlen, const char *s, size_t n)
{
	size_t		 i, o = 0;
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= dlen)
				return (-1);
			dst[o++] = (char)c;
			continue;
		}
		if (o + 4 >= dlen)
			return (-1);
		dst[o++] = '\\';
		switch (c) {
		case '\t':
			dst[o++] = 't';
			break;
		case '\n':
			dst[o++] = 'n';
			break;
		case '\r':
			dst[o++] = 'r';
			break;
		case '\\':
			dst[o++] = '\\';
			break;
		default:
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
			break;
		}
	}
	if (o >= dlen)
		return (-1);
	dst[o] = '\0';
	return ((int)o);
}

int
esc_json(char *dst, size_t dlen, const char *s, size_t n)
{
	size_t		 i, o = 0;
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f) {
			if (o + 2 >= dlen)
				return (-1);
			if (c == '"' || c == '\\')
				dst[o++] = '\\';
			dst[o++] = (char)c;
		} else if (c >= 0x80) {
			/* U+0080..U+00FF in UTF-8: two bytes. */
			if (o + 2 >= dlen)
				return (-1);
			dst[o++] = (char)(0xc0 | (c >> 6));
			dst[o++] = (char)(0x80 | (c & 0x3f));
		} else {
			if (o + 6 >= dlen)
				return (-1);
			memcpy(dst + o, "\\u00", 4);
			dst[o + 4] = hex[c >> 4];
			dst[o + 5] = hex[c & 15];
			o += 6;
		}
	}
	if (o >= dlen)
		return (-1);
	dst[o] = '\0';
	return ((int)o);
}

char *
esc_msg(char *dst, size_t dlen, const char *s)
{
	size_t		 i, o = 0;
	unsigned char	 c;

	if (dlen == 0)
		return (dst);
	for (i = 0; s[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		if (o + 8 >= dlen) {
			if (dlen > 4) {
				o = o < dlen - 4 ? o : dlen - 4;
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (c >= 0x20 && c != 0x7f)
			dst[o++] = (char)c;
		else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return (dst);
}

const char *
esc_arg(const char *s)
{
	static char	 buf[4][1024];
	static int	 next;

	next = (next + 1) % 4;
	return (esc_msg(buf[next], sizeof(buf[next]), s));
}
