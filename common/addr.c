/* addr: parse, resolve and print host:port, [v6]:port and unix:/path. */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static int
parse_port(const char *s, int passive, int *port)
{
	long	 n = 0;
	const char *p;

	if (*s == '\0' || strlen(s) > 5)
		return (-1);
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return (-1);
		n = n * 10 + (*p - '0');
	}
	if (n > 65535 || (n == 0 && !passive))
		return (-1);
	*port = (int)n;
	return (0);
}

/*
 * An IPv4 address in one of the old forms that inet_aton(3), and so
 * getaddrinfo(3), still reads: octal parts ("0177.0.0.1" is 127.0.0.1,
 * "010.1.1.1" is 8.1.1.1), hex ("0x7f.1"), fewer than four parts
 * ("127.1") or one number ("2130706433").  Each means another address
 * than it seems to, so it is refused, with the address it would be.
 * Returns 1 (reason in err) for such a host, else 0.
 */
static int
old_style(const char *host, char *err, size_t errlen)
{
	struct in_addr	 in, canon;
	char		 dotted[INET_ADDRSTRLEN];

	if (inet_aton(host, &in) == 0 || inet_pton(AF_INET, host, &canon) == 1)
		return (0);
	inet_ntop(AF_INET, &in, dotted, sizeof(dotted));
	snprintf(err, errlen, "bad host '%s': an old form of the address %s "
	    "(octal, hex or fewer than four parts): write %s", host, dotted,
	    dotted);
	return (1);
}

/*
 * The syntax of spec: host (without brackets) into host, port into
 * *port, *v6 set when it was bracketed.  Returns 0 or -1 with err.
 */
static int
addr_split(const char *spec, int flags, char *host, size_t hostlen,
    int *port, int *v6, char *err, size_t errlen)
{
	const char	*colon, *hs, *he;
	size_t		 hl;

	*v6 = spec[0] == '[';
	if (spec[0] == '[') {
		hs = spec + 1;
		if ((he = strchr(hs, ']')) == NULL || he[1] != ':') {
			snprintf(err, errlen, "expected [v6addr]:port");
			return (-1);
		}
		colon = he + 1;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL) {
			snprintf(err, errlen, "expected host:port");
			return (-1);
		}
		hs = spec;
		he = colon;
		if (memchr(hs, ':', (size_t)(he - hs)) != NULL) {
			snprintf(err, errlen,
			    "an IPv6 address needs brackets: [v6addr]:port");
			return (-1);
		}
	}
	hl = (size_t)(he - hs);
	if (hl >= hostlen) {
		snprintf(err, errlen, "host name too long");
		return (-1);
	}
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (parse_port(colon + 1, flags & ADDR_PASSIVE, port) == -1) {
		snprintf(err, errlen, "bad port '%s'", colon + 1);
		return (-1);
	}
	if (hl == 0 && !(flags & ADDR_PASSIVE)) {
		snprintf(err, errlen, "missing host");
		return (-1);
	}
	if (strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-_:%") != hl) {
		snprintf(err, errlen, "bad host '%s'", host);
		return (-1);
	}
	if (!*v6 && old_style(host, err, errlen))
		return (-1);
	return (0);
}

int
addr_check(const char *spec, int flags, char *err, size_t errlen)
{
	char	 host[ADDR_STRLEN];
	int	 port, v6;

	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un sun;

		if (spec[5] != '/') {
			snprintf(err, errlen, "a unix socket path must be "
			    "absolute: unix:/path");
			return (-1);
		}
		if (strlen(spec + 5) >= sizeof(sun.sun_path)) {
			snprintf(err, errlen, "unix socket path longer than "
			    "%zu bytes", sizeof(sun.sun_path) - 1);
			return (-1);
		}
		/* What a backend list and a log line can carry as it is. */
		if (strspn(spec + 5, ADDR_CHARS) != strlen(spec + 5)) {
			snprintf(err, errlen, "a unix socket path may hold only "
			    "A-Z a-z 0-9 and _ . : / @ %% + [ ] - ~ , = ^");
			return (-1);
		}
		return (0);
	}
	return (addr_split(spec, flags, host, sizeof(host), &port, &v6, err,
	    errlen));
}

int
addr_resolve(const char *spec, int flags, struct addr *a, char *err,
    size_t errlen)
{
	struct addrinfo	 hints, *res = NULL;
	struct sockaddr_un *sun;
	char		 host[ADDR_STRLEN], portstr[8];
	int		 port, rc, v6;

	memset(a, 0, sizeof(*a));
	if (addr_check(spec, flags, err, errlen) == -1)
		return (-1);
	if (strncmp(spec, "unix:", 5) == 0) {
		sun = (struct sockaddr_un *)&a->a_ss;
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, spec + 5);
		a->a_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    strlen(spec + 5) + 1);
		return (0);
	}
	if (addr_split(spec, flags, host, sizeof(host), &port, &v6, err,
	    errlen) == -1)
		return (-1);
	snprintf(portstr, sizeof(portstr), "%d", port);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = v6 ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (flags & ADDR_NUMERIC)
		hints.ai_flags |= AI_NUMERICHOST;
	if (flags & ADDR_PASSIVE)
		hints.ai_flags |= AI_PASSIVE;
	if ((rc = getaddrinfo(host[0] ? host : NULL, portstr, &hints,
	    &res)) != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", host,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return (-1);
	}
	if (res->ai_addrlen > sizeof(a->a_ss)) {
		freeaddrinfo(res);
		snprintf(err, errlen, "address too long");
		return (-1);
	}
	memcpy(&a->a_ss, res->ai_addr, res->ai_addrlen);
	a->a_len = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

int
addr_literal(const char *spec, struct addr *a, int *port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->a_ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->a_ss;
	char		 host[ADDR_STRLEN], e[64];
	int		 v6;

	memset(a, 0, sizeof(*a));
	*port = 0;
	if (strncmp(spec, "unix:", 5) == 0)
		return (addr_resolve(spec, 0, a, e, sizeof(e)));
	if (addr_split(spec, 0, host, sizeof(host), port, &v6, e,
	    sizeof(e)) == -1)
		return (-1);
	/* inet_pton(), not getaddrinfo(): never a lookup, never a file. */
	if (v6 && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)*port);
		a->a_len = sizeof(*sin6);
	} else if (!v6 && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)*port);
		a->a_len = sizeof(*sin);
	}
	return (0);
}

char *
addr_fmt(const struct addr *a, char *buf, size_t len)
{
	char	 h[INET6_ADDRSTRLEN];
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_un *sun;

	switch (a->a_ss.ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)&a->a_ss;
		inet_ntop(AF_INET, &sin->sin_addr, h, sizeof(h));
		snprintf(buf, len, "%s:%d", h, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)&a->a_ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, h, sizeof(h));
		snprintf(buf, len, "[%s]:%d", h, ntohs(sin6->sin6_port));
		break;
	case AF_UNIX:
		sun = (const struct sockaddr_un *)&a->a_ss;
		snprintf(buf, len, "unix:%.*s", (int)sizeof(sun->sun_path),
		    sun->sun_path);
		break;
	default:
		snprintf(buf, len, "?");
		break;
	}
	return (buf);
}

int
addr_port(const struct addr *a)
{
	if (a->a_ss.ss_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)&a->a_ss)->sin_port));
	if (a->a_ss.ss_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)&a->a_ss)->sin6_port));
	return (0);
}
