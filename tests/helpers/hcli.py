#!/usr/bin/env python3
"""hcli: send raw bytes to a server, print what comes back, for the tests.

usage: hcli.py [-s] [-t idle] [-b delay] [-T cafile] [-n name] host:port BYTES...

Each BYTES argument is sent as it is, after Python-style escapes are
read (\\r, \\n, \\x00, \\t); arguments after the first are sent 50 ms
apart (a head that comes in pieces); with -b, every byte is sent alone,
delay seconds apart, until the server stops taking them.  The answer is
printed as it came, until the server closes or is idle for idle seconds
(default 5).  With -s, the status line(s) only.

With -T (or HCLI_TLS in the environment) the bytes go over TLS, the
server's certificate verified against cafile, for the name of -n (or
HCLI_SNI), which is sent as SNI; without a name, none is sent nor
checked.  Exit 0 when the server closed the connection, 3 when it was
still open at the end (idle), 1 on a refused connect (or a failed
handshake), 4 on a reset.
"""
import getopt
import os
import socket
import ssl
import sys
import time

idle, status_only, delay = 5.0, False, None
cafile, name = os.environ.get("HCLI_TLS"), os.environ.get("HCLI_SNI")
opts, args = getopt.getopt(sys.argv[1:], "b:n:sT:t:")
for o, v in opts:
    if o == "-t":
        idle = float(v)
    elif o == "-s":
        status_only = True
    elif o == "-b":
        delay = float(v)
    elif o == "-T":
        cafile = v
    elif o == "-n":
        name = v
host, port = args[0].rsplit(":", 1)
host = host.strip("[]")
try:
    s = socket.create_connection((host, int(port)), timeout=idle)
    if cafile:
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.check_hostname = bool(name)
        s = ctx.wrap_socket(s, server_hostname=name or None)
except (OSError, ssl.SSLError):
    sys.exit(1)
data = [a.encode("latin-1").decode("unicode_escape").encode("latin-1")
        for a in args[1:]]
try:
    if delay is not None:
        for c in b"".join(data):
            s.sendall(bytes([c]))
            time.sleep(delay)
    else:
        for i, a in enumerate(data):
            if i:
                time.sleep(0.05)
            s.sendall(a)
except OSError:
    pass
got, rc = b"", 0
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
except socket.timeout:
    rc = 3
except ConnectionResetError:
    rc = 4
except (ssl.SSLError, OSError):
    rc = 4
if status_only:
    for ln in got.split(b"\r\n"):
        if ln.startswith(b"HTTP/1."):
            print(ln.decode("latin-1"))
else:
    sys.stdout.write(got.decode("latin-1"))
sys.exit(rc)
