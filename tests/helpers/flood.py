#!/usr/bin/env python3
"""flood.py: many clients at once, for the tests.

usage: flood.py [-c conns] [-n rounds] [-p path] [-t timeout] [-u file]
                host:port

Opens conns connections at the same time (threads), each sending
"GET / HTTP/1.0" and reading to EOF, rounds times over.  In each round
every connection is made before any sends its request, so that conns
connections are open at once.  A connection counts as ok when its answer
begins with "HTTP/1.".  Prints "ok N failed M" and exits 1 when M > 0.
With -u, rounds go on (-n 0: without end) until file exists; path is
the request's (default /).
"""
import os
import getopt
import socket
import sys
import threading

conns, rounds, timeout, until, path = 100, 1, 20.0, None, "/"
opts, args = getopt.getopt(sys.argv[1:], "c:n:p:t:u:")
for o, v in opts:
    if o == "-c":
        conns = int(v)
    elif o == "-n":
        rounds = int(v)
    elif o == "-t":
        timeout = float(v)
    elif o == "-u":
        until = v
    elif o == "-p":
        path = v
if len(args) != 1:
    sys.exit("usage: flood.py [-c conns] [-n rounds] [-p path] [-t timeout] "
             "[-u file] host:port")
host, port = args[0].rsplit(":", 1)
host = host.strip("[]")
ok = failed = 0
lock = threading.Lock()
why = {}


barrier = threading.Barrier(conns) if until is None else None


def one():
    global ok, failed
    r = 0
    while rounds == 0 or r < rounds:
        r += 1
        if until is not None and os.path.exists(until):
            break
        got = b""
        s = None
        try:
            s = socket.create_connection((host, int(port)), timeout=timeout)
        except OSError:
            pass
        try:
            if barrier is not None:
                barrier.wait(timeout)
        except threading.BrokenBarrierError:
            pass
        try:
            if s is None:
                raise ConnectionRefusedError()
            s.sendall(b"GET " + path.encode() + b" HTTP/1.0\r\n\r\n")
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += b
            s.close()
            good = got.startswith(b"HTTP/1.")
            w = "empty answer" if not good else None
        except OSError as e:
            good, w = False, type(e).__name__
        with lock:
            if good:
                ok += 1
            else:
                failed += 1
                why[w] = why.get(w, 0) + 1


threads = [threading.Thread(target=one) for _ in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok %d failed %d%s" % (ok, failed,
      "".join(" (%s: %d)" % kv for kv in sorted(why.items()))))
sys.exit(1 if failed else 0)
