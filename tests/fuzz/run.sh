#!/bin/sh
# tests/fuzz/run.sh [SECONDS]: build each libFuzzer target with clang,
# ASan and UBSan, and run it for SECONDS (default 120) from its seeds.
# Not part of make check; .ci/run runs it for a few seconds a target.
# Needs clang and libclang-rt-14-dev (or the runtime of the installed
# clang).  Crashes land in build/fuzz/; keep them as seeds once fixed.
# Prints "ok TARGET" or "not ok TARGET" a target, then one line:
# N passed, N failed.  Exits 1 when a target failed.
set -u
cd "$(dirname "$0")/../.."
secs=${1:-120}
out=build/fuzz
mkdir -p "$out"
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
CPPFLAGS="-D_GNU_SOURCE -DLIBBSD_OVERLAY -isystem /usr/include/bsd -Icommon"
pass=0 fail=0
for t in proxyproto sni http1 table; do
	# what each target links: its module, and what that module needs
	case $t in
	table)	src="common/table.c common/addr.c common/balance.c common/log.c common/dur.c
		    -fsanitize-coverage-ignorelist=tests/fuzz/table_fuzz.ignore" ;;
	*)	src="common/$t.c" ;;
	esac
	mkdir -p "$out/${t}_corpus"
	cp tests/fuzz/seeds/"$t"/* "$out/${t}_corpus/"
	if ! clang $CPPFLAGS $CFLAGS -o "$out/${t}_fuzz" \
	    "tests/fuzz/${t}_fuzz.c" $src -lbsd -lpthread; then
		echo "not ok $t: does not build"
		fail=$((fail + 1))
		continue
	fi
	echo "fuzz: $t for ${secs}s" >&2
	if "$out/${t}_fuzz" -max_total_time="$secs" -max_len=4096 \
	    -artifact_prefix="$out/${t}-" "$out/${t}_corpus" \
	    >"$out/$t.log" 2>&1; then
		echo "ok $t: $(grep -o 'Done [0-9]* runs' "$out/$t.log" |
		    tail -1)"
		pass=$((pass + 1))
	else
		echo "not ok $t: see $out/$t.log"
		fail=$((fail + 1))
	fi
	tail -n 3 "$out/$t.log" >&2
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
