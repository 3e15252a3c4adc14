/* sni: find the server name in a TLS ClientHello without decrypting. */
#ifndef LB_SNI_H
#define LB_SNI_H

#include <stddef.h>

#define SNI_NAME_MAX	256	/* a DNS name, NUL included */

/*
 * Read the TLS ClientHello at the start of buf (len bytes, only read,
 * never past len) and copy its server name (the host_name of the
 * server_name extension, RFC 6066) into name, NUL-terminated, at most
 * namelen bytes (SNI_NAME_MAX is always enough).
 *
 * Returns
 *   n > 0  a name was found; n is the number of bytes of buf, whole TLS
 *          records, that hold the ClientHello (forward them as they are);
 *   0      a complete, valid ClientHello with no server name (route to
 *          the default);
 *   -2     buf is a strict prefix of what may still be a valid
 *          ClientHello: read more and call again with the whole buffer;
 *   -1     not a TLS ClientHello, or malformed: a record that is not a
 *          handshake, a version other than 3.x, an empty or longer than
 *          2^14 record, lengths that do not add up, an SSLv2-style hello,
 *          two server_name extensions, a name that is empty, longer than
 *          namelen - 1 or has a byte outside letters, digits, '-', '_'
 *          and '.'.
 *
 * The ClientHello may be split across several handshake records (as
 * TLS allows); they are read in place, without a copy.  Each length is
 * checked against the buffer and against its enclosing length.  The
 * whole ClientHello is read before an answer, so that a garbage tail is
 * caught.  A ClientHello can be up to 2^24 bytes: a caller whose buffer
 * is full while this still returns -2 should treat the hello as too long
 * (16 KiB holds every real one seen in practice).
 * name is the client's bytes as sent: compare it without regard to case
 * (sni_match does).  On -1, -2 and 0, name is unspecified.
 */
int	sni_parse(const unsigned char *buf, size_t len, char *name,
	    size_t namelen);

/*
 * Does name match pattern?  A pattern is an exact name ("example.com")
 * or "*." and a suffix ("*.example.com"), which matches exactly one more
 * label in front of the suffix: "a.example.com" but neither
 * "example.com" nor "a.b.example.com".  Comparison ignores case; a
 * trailing dot on either side is not special.  Returns 1 on a match, 0
 * otherwise.  A default route is the caller's choice, not a pattern.
 */
int	sni_match(const char *pattern, const char *name);

#endif
