#!/bin/sh
# deps.sh: install, from Debian's packages, what a list names and this
# machine lacks.  Quiet when nothing is missing.
#
# usage: tools/deps.sh [LIST]   (default tools/deps.list: build and tests;
#                                bench/deps.list: the benchmarks)
# A list holds "PACKAGE TEST..." lines: PACKAGE is missing when a TEST (a
# command on PATH, or an absolute path that must exist) fails.
set -eu

list=${1:-$(dirname "$0")/deps.list}
missing=""
while read -r pkg tests; do
	case $pkg in ''|'#'*) continue ;; esac
	for t in $tests; do
		case $t in
		/*) [ -e "$t" ] && continue ;;
		*) command -v "$t" >/dev/null 2>&1 && continue ;;
		esac
		missing="$missing $pkg"
		break
	done
done < "$list"

[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts the services it installs; none of them is wanted here.
for s in haproxy nginx iperf3 prometheus; do
	if command -v systemctl >/dev/null 2>&1; then
		$SUDO systemctl stop "$s" 2>/dev/null || true
	fi
done
if command -v nginx >/dev/null 2>&1 && [ -f /run/nginx.pid ]; then
	$SUDO nginx -s stop 2>/dev/null || true
fi
