#!/bin/sh
# tests/fuzz/run.sh [SECONDS]: build each libFuzzer target with clang,
# ASan and UBSan, and run it for SECONDS (default 120) from its seeds.
# Not part of make check.  Needs clang and libclang-rt-14-dev (or the
# runtime of the installed clang).  Crashes land in build/fuzz/.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-120}
out=build/fuzz
mkdir -p "$out"
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
CPPFLAGS="-D_GNU_SOURCE -DLIBBSD_OVERLAY -isystem /usr/include/bsd -Icommon"
rc=0
for t in proxyproto sni http1; do
	clang $CPPFLAGS $CFLAGS -o "$out/${t}_fuzz" \
	    "tests/fuzz/${t}_fuzz.c" "common/$t.c" -lbsd
	mkdir -p "$out/${t}_corpus"
	cp tests/fuzz/seeds/"$t"/* "$out/${t}_corpus/"
	echo "fuzz: $t for ${secs}s" >&2
	"$out/${t}_fuzz" -max_total_time="$secs" -max_len=4096 \
	    -artifact_prefix="$out/${t}-" "$out/${t}_corpus" \
	    >"$out/$t.log" 2>&1 || rc=1
	tail -n 3 "$out/$t.log" >&2
done
exit $rc
