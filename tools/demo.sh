#!/bin/sh
# demo.sh: the main job on loopback: backends, a table, the operator's
# tools, and what lb-stat shows of it.  Cleans up after itself.
set -eu
PATH="${LB_BIN:?}:${LB_BIN}/tests:$PATH"
T=demo-$$
dir=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	lb-ctl -t "$T" destroy 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

if [ -t 1 ]; then B=$(printf '\033[1m') N=$(printf '\033[0m'); else B= N=; fi
say() { printf '\n%s$ %s%s\n' "$B" "$*" "$N"; }
run() { say "$*"; "$@"; }

# Three backends on free ports; each answers its own name.
for n in web1 web2 web3; do
	tsrv -1 -m http -n "$n" -l 127.0.0.1:0 > "$dir/$n" &
	pids="$pids $!"
done
for n in web1 web2 web3; do
	i=0
	until [ -s "$dir/$n" ]; do
		i=$((i + 1)); [ $i -lt 500 ] || { echo "demo: $n did not start" >&2; exit 1; }
		sleep 0.01
	done
done
a1=$(cat "$dir/web1") a2=$(cat "$dir/web2") a3=$(cat "$dir/web3")

run lb-ctl -t "$T" create -n 64
run lb-ctl -t "$T" add "$a1" name=web1 weight=2
run lb-ctl -t "$T" add "$a2" name=web2
run lb-ctl -t "$T" add "$a3" name=web3 backup=yes
run lb-stat
run lb-stat -t "$T"
run lb-ctl -t "$T" drain web2
run lb-ctl -t "$T" dump
say "lb-ctl -t $T dump | sed s/weight=2/weight=5/ | lb-ctl -t $T sync"
lb-ctl -t "$T" dump | sed s/weight=2/weight=5/ | lb-ctl -t "$T" sync
run lb-stat -t "$T" -j
say "lb-stat -t $T -p | head -6"
lb-stat -t "$T" -p | head -6
printf '\nThe table, its backends and their servers are removed on exit.\n'
