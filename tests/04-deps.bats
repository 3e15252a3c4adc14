#!/usr/bin/env bats
# 04-deps: tools/deps.sh installs what is missing and leaves the host's
# services alone.  apt-get, sudo and the service tools are stubs here:
# nothing is installed, started or stopped.

load helpers/lib

# stubs: a folder of shell stubs first on PATH; each call is a line of
# $LOG.  apt-get notes, at install time, whether the policy-rc.d is there
# and what it answers; FAIL_INSTALL=1 makes the install fail.
stubs() {
	S=$BATS_TEST_TMPDIR/stubs
	LOG=$BATS_TEST_TMPDIR/log
	POLICY=${1:-$BATS_TEST_TMPDIR/policy-rc.d}
	mkdir -p "$S"
	: > "$LOG"
	cat > "$S/apt-get" <<-EOF
		#!/bin/sh
		echo "apt-get \$*" >> "$LOG"
		case \$1 in install)
			if [ -x "$POLICY" ]; then
				rc=0; "$POLICY" nginx start || rc=\$?
				echo "policy-rc.d: exit \$rc" >> "$LOG"
			else
				echo "policy-rc.d: none" >> "$LOG"
			fi
			[ "\${FAIL_INSTALL:-}" != 1 ] || exit 100 ;;
		esac
	EOF
	cat > "$S/sudo" <<-EOF
		#!/bin/sh
		echo "sudo \$1" >> "$LOG"
		exec "\$@"
	EOF
	# not root: every write goes through sudo
	printf '#!/bin/sh\necho 1000\n' > "$S/id"
	for t in systemctl service invoke-rc.d nginx haproxy prometheus iperf3; do
		printf '#!/bin/sh\necho "CALLED %s $*" >> "%s"\n' "$t" "$LOG" \
		    > "$S/$t"
	done
	chmod +x "$S"/*
	printf '# a list for the test\nlb-fake-package /nonexistent/lb-deps-test\n' \
	    > "$BATS_TEST_TMPDIR/list"
}

# deps [VAR=VALUE...]: tools/deps.sh on the test's list, the stubs first
deps() {
	env PATH="$S:/usr/bin:/bin" "$@" \
	    sh "$BATS_TEST_DIRNAME/../tools/deps.sh" "$BATS_TEST_TMPDIR/list"
}

@test "deps.sh: forbids starting services during the install, and stops none" {
	stubs
	run -0 deps DEPS_POLICY_RC_D="$POLICY"
	[ "$output" = "deps: installing lb-fake-package" ]
	cat "$LOG"
	run -1 grep CALLED "$LOG"
	grep -qx 'apt-get install -y -qq --no-install-recommends lb-fake-package' "$LOG"
	grep -qx 'policy-rc.d: exit 101' "$LOG"
	grep -qx 'sudo apt-get' "$LOG"
	# gone after the install
	[ ! -e "$POLICY" ]
}

@test "deps.sh: a failed install removes its policy-rc.d too" {
	stubs
	run -100 deps DEPS_POLICY_RC_D="$POLICY" FAIL_INSTALL=1
	grep -qx 'policy-rc.d: exit 101' "$LOG"
	[ ! -e "$POLICY" ]
	run -1 grep CALLED "$LOG"
}

@test "deps.sh: a policy-rc.d the machine has is left as it is" {
	stubs
	printf '#!/bin/sh\nexit 0\n' > "$POLICY"
	chmod 755 "$POLICY"
	before=$(cat "$POLICY")
	run -0 deps DEPS_POLICY_RC_D="$POLICY"
	grep -qx 'policy-rc.d: exit 0' "$LOG"
	[ "$(cat "$POLICY")" = "$before" ]
	run -1 grep CALLED "$LOG"
}

@test "deps.sh: nothing missing, nothing done" {
	stubs
	printf 'sh sh\n' > "$BATS_TEST_TMPDIR/list"
	run -0 deps DEPS_POLICY_RC_D="$POLICY"
	[ -z "$output" ]
	[ ! -s "$LOG" ]
	[ ! -e "$POLICY" ]
}

@test "deps.sh: the real /usr/sbin/policy-rc.d is there for the install only" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to write /usr/sbin"
	[ ! -e /usr/sbin/policy-rc.d ] || skip "this machine has a policy-rc.d"
	stubs /usr/sbin/policy-rc.d
	run -0 deps
	grep -qx 'policy-rc.d: exit 101' "$LOG"
	[ ! -e /usr/sbin/policy-rc.d ]
	run -1 grep CALLED "$LOG"
}
