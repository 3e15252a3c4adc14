#!/usr/bin/env python3
"""hsrv: an HTTP/1.1 backend for lb-http's tests, exact to the byte.

usage: hsrv.py [-1] [-n name] [-c file] -l host:port

  -l addr   listen (port 0: any free port); -1 prints the address
  -n name   the server's name (default hsrv), in X-Backend and bodies
  -c file   keep counts there, "requests N connections M", after each

Every request is read whole (Content-Length or chunked body), then the
path says what to answer (keep-alive unless asked to close):

  /echo            200, the request head as received, body length too
  /sum             200, "BYTES SHA256" of the request body
  /status/NNN      NNN with a short body (HEAD: no body)
  /chunked         a chunked body "hello world" with a trailer
  /close           a body ended by the close (no length)
  /http10          an HTTP/1.0 response with a length
  /big/N           N bytes (a repeating pattern) with Content-Length
  /slow/MS         answers after MS milliseconds
  /continue        100 Continue first, then 200 with the body's length
  /ws              101 Switching Protocols (websocket), then echoes
  /hangup          closes without a word
  /bad/KIND        a malformed response: clte, twocl, badcl, te10,
                   badchunk, lf, status, fold, space
  /split           the head in two writes, the body in a third
  /twowrites       the head, then 5 ms later the body, as nginx does
                   without tcp_nopush
  anything else    200 "NAME\\n"
"""
import getopt
import socket
import sys
import threading
import time

name = "hsrv"
counts = {"requests": 0, "connections": 0}
countfile = None
lock = threading.Lock()


def note():
    if countfile:
        with lock:
            with open(countfile + ".tmp", "w") as f:
                f.write("requests %d connections %d\n" % (
                    counts["requests"], counts["connections"]))
            import os
            os.replace(countfile + ".tmp", countfile)


class Gone(Exception):
    pass


class Conn:
    """A connection's bytes: a growing buffer read from pos, linear time."""

    def __init__(self, s):
        self.s = s
        self.b = bytearray()
        self.pos = 0

    @property
    def buf(self):
        return bytes(self.b[self.pos:])

    @buf.setter
    def buf(self, v):
        self.b = bytearray(v)
        self.pos = 0

    def fill(self):
        if self.pos > 1 << 20:
            del self.b[:self.pos]
            self.pos = 0
        b = self.s.recv(1 << 20)
        if not b:
            raise Gone()
        self.b.extend(b)

    def _until(self, sep):
        seen = 0            # bytes after pos already searched
        while True:
            i = self.b.find(sep, self.pos + max(0, seen - len(sep) + 1))
            if i >= 0:
                out = bytes(self.b[self.pos:i + len(sep)])
                self.pos = i + len(sep)
                return out
            seen = len(self.b) - self.pos
            self.fill()     # may move the bytes: pos moves with them

    def head(self):
        return self._until(b"\r\n\r\n")

    def line(self):
        return self._until(b"\r\n")

    def take(self, n):
        while len(self.b) - self.pos < n:
            self.fill()
        out = bytes(self.b[self.pos:self.pos + n])
        self.pos += n
        return out

    def chunked(self):
        parts = []
        while True:
            size = int(self.line().split(b";")[0].strip(), 16)
            if size == 0:
                while self.line() != b"\r\n":
                    pass
                return b"".join(parts)
            parts.append(self.take(size))
            self.take(2)

    def send(self, b):
        self.s.sendall(b)


def fields(h):
    lines = h.decode("latin-1").split("\r\n")
    f = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            f.setdefault(k.strip().lower(), v.strip())
    return lines[0], f


def resp(status, body, extra="", reason="Answer", head_only=False):
    h = "HTTP/1.1 %d %s\r\nContent-Length: %d\r\nX-Backend: %s\r\n%s\r\n" % (
        status, reason, len(body), name, extra)
    return h.encode() + (b"" if head_only else body)


def serve(s):
    c = Conn(s)
    with lock:
        counts["connections"] += 1
    note()
    try:
        while True:
            h = c.head()
            line, f = fields(h)
            method, target, version = line.split(" ", 2)
            path = target.split("?")[0]
            body = b""
            if "chunked" in f.get("transfer-encoding", ""):
                body = c.chunked() if path != "/continue" else None
            elif "content-length" in f:
                if path != "/continue":
                    body = c.take(int(f["content-length"]))
            with lock:
                counts["requests"] += 1
            note()
            close = "close" in f.get("connection", "").lower() or \
                version == "HTTP/1.0"
            extra = "Connection: close\r\n" if close else ""
            head_only = method == "HEAD"
            if path == "/echo":
                c.send(resp(200, h + b"body-length: %d\n" % len(body), extra,
                            head_only=head_only))
            elif path == "/sum":
                import hashlib
                c.send(resp(200, b"%d %s\n" % (
                    len(body), hashlib.sha256(body).hexdigest().encode()),
                    extra))
            elif path.startswith("/status/"):
                st = int(path[8:11])
                if st in (204, 304):
                    c.send(("HTTP/1.1 %d X\r\nX-Backend: %s\r\n%s\r\n" % (
                        st, name, extra)).encode())
                else:
                    c.send(resp(st, b"status %d\n" % st, extra,
                                head_only=head_only))
            elif path == "/chunked":
                c.send(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                        "X-Backend: %s\r\n%s\r\n" % (name, extra)).encode() +
                       b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")
            elif path == "/close":
                c.send(("HTTP/1.1 200 OK\r\nX-Backend: %s\r\n"
                        "Connection: close\r\n\r\nuntil the end\n" %
                        name).encode())
                return
            elif path == "/http10":
                c.send(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nold!\n")
                return
            elif path.startswith("/big/"):
                n = int(path[5:])
                pat = (b"0123456789abcdef" * 4096)
                c.send(("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                        "X-Backend: %s\r\n%s\r\n" % (n, name, extra)).encode())
                while n > 0:
                    k = min(n, len(pat))
                    c.send(pat[:k])
                    n -= k
            elif path.startswith("/slow/"):
                time.sleep(int(path[6:]) / 1000.0)
                c.send(resp(200, b"slow\n", extra))
            elif path == "/continue":
                c.send(b"HTTP/1.1 100 Continue\r\n\r\n")
                if "chunked" in f.get("transfer-encoding", ""):
                    body = c.chunked()
                else:
                    body = c.take(int(f.get("content-length", "0")))
                c.send(resp(200, b"got %d\n" % len(body), extra))
            elif path == "/ws":
                c.send(b"HTTP/1.1 101 Switching Protocols\r\n"
                       b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
                if c.buf:
                    c.send(c.buf)
                    c.buf = b""
                while True:
                    b = s.recv(65536)
                    if not b:
                        return
                    s.sendall(b)
            elif path == "/hangup":
                return
            elif path.startswith("/bad/"):
                kind = path[5:]
                c.send({
                    "clte": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                    "twocl": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                             b"Content-Length: 4\r\n\r\nabcd",
                    "badcl": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                    "te10": b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked"
                            b"\r\n\r\n0\r\n\r\n",
                    "badchunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                b"chunked\r\n\r\nzz\r\n",
                    "lf": b"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
                    "status": b"HTTP/9.9 two hundred\r\n\r\n",
                    "fold": b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n"
                            b"Content-Length: 0\r\n\r\n",
                    "space": b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
                }.get(kind, b"garbage\r\n\r\n"))
                return
            elif path == "/twowrites":
                c.send(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
                time.sleep(0.005)
                c.send(b"two\n")
            elif path == "/split":
                c.send(b"HTTP/1.1 200 OK\r\nContent-")
                time.sleep(0.05)
                c.send(b"Length: 6\r\n\r\n")
                time.sleep(0.05)
                c.send(b"split\n")
            else:
                c.send(resp(200, (name + "\n").encode(), extra,
                            head_only=head_only))
            if close:
                return
    except (Gone, OSError, ValueError, IndexError):
        pass
    finally:
        try:
            s.close()
        except OSError:
            pass


def main():
    global name, countfile
    addr, pr = None, False
    opts, _ = getopt.getopt(sys.argv[1:], "1c:l:n:")
    for o, v in opts:
        if o == "-1":
            pr = True
        elif o == "-c":
            countfile = v
        elif o == "-l":
            addr = v
        elif o == "-n":
            name = v
    host, port = addr.rsplit(":", 1)
    host = host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(256)
    note()
    if pr:
        a = ls.getsockname()
        print(("[%s]:%d" if fam == socket.AF_INET6 else "%s:%d") % (a[0], a[1]),
              flush=True)
    while True:
        s, _ = ls.accept()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(s,), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
