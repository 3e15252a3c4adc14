#!/usr/bin/env python3
"""promcheck: a strict reader of the Prometheus text exposition format.

Reads stdin; exits 0 when it is valid, 1 with one line per problem.
Checks: metric and label names, label value escaping, one HELP and one
TYPE per family, before its samples, samples of a family contiguous,
counters named *_total, numeric values, no duplicate series.
"""
import re
import sys

NAME = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*$')
LABEL = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*$')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


def parse_labels(s, lineno, errs):
    labels = {}
    i = 0
    while i < len(s):
        m = re.match(r'([a-zA-Z_][a-zA-Z0-9_]*)="', s[i:])
        if not m:
            errs.append(f'{lineno}: bad label syntax at {s[i:]!r}')
            return labels
        key = m.group(1)
        i += m.end()
        val = ''
        while True:
            if i >= len(s):
                errs.append(f'{lineno}: unterminated label value')
                return labels
            c = s[i]
            if c == '\\':
                if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                    errs.append(f'{lineno}: bad escape in label value')
                    return labels
                val += s[i:i + 2]
                i += 2
                continue
            if c == '"':
                i += 1
                break
            if c == '\n':
                errs.append(f'{lineno}: raw newline in label value')
            val += c
            i += 1
        if key in labels:
            errs.append(f'{lineno}: label {key} twice')
        labels[key] = val
        if i < len(s):
            if s[i] != ',':
                errs.append(f'{lineno}: expected , after label')
                return labels
            i += 1
    return labels


def main():
    errs = []
    help_, type_ = {}, {}
    done, current = set(), None
    series = set()
    data = sys.stdin.read()
    if not data.strip():
        errs.append('no metrics at all')   # a failed scrape reads empty
    if data and not data.endswith('\n'):
        errs.append('output does not end with a newline')
    for lineno, line in enumerate(data.splitlines(), 1):
        if line == '':
            continue
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                name = parts[2]
                if not NAME.match(name):
                    errs.append(f'{lineno}: bad metric name {name!r}')
                d = help_ if parts[1] == 'HELP' else type_
                if name in d:
                    errs.append(f'{lineno}: second {parts[1]} for {name}')
                if name in done or (current == name and name in series_names):
                    errs.append(f'{lineno}: {parts[1]} after samples of {name}')
                if parts[1] == 'TYPE':
                    if len(parts) != 4 or parts[3] not in TYPES:
                        errs.append(f'{lineno}: bad TYPE line')
                    elif parts[3] == 'counter' and not name.endswith('_total'):
                        errs.append(f'{lineno}: counter {name} lacks _total')
                d[name] = parts[3] if len(parts) == 4 else ''
            continue
        m = re.match(r'^([^{ ]+)(\{(.*)\})? (\S+)( -?\d+)?$', line)
        if not m:
            errs.append(f'{lineno}: bad sample line {line!r}')
            continue
        name, labels, value = m.group(1), m.group(3) or '', m.group(4)
        if not NAME.match(name):
            errs.append(f'{lineno}: bad metric name {name!r}')
        lab = parse_labels(labels, lineno, errs)
        for k in lab:
            if not LABEL.match(k):
                errs.append(f'{lineno}: bad label name {k!r}')
        if name != current:
            if name in done:
                errs.append(f'{lineno}: samples of {name} not together')
            if current is not None:
                done.add(current)
            current = name
        if name not in type_:
            errs.append(f'{lineno}: {name} has no TYPE')
        if name not in help_:
            errs.append(f'{lineno}: {name} has no HELP')
        try:
            float(value)
        except ValueError:
            if value not in ('NaN', '+Inf', '-Inf'):
                errs.append(f'{lineno}: bad value {value!r}')
        key = (name, tuple(sorted(lab.items())))
        if key in series:
            errs.append(f'{lineno}: duplicate series {line!r}')
        series.add(key)
    for e in errs:
        print('promcheck:', e)
    sys.exit(1 if errs else 0)


series_names = set()
if __name__ == '__main__':
    main()
