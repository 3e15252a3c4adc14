#!/bin/sh
# deps.sh: install, from Debian's packages, what a list names and this
# machine lacks.  Quiet when nothing is missing.
#
# usage: tools/deps.sh [LIST]   (default tools/deps.list: build and tests;
#                                bench/deps.list: the benchmarks)
# A list holds "PACKAGE TEST..." lines: PACKAGE is missing when a TEST (a
# command on PATH, or an absolute path that must exist) fails.
#
# It starts and stops no service.  Debian starts the services a package
# brings (nginx, haproxy, prometheus, ...) as it installs them, unless
# policy-rc.d forbids it (see invoke-rc.d(8)): one is put in place for the
# length of the install, when the machine has none, and removed after,
# also when the install fails.  A service the machine already runs is
# never touched.  DEPS_POLICY_RC_D names another path, for the tests.
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

policy=${DEPS_POLICY_RC_D:-/usr/sbin/policy-rc.d}
made=""
unmake() {
	if [ -n "$made" ]; then
		$SUDO rm -f "$policy"
		made=""
	fi
}
trap unmake EXIT
trap 'exit 1' HUP INT TERM
if [ ! -e "$policy" ]; then
	made=1
	# exit 101: "action forbidden by policy"
	printf '#!/bin/sh\n# tools/deps.sh: no service starts while it installs\nexit 101\n' |
	    $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
