#!/usr/bin/env python3
"""csrv: a backend for lb-http's cache tests that writes down what reaches it.

usage: csrv.py [-1] [-n name] -r file -l host:port

  -l addr   listen (port 0: any free port); -1 prints the address
  -n name   the server's name (default csrv), in each body
  -r file   one line for each request that reaches it, written before
            the answer: "METHOD TARGET inm=VALUE ims=VALUE" (- for none)

The query of a GET says what the response carries, so that each test
asks for the response it needs (the query is part of the cached URL):

  cc=V        Cache-Control: V
  etag=V      ETag: "V"; a request whose If-None-Match holds it: 304
  lm=1        Last-Modified: a fixed date; If-Modified-Since not older: 304
  age=N       Age: N (on a 200 alone, so that a 304 makes it fresh)
  expires=S   Expires: now + S seconds (negative: in the past)
  vary=NAME   Vary: NAME, and the body says the request's NAME
  cookie=1    Set-Cookie: a=1
  size=N      a body of N bytes (a pattern) instead of the text
  slow=MS     answers after MS milliseconds
  status=N    that status (200 by default)
  chunked=1   the body chunked

The body is "NAME TARGET n=K" (K: the requests for this target so far,
this one included), and "NAME=VALUE" for vary, so a test tells a stored
answer from a new one.  A POST, PUT or DELETE answers 204 (or status=N),
with a Location when location=URL.
"""
import email.utils
import getopt
import socket
import sys
import threading
import time
import urllib.parse

name = "csrv"
reqfile = None
lock = threading.Lock()
seen = {}
LASTMOD = "Mon, 01 Jun 2020 00:00:00 GMT"


class Gone(Exception):
    pass


class Conn:
    def __init__(self, s):
        self.s = s
        self.b = b""

    def fill(self):
        b = self.s.recv(65536)
        if not b:
            raise Gone()
        self.b += b

    def head(self):
        while b"\r\n\r\n" not in self.b:
            self.fill()
        h, self.b = self.b.split(b"\r\n\r\n", 1)
        return h

    def take(self, n):
        while len(self.b) < n:
            self.fill()
        out, self.b = self.b[:n], self.b[n:]
        return out


def fields(h):
    lines = h.decode("latin-1").split("\r\n")
    f = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            k = k.strip().lower()
            f[k] = f[k] + ", " + v.strip() if k in f else v.strip()
    return lines[0], f


def answer(method, target, f):
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query))
    with lock:
        seen[target] = seen.get(target, 0) + 1
        n = seen[target]
        with open(reqfile, "a") as fp:
            fp.write("%s %s inm=%s ims=%s\n" % (
                method, target, f.get("if-none-match", "-").replace(" ", ""),
                "1" if "if-modified-since" in f else "-"))
    if "slow" in q:
        time.sleep(int(q["slow"]) / 1000.0)
    if method in ("POST", "PUT", "DELETE", "PATCH"):
        loc = "Location: %s\r\n" % q["location"] if "location" in q else ""
        return ("HTTP/1.1 %s Done\r\n%sContent-Length: 0\r\n\r\n" % (
            q.get("status", "204"), loc)).encode()
    hd = []
    if "cc" in q:
        hd.append("Cache-Control: " + q["cc"])
    if "expires" in q:
        hd.append("Expires: " + email.utils.formatdate(
            time.time() + int(q["expires"]), usegmt=True))
    if "vary" in q:
        hd.append("Vary: " + q["vary"])
    if "cookie" in q:
        hd.append("Set-Cookie: a=1")
    etag = '"%s"' % q["etag"] if "etag" in q else None
    if etag:
        hd.append("ETag: " + etag)
    if "lm" in q:
        hd.append("Last-Modified: " + LASTMOD)
    hd.append("Date: " + email.utils.formatdate(usegmt=True))
    inm = f.get("if-none-match")
    if (etag and inm and etag in [x.strip() for x in inm.split(",")]) or \
            (inm is None and "lm" in q and "if-modified-since" in f):
        return ("HTTP/1.1 304 Not Modified\r\n%s\r\n\r\n" %
                "\r\n".join(hd)).encode()
    if "age" in q:
        hd.append("Age: " + q["age"])
    if "size" in q:
        body = (b"0123456789abcdef" * (int(q["size"]) // 16 + 1))[
            :int(q["size"])]
    else:
        body = "%s %s n=%d\n" % (name, target, n)
        if "vary" in q:
            body += "%s=%s\n" % (q["vary"], f.get(q["vary"].lower(), "-"))
        body = body.encode()
    st = int(q.get("status", "200"))
    if "chunked" in q:
        hd.append("Transfer-Encoding: chunked")
        out = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else \
            b"0\r\n\r\n"
    else:
        hd.append("Content-Length: %d" % len(body))
        out = body
    if method == "HEAD":
        out = b""
    return ("HTTP/1.1 %d Answer\r\n%s\r\n\r\n" % (st, "\r\n".join(hd))
            ).encode() + out


def serve(s):
    c = Conn(s)
    try:
        while True:
            line, f = fields(c.head())
            method, target, _ = line.split(" ", 2)
            if "content-length" in f:
                c.take(int(f["content-length"]))
            s.sendall(answer(method, target, f))
            if "close" in f.get("connection", "").lower():
                return
    except (Gone, OSError, ValueError):
        pass
    finally:
        s.close()


def main():
    global name, reqfile
    addr, pr = None, False
    opts, _ = getopt.getopt(sys.argv[1:], "1l:n:r:")
    for o, v in opts:
        if o == "-1":
            pr = True
        elif o == "-l":
            addr = v
        elif o == "-n":
            name = v
        elif o == "-r":
            reqfile = v
    open(reqfile, "a").close()
    host, port = addr.rsplit(":", 1)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(256)
    if pr:
        print("%s:%d" % ls.getsockname(), flush=True)
    while True:
        s, _ = ls.accept()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(s,), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
