#!/usr/bin/env bash
# tests/run-checks.sh SCRIPT...: the system-test layers of `make check`.
# Runs each script (BUILD in the environment), shows its output, reads its
# closing "N passed, N failed, N skipped" line, and prints the sum as the
# last line.  Fails when a script fails, prints no summary, or -- with
# OCIVM_REQUIRE_GUEST=1, which `make test` sets after `make guest` -- when a
# script of OCIVM_LINUX_E2E (the Linux end-to-end layers) ran no case at all
# and skipped: `make test` must not go green with no VM tested.
set -u
P=0 F=0 S=0 rc=0
is_linux_e2e() { case " ${OCIVM_LINUX_E2E:-} " in *" $1 "*) return 0;; esac; return 1; }
for s in "$@"; do
	echo "== $s"
	out=$(mktemp)
	"$s" 2>&1 | tee "$out"
	src=${PIPESTATUS[0]}
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	rm -f "$out"
	p=$(echo "$line" | sed -n 's/.*\b\([0-9][0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p')
	k=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) skipped.*/\1/p')
	p=${p:-0} f=${f:-0} k=${k:-0}
	if [ -z "$line" ]; then
		echo "run-checks: $s printed no summary line (exit $src)"; F=$((F + 1)); rc=1
	fi
	[ "$src" -eq 0 ] && [ "$f" -eq 0 ] || rc=1   # a FAIL line counts even if the script exits 0
	if [ "${OCIVM_REQUIRE_GUEST:-0}" = 1 ] && is_linux_e2e "$s" && [ "$p" -eq 0 ] && [ "$k" -gt 0 ]; then
		echo "run-checks: $s skipped every case, but make test needs the Linux layers to run (see its skip reason)"
		F=$((F + 1)); rc=1
	fi
	P=$((P + p)) F=$((F + f)) S=$((S + k))
done
echo "check: $P passed, $F failed, $S skipped"
exit $rc
