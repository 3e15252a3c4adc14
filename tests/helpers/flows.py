#!/usr/bin/env python3
"""flows: many TCP flows from one client, for tests/50-cluster.bats,
where tcli (one flow at a time, one source address) does not fit.

usage: flows.py map ADDR FIRST COUNT
       flows.py rate ADDR EVERY_MS FOR_MS [DEADLINE_MS]
       flows.py hold ADDR FIRST COUNT

  ADDR   host:port; FIRST an IPv4 address: sources FIRST, FIRST+1, ...
  map    a connection from each of COUNT source addresses, a few at a
         time: "SOURCE NAME" a line, in the order of the sources, NAME
         the first line the server sent, or "SOURCE FAIL why"
  rate   a new connection every EVERY_MS for FOR_MS, each given
         DEADLINE_MS (default 300) to bring a line: "MS ok NAME" or
         "MS fail WHY" a line as each ends, MS when it started, from
         the first
  hold   COUNT connections, one from each source, kept open:
         "SOURCE:PORT NAME" each, then "held"; then on each SIGUSR1 a
         byte is sent on each, and "SOURCE:PORT alive" (the peer
         acknowledged it within a second) or "SOURCE:PORT dead" printed,
         then "probed"; SIGTERM ends it
Exit 0; 2 for bad usage.
"""
import errno
import fcntl
import ipaddress
import os
import selectors
import signal
import socket
import struct
import sys
import termios
import time


def usage():
    sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
    sys.exit(2)


def hostport(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def why(e):
    return errno.errorcode.get(e, str(e)).lower().lstrip("e") if e else "eof"


class Flow:
    """One non-blocking connection that reads one line."""

    def __init__(self, addr, src=None):
        self.t0 = time.monotonic()
        self.buf = b""
        self.result = None
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.setblocking(False)
        if src is not None:
            self.s.bind((src, 0))
        e = self.s.connect_ex(addr)
        if e not in (0, errno.EINPROGRESS):
            self.done("FAIL connect: " + why(e))
        self.connected = e == 0
        if self.connected:
            self.s.shutdown(socket.SHUT_WR)

    def done(self, result):
        self.result = result
        self.s.close()

    def ready(self):
        """The socket is readable or writable: go on."""
        if not self.connected:
            e = self.s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if e != 0:
                return self.done("FAIL connect: " + why(e))
            self.connected = True
            self.s.shutdown(socket.SHUT_WR)
            return
        try:
            b = self.s.recv(4096)
        except BlockingIOError:
            return
        except OSError as e:
            return self.done("FAIL read: " + why(e.errno))
        self.buf += b
        if b"\n" in self.buf or not b:
            line = self.buf.split(b"\n")[0].decode(errors="replace")
            self.done(line if line else "FAIL empty")


def step(flows, sel, deadline_s, wait):
    """One round of the event loop, at most wait seconds: flows older
    than deadline_s fail, ready ones go on."""
    now = time.monotonic()
    for f in flows:
        if f.result is None and now - f.t0 > deadline_s:
            sel.unregister(f.s)
            f.done("FAIL timeout")
    for key, ev in sel.select(max(wait, 0)):
        f = key.data
        f.ready()
        if f.result is not None:
            sel.unregister(f.s)
        elif f.connected:
            sel.modify(f.s, selectors.EVENT_READ, f)


def start(flow, sel):
    if flow.result is None:
        sel.register(flow.s, selectors.EVENT_READ | selectors.EVENT_WRITE,
                     flow)
    return flow


def run(flows, sel, deadline_s):
    """Drive flows until each has a result."""
    while any(f.result is None for f in flows):
        step(flows, sel, deadline_s, 0.05)


def cmd_map(addr, first, count):
    sel = selectors.DefaultSelector()
    src = ipaddress.IPv4Address(first)
    for at in range(0, count, 16):
        batch = []
        for i in range(at, min(at + 16, count)):
            batch.append((str(src + i), start(Flow(addr, str(src + i)),
                                              sel)))
        run([f for _, f in batch], sel, 5)
        for s, f in batch:
            print(s, f.result)


def cmd_rate(addr, every_ms, for_ms, deadline_ms):
    sel = selectors.DefaultSelector()
    flows, left = [], []
    t0 = time.monotonic()
    while len(flows) * every_ms < for_ms or left:
        due = t0 + len(flows) * every_ms / 1000
        if len(flows) * every_ms < for_ms and time.monotonic() >= due:
            f = start(Flow(addr), sel)
            f.t0 = due
            flows.append(f)
            left.append(f)
        else:
            step(left, sel, deadline_ms / 1000,
                 min(due - time.monotonic(), 0.05))
        for f in [f for f in left if f.result is not None]:
            left.remove(f)
            ms = round((f.t0 - t0) * 1000)
            if f.result.startswith("FAIL "):
                print(ms, "fail", f.result[5:].replace(" ", ""), flush=True)
            else:
                print(ms, "ok", f.result, flush=True)


def unacked(s):
    b = fcntl.ioctl(s.fileno(), termios.TIOCOUTQ, struct.pack("i", 0))
    return struct.unpack("i", b)[0]


def cmd_hold(addr, first, count):
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, signal.SIGTERM])
    src = ipaddress.IPv4Address(first)
    held = []
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        s.bind((str(src + i), 0))
        s.connect(addr)
        line = s.makefile("rb").readline().decode().strip()
        name = "%s:%d" % s.getsockname()
        held.append((name, s))
        print(name, line or "FAIL empty", flush=True)
    print("held", flush=True)
    while signal.sigwait([signal.SIGUSR1, signal.SIGTERM]) == signal.SIGUSR1:
        state = {}
        for name, s in held:
            try:
                s.send(b"x", socket.MSG_DONTWAIT)
            except OSError:
                state[name] = "dead"
        end = time.monotonic() + 1
        while time.monotonic() < end and len(state) < len(held):
            for name, s in held:
                if name in state:
                    continue
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    state[name] = "dead"
                elif unacked(s) == 0:
                    state[name] = "alive"
            time.sleep(0.01)
        for name, s in held:
            print(name, state.get(name, "dead"))
        print("probed", flush=True)


def main(argv):
    if len(argv) < 2:
        usage()
    try:
        if argv[1] == "map" and len(argv) == 5:
            cmd_map(hostport(argv[2]), argv[3], int(argv[4]))
        elif argv[1] == "rate" and len(argv) in (5, 6):
            cmd_rate(hostport(argv[2]), int(argv[3]), int(argv[4]),
                     int(argv[5]) if len(argv) == 6 else 300)
        elif argv[1] == "hold" and len(argv) == 5:
            cmd_hold(hostport(argv[2]), argv[3], int(argv[4]))
        else:
            usage()
    except ValueError:
        usage()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
