#!/bin/bash
# demo.sh: the main job on loopback: three web backends, a table, lb-tcp
# balancing over it, lb-check marking a killed backend down, lb-ctl
# draining one, and lb-stat showing it all.  Cleans up after itself.
set -eu
PATH="${LB_BIN:?}:${LB_BIN}/tests:$PATH"
T=demo-$$
dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for t in "$T" "$T.auth" "$T.settings"; do
		lb-ctl -t "$t" destroy 2>/dev/null || true
	done
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

if [ -t 1 ]; then B=$(printf '\033[1m') N=$(printf '\033[0m'); else B= N=; fi
say() { printf '\n%s$ %s%s\n' "$B" "$*" "$N"; }
run() { say "$*"; "$@"; }
note() { printf '%s# %s%s\n' "$B" "$*" "$N"; }

# wait_file FILE: until FILE has a line, at most 5 seconds
wait_file() {
	local i=0
	until [ -s "$1" ]; do
		i=$((i + 1))
		[ $i -lt 500 ] || { echo "demo: $1 stayed empty" >&2; exit 1; }
		sleep 0.01
	done
}

# fetch N [PATH]: N requests through the balancer; which backend answered
# each
fetch() {
	local i
	for i in $(seq "$1"); do
		curl -s --max-time 5 "http://$LB${2:-/}" || echo "(failed)"
	done | sort | uniq -c | sed 's/^/    /'
}

note "Three web servers on free ports; each answers with its name."
for n in web1 web2 web3; do
	tsrv -1 -m http -n "$n" -l 127.0.0.1:0 > "$dir/$n" &
	pids+=($!)
	eval "pid_$n=$!"
done
for n in web1 web2 web3; do wait_file "$dir/$n"; done
a1=$(cat "$dir/web1") a2=$(cat "$dir/web2") a3=$(cat "$dir/web3")

run lb-ctl -t "$T" create -n 64
run lb-ctl -t "$T" add "$a1" name=web1 weight=2
run lb-ctl -t "$T" add "$a2" name=web2
run lb-ctl -t "$T" add "$a3" name=web3

say "lb-check -t $T -i 300ms -F 100ms http / status=200 &"
lb-check -t "$T" -i 300ms -F 100ms http / status=200 > "$dir/check" &
pids+=($!)
say "lb-tcp -1 -q -t $T -l 127.0.0.1:0 &"
lb-tcp -1 -q -t "$T" -l 127.0.0.1:0 > "$dir/lb" &
pids+=($!)
wait_file "$dir/lb"
LB=$(head -1 "$dir/lb")
note "lb-tcp listens on $LB"
i=0
until [ "$(grep -c "$(printf '\tup\t')" "$dir/check")" -ge 3 ] || [ $i -ge 300 ]; do
	sleep 0.01; i=$((i + 1))
done
note "lb-check's transitions so far:"
sed 's/^/    /' "$dir/check"

say "30 requests through lb-tcp (web1 has weight 2): who answered"
fetch 30

note "Kill web3; lb-check marks it down, lb-tcp stops sending it work."
kill "$pid_web3"
i=0
until grep -q $'\tweb3\t.*\tdown\t' "$dir/check" || [ $i -ge 500 ]; do
	sleep 0.01; i=$((i + 1))
done
grep $'\tweb3\t' "$dir/check" | tail -1 | sed 's/^/    /'
run lb-ctl -t "$T" drain web2
say "30 more requests: only web1 now"
fetch 30

run lb-stat -t "$T"
run lb-ctl -t "$T" dump
say "lb-stat -t $T -w 500ms -n 3 -o backend,health,active,total_rate,bytes_out_rate"
note "(rates; on a terminal, -w alone is a live view)"
lb-stat -t "$T" -w 500ms -n 3 -o backend,health,active,total_rate,bytes_out_rate &
w=$!
fetch 20 > /dev/null
wait $w
say "lb-stat -t $T -p | grep lb_backend_total"
lb-stat -t "$T" -p | grep '^lb_backend_total{'

note "Layer 7: lb-http routes /auth and /settings to a table each."
for n in auth1 auth2 settings1; do
	tsrv -1 -m http -n "$n" -l 127.0.0.1:0 > "$dir/$n" &
	pids+=($!)
done
for n in auth1 auth2 settings1; do wait_file "$dir/$n"; done
run lb-ctl -t "$T.auth" add "$(cat "$dir/auth1")" name=auth1
run lb-ctl -t "$T.auth" add "$(cat "$dir/auth2")" name=auth2
run lb-ctl -t "$T.settings" add "$(cat "$dir/settings1")" name=settings1
say "lb-http -1 -r /auth=$T.auth -r /settings=$T.settings -l 127.0.0.1:0 &"
lb-http -1 -r "/auth=$T.auth" -r "/settings=$T.settings" -l 127.0.0.1:0 \
    > "$dir/lh" &
pids+=($!)
i=0
until grep -q '^table ' "$dir/lh" || [ $i -ge 500 ]; do
	sleep 0.01; i=$((i + 1))
done
LB=$(head -1 "$dir/lh")
say "10 requests for /auth/login"
fetch 10 /auth/login
say "10 requests for /settings/theme"
fetch 10 /settings/theme
say "a request for /other: no rule, no default"
curl -s --max-time 5 -w '    status %{http_code}\n' "http://$LB/other" |
    sed 's/^lb/    lb/'
note "lb-http's log: method, host, path, status, route, backend, how it ended"
i=0
until [ "$(grep -c $'^20' "$dir/lh")" -ge 21 ] || [ $i -ge 500 ]; do
	sleep 0.01; i=$((i + 1))
done
grep $'^20' "$dir/lh" | sed -n '1p;11p;21p' | cut -f3-6,9,10,13 | sed 's/^/    /'
printf '\nEverything started here stops now, and the tables are removed.\n'
