#!/usr/bin/env python3
"""tlsloop: HTTPS requests one after another, each on a new connection,
until a file appears, for the tests of reloads under traffic.

usage: tlsloop.py -T cafile -n name [-k] [-s stopfile] host:port outfile

Each request is "GET /" over a new TLS connection to host:port, for name
(SNI, and the name the certificate is verified for, against cafile); a
request fails when the connect, the handshake or the answer does (no
"200" status).  With -k, one more connection, opened first and kept
alive, sends a request after every tenth of the others: a connection
open across a reload must go on working.  When stopfile exists (or after
60 seconds), "ok N fail M serials S" goes to outfile, S the certificate
serial numbers seen, in the order first seen, comma-separated, then a
line per failure.  OUTFILE.count holds how many were made so far.
"""
import getopt
import os
import socket
import ssl
import sys
import time

opts, args = getopt.getopt(sys.argv[1:], "kn:s:T:")
keep, name, stop, cafile = False, None, None, None
for o, v in opts:
    if o == "-k":
        keep = True
    elif o == "-n":
        name = v
    elif o == "-s":
        stop = v
    elif o == "-T":
        cafile = v
host, port = args[0].rsplit(":", 1)
out = args[1]
ctx = ssl.create_default_context(cafile=cafile)


def connect():
    s = socket.create_connection((host, int(port)), timeout=10)
    return ctx.wrap_socket(s, server_hostname=name)


def ask(s):
    s.sendall(b"GET / HTTP/1.1\r\nHost: " + name.encode() + b"\r\n\r\n")
    got = b""
    while b"\r\n\r\n" not in got:
        b = s.recv(4096)
        if not b:
            raise OSError("closed")
        got += b
    head, rest = got.split(b"\r\n\r\n", 1)
    n = 0
    for ln in head.split(b"\r\n"):
        if ln.lower().startswith(b"content-length:"):
            n = int(ln.split(b":")[1])
    while len(rest) < n:
        b = s.recv(4096)
        if not b:
            raise OSError("closed in the body")
        rest += b
    if not head.startswith(b"HTTP/1.1 200"):
        raise OSError(head.split(b"\r\n")[0].decode())


ok, fails, serials = 0, [], []
kept = connect() if keep else None
start = time.time()
i = 0
while not (stop and os.path.exists(stop)) and time.time() - start < 60:
    i += 1
    try:
        s = connect()
        sn = "%x" % int(s.getpeercert()["serialNumber"], 16)
        if sn not in serials:
            serials.append(sn)
        ask(s)
        s.close()
        if kept is not None and i % 10 == 0:
            ask(kept)
        ok += 1
    except (OSError, ssl.SSLError) as e:
        fails.append("%d: %s" % (i, e))
    with open(out + ".count.tmp", "w") as f:
        f.write("%d\n" % i)
    os.replace(out + ".count.tmp", out + ".count")
with open(out + ".tmp", "w") as f:
    f.write("ok %d fail %d serials %s\n" % (ok, len(fails), ",".join(serials)))
    for x in fails:
        f.write(x + "\n")
os.replace(out + ".tmp", out)
