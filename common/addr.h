/* addr: parse, resolve and print host:port, [v6]:port and unix:/path. */
#ifndef LB_ADDR_H
#define LB_ADDR_H

#include <sys/socket.h>
#include <stddef.h>

#define ADDR_STRLEN	128	/* longest printed address, NUL included */

/* The bytes an address may hold (a unix path too): no blanks, no '#'. */
#define ADDR_ALNUM	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define ADDR_CHARS	ADDR_ALNUM "_.:/@%+[]-~,=^"

struct addr {
	socklen_t		 a_len;
	struct sockaddr_storage	 a_ss;	/* sockaddr_in, _in6 or _un */
};

/* flags for addr_resolve() */
#define ADDR_PASSIVE	0x01	/* a listener: ":PORT" means every address */
#define ADDR_NUMERIC	0x02	/* never ask DNS: numeric hosts only */

/*
 * Parse spec ("host:port", "[v6]:port", "unix:/path" and, with
 * ADDR_PASSIVE, ":port") and resolve the host to its first address.
 * Port 0 is accepted only with ADDR_PASSIVE.  Returns 0, or -1 with a
 * short reason in err (NUL-terminated, at most errlen bytes).
 */
int	addr_resolve(const char *spec, int flags, struct addr *a,
	    char *err, size_t errlen);

/*
 * Check the syntax of spec as addr_resolve() would, without a lookup.
 * Returns 0, or -1 with the reason in err.
 */
int	addr_check(const char *spec, int flags, char *err, size_t errlen);

/*
 * What spec says without a lookup, its syntax checked as addr_check()
 * does: for a numeric host or a unix path, the address into a (the
 * port, in host order, also into *port); for a host name, only *port,
 * and a->a_ss.ss_family is AF_UNSPEC.  Returns 0, or -1 when malformed.
 */
int	addr_literal(const char *spec, struct addr *a, int *port);

/*
 * Print a as "1.2.3.4:80", "[::1]:80" or "unix:/path" into buf of
 * len bytes (ADDR_STRLEN is always enough).  Returns buf.
 */
char	*addr_fmt(const struct addr *a, char *buf, size_t len);

/* The port of an inet address in host order, 0 for unix sockets. */
int	addr_port(const struct addr *a);

#endif
