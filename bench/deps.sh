#!/bin/sh
# bench/deps.sh: install, from Debian's packages, what the benchmarks need
# (the anchors, the clients) and this machine lacks.  Not needed by make
# check.  Quiet when nothing is missing.
set -eu

missing=""
need() {	# need PACKAGE TEST...: PACKAGE is missing when a test fails
	pkg=$1; shift
	for t in "$@"; do
		case $t in
		/*) [ -e "$t" ] || { missing="$missing $pkg"; return; } ;;
		*) command -v "$t" >/dev/null 2>&1 ||
			{ missing="$missing $pkg"; return; } ;;
		esac
	done
}

need haproxy haproxy
need pen pen
need wrk wrk
need iperf3 iperf3
need nginx-light nginx
need libnginx-mod-stream /usr/lib/nginx/modules/ngx_stream_module.so
need util-linux taskset
need procps ps
need python3 python3

[ -z "$missing" ] && exit 0
echo "bench deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts the services it installs; none of them is wanted here.
for s in haproxy nginx iperf3; do
	if command -v systemctl >/dev/null 2>&1; then
		$SUDO systemctl stop "$s" 2>/dev/null || true
	fi
done
if command -v nginx >/dev/null 2>&1 && [ -f /run/nginx.pid ]; then
	$SUDO nginx -s stop 2>/dev/null || true
fi
