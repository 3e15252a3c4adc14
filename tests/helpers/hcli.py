#!/usr/bin/env python3
"""hcli: send raw bytes to a server, print what comes back, for the tests.

usage: hcli.py [-t idle] [-s] host:port BYTES...

Each BYTES argument is sent as it is, after Python-style escapes are
read (\\r, \\n, \\x00, \\t); arguments after the first are sent 50 ms
apart (a head that comes in pieces).  The answer is printed as it came,
until the server closes or is idle for idle seconds (default 5).  With
-s, the status line(s) only.  Exit 0 when the server closed the
connection, 3 when it was still open at the end (idle), 1 on a refused
connect, 4 on a reset.
"""
import getopt
import socket
import sys
import time

idle, status_only = 5.0, False
opts, args = getopt.getopt(sys.argv[1:], "st:")
for o, v in opts:
    if o == "-t":
        idle = float(v)
    elif o == "-s":
        status_only = True
host, port = args[0].rsplit(":", 1)
host = host.strip("[]")
try:
    s = socket.create_connection((host, int(port)), timeout=idle)
except OSError:
    sys.exit(1)
for i, a in enumerate(args[1:]):
    if i:
        time.sleep(0.05)
    s.sendall(a.encode("latin-1").decode("unicode_escape").encode("latin-1"))
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
if status_only:
    for ln in got.split(b"\r\n"):
        if ln.startswith(b"HTTP/1."):
            print(ln.decode("latin-1"))
else:
    sys.stdout.write(got.decode("latin-1"))
sys.exit(rc)
