/* proxyproto: read and write HAProxy's PROXY protocol header, v1 and v2. */
#ifndef LB_PROXYPROTO_H
#define LB_PROXYPROTO_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>

#define PROXYPROTO_V1_MAX	107	/* longest v1 line, CRLF included */
#define PROXYPROTO_V2_HDR	16	/* v2 fixed part: signature to length */
#define PROXYPROTO_V2_MAX	(PROXYPROTO_V2_HDR + 65535)
#define PROXYPROTO_WRITE_MAX	108	/* proxyproto_write() never needs more */

/*
 * What a header said.  pp_src and pp_dst hold a sockaddr_in, sockaddr_in6
 * or (v2 only) sockaddr_un; their ss_family is AF_UNSPEC when the header
 * carries no address: v1 "UNKNOWN", v2 LOCAL, or v2 PROXY with family
 * UNSPEC.  Then the receiver uses the real ends of the connection, as the
 * spec says.  The TLVs of a v2 header are checked for shape, not read: they
 * are the pp_tlvlen bytes at offset pp_tlvoff of the parsed buffer.
 */
struct proxyproto {
	int			 pp_version;	/* 1 or 2 */
	int			 pp_local;	/* v2 LOCAL: the proxy's own */
	int			 pp_socktype;	/* SOCK_STREAM, SOCK_DGRAM, 0 */
	struct sockaddr_storage	 pp_src;	/* the client */
	struct sockaddr_storage	 pp_dst;	/* the address it reached */
	size_t			 pp_tlvoff;	/* v2: TLVs, from buf */
	size_t			 pp_tlvlen;
};

/*
 * Parse the PROXY header at the start of buf (len bytes, which need not
 * be NUL-terminated and are only read, never past len).  Detects the
 * version from the first byte.  Returns the length of the header, so the
 * payload starts at buf + n; -2 when buf is a strict prefix of a header
 * that may still be valid (read more and call again with the whole
 * buffer); -1 when it is not a PROXY header or is malformed.
 *
 * v1 is read strictly: "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" with
 * single spaces, numeric addresses of the named family (inet_pton),
 * decimal ports 0-65535 without leading zeros, at most 107 bytes; or
 * "PROXY UNKNOWN" followed by anything up to the CRLF, which is ignored.
 * v2: the 12-byte signature, version 2, command LOCAL or PROXY, family
 * UNSPEC, INET, INET6 or UNIX, transport UNSPEC, STREAM or DGRAM, then
 * the addresses and TLVs the length covers.  A v2 header may be up to
 * PROXYPROTO_V2_MAX bytes: a caller whose buffer is full while this still
 * returns -2 should treat the header as too long.
 * On success *out is filled; on -1 or -2 its contents are unspecified.
 */
int	proxyproto_parse(const char *buf, size_t len, struct proxyproto *out);

/*
 * Write a PROXY header of version 1 or 2 saying that src connected to
 * dst, into buf of len bytes (PROXYPROTO_WRITE_MAX is always enough; no
 * NUL is added).  When both are AF_INET it writes TCP4 (v2: INET,
 * STREAM), when both are AF_INET6 TCP6 (v2: INET6); one of each is sent
 * as IPv6 with the IPv4 address mapped (::ffff:a.b.c.d).  Any other case,
 * unix sockets or a NULL address included, writes "PROXY UNKNOWN\r\n"
 * (v1) or a LOCAL command with family UNSPEC (v2), which tells the
 * receiver to use the connection's own addresses.
 * Returns the number of bytes written, or -1 with errno EINVAL (version
 * not 1 or 2) or ENOBUFS (len too short).
 */
ssize_t	proxyproto_write(int version, const struct sockaddr *src,
	    const struct sockaddr *dst, char *buf, size_t len);

#endif
