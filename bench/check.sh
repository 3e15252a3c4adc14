#!/bin/sh
# bench/check.sh: lb-check probing 1,000 loopback backends once a second,
# over tcp then http.  Reports the checker's CPU share (user + system time
# from /proc/PID/stat over the measured window) and how late probes start
# after their time (lb-check -v's last words).  Not part of make check.
#
#   bench/check.sh                  N=1000 backends, DUR=20 s a check
#   N=2000 DUR=30 CHECKS="http" bench/check.sh
set -eu

N=${N:-1000}
DUR=${DUR:-20}
CHECKS=${CHECKS:-"tcp http"}
BIN=${LB_BIN:-$(cd "$(dirname "$0")/.." && pwd)/bin}
HERE=$(cd "$(dirname "$0")" && pwd)
T=bench-check.$$
TMP=$(mktemp -d)
LPID=""
CPID=""
PATH="$BIN:$PATH"

cleanup() {
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null || true
	[ -n "$LPID" ] && kill "$LPID" 2>/dev/null || true
	wait 2>/dev/null || true
	lb-ctl -t "$T" destroy 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# the process's user and system clock ticks
ticks() { awk '{ sub(/.*\) /, ""); print $12, $13 }' "/proc/$1/stat"; }

: > "$TMP/lerr"
python3 "$HERE/listeners.py" "$N" > "$TMP/list" 2> "$TMP/lerr" &
LPID=$!
i=0
until grep -q ready "$TMP/lerr"; do
	i=$((i + 1))
	[ "$i" -lt 600 ] || { echo "check.sh: listeners did not start" >&2; exit 1; }
	sleep 0.1
done
lb-ctl -t "$T" create -n $((N + 16))
lb-ctl -t "$T" sync < "$TMP/list"
hz=$(getconf CLK_TCK)
ncpu=$(nproc)

printf 'check\tbackends\tinterval\tseconds\tprobes/s\tcpu%%\tuser%%\tsys%%\tlate_mean_ms\tlate_p99_ms\tlate_max_ms\tup\n'
for c in $CHECKS; do
	e0=$(date +%s%N)
	lb-check -t "$T" -i 1s -q -v $c 2> "$TMP/err.$c" &
	CPID=$!
	# the first round is spread over an interval; measure after two
	sleep 2
	t0=$(ticks "$CPID")
	s0=$(date +%s%N)
	sleep "$DUR"
	t1=$(ticks "$CPID")
	s1=$(date +%s%N)
	up=$(lb-stat -t "$T" -H | awk -F'\t' '$5 == "up"' | wc -l)
	kill -TERM "$CPID"
	wait "$CPID" || true
	e1=$(date +%s%N)
	CPID=""
	# "N probes, start late by X ms on average, Y ms at p99, Z ms at most"
	stats=$(sed -n 's/^lb-check: \([0-9]*\) probes, start late by \([0-9.]*\) ms on average, \([0-9]*\) ms at p99, \([0-9]*\) ms at most$/\1 \2 \3 \4/p' "$TMP/err.$c")
	set -- $stats
	awk -v c="$c" -v n="$N" -v t0="$t0" -v t1="$t1" -v hz="$hz" \
	    -v ns=$((s1 - s0)) -v life=$((e1 - e0)) -v p="$1" -v mean="$2" -v p99="$3" \
	    -v max="$4" -v up="$up" 'BEGIN {
		s = ns / 1e9
		split(t0, a, " "); split(t1, b, " ")
		u = 100 * (b[1] - a[1]) / hz / s
		y = 100 * (b[2] - a[2]) / hz / s
		printf "%s\t%d\t1s\t%.1f\t%.0f\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\t%d\n",
		    c, n, s, p / (life / 1e9), u + y, u, y, mean, p99, max, up
	}'
	grep -v ' probes, start late' "$TMP/err.$c" >&2 || true
done
echo "($ncpu cores; CPU share counts user + system time of lb-check alone)" >&2
