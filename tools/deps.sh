#!/bin/sh
# deps.sh: install, from Debian's packages, whatever the build and tests need
# and this machine lacks.  Quiet when nothing is missing.
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

need build-essential cc make
need libbsd-dev /usr/include/bsd/string.h
need libssl-dev /usr/include/openssl/ssl.h
need bats bats
need mandoc mandoc
need curl curl
need openssl openssl
need procps pgrep
need iproute2 ss
need python3 python3
need nginx-light nginx
need libnginx-mod-stream /usr/lib/nginx/modules/ngx_stream_module.so
need tmux tmux
need prometheus promtool

[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Debian starts services it installs; nginx on port 80 is of no use here.
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
if command -v nginx >/dev/null 2>&1 && [ -f /run/nginx.pid ]; then
	$SUDO nginx -s stop 2>/dev/null || true
fi
