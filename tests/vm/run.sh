#!/bin/bash
# Tests of the VM lane itself (run by `make check`).
#
# Each case runs scripts/vm/lane.sh the way run_tests.sh does and checks
# that a broken lane (no kernel, wrong modules, a kernel that panics, no
# /dev/kvm, no emulator) is a lane failure: one "run_tests.sh --vm:" line,
# exit 2, or 125 under --bisect; and that a test failure inside the guest
# is the runner's exit code with its results copied back. A stub runner
# stands in for run_tests.sh (KVMTEST_VM_RUNNER) so these tests check the
# lane, not the suite, and stay fast: every boot here is a few seconds.
#
# Ends with "N passed, N failed, N skipped"; exits 1 if any case failed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
lane=$repo/scripts/vm/lane.sh
pass=0 fail=0 skip=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvmtest-vmtests.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tmpdir"
export TMPDIR=$tmp/tmpdir

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() {
	fail=$((fail + 1))
	echo "not ok - $1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$@"
	sed 's/^/#   | /' "$tmp/err" | tail -n 25
}
skip() { skip=$((skip + 1)); echo "ok - $1 # SKIP $2"; }

# A stub runner: prints a TAP stream, writes an output dir, exits with the
# number found on a line of its --expect file (0 when none): that also
# checks the lane hands a host --expect file to the guest. It runs under
# bash-static in the guest, as the real one does.
cat >"$tmp/stub_runner.sh" <<'EOF'
#!/bin/bash
out= expect= all="$*"
while [ $# -gt 0 ]; do
	case $1 in -o) out=$2; shift ;; --expect) expect=$2; shift ;; esac
	shift
done
rc=$(grep -x '[0-9][0-9]*' "$expect" 2>/dev/null | head -n 1)
grep -qx hang "$expect" 2>/dev/null && { echo "TAP version 13"; sleep 1000; }
mkdir -p "$out"
echo "$all" >"$out/stub-args.txt"
echo "TAP version 13"
if [ -c /dev/kvm ]; then echo "ok 1 stub_kvm"; else echo "not ok 1 stub_kvm"; fi
echo "not ok 2 stub_fails"
echo "1..2"
echo "stub log" >"$out/stub_fails.log"
# What the lane told the guest about the tested sources.
printf 'head=%s\nkernel=%s\n' "${KVMTEST_GIT_HEAD-}" "${KVMTEST_KERNEL_SOURCE-}" >"$out/lane-env.txt"
printf 'TAP version 13\n' >"$out/results.tap"
echo "1 passed, 1 failed, 0 skipped"
exit "${rc:-0}"
EOF
printf 'stub_kvm  x86/none  10  smoke\n' >"$tmp/tests.list"
mkdir -p "$tmp/bin"
export KVMTEST_VM_RUNNER=$tmp/stub_runner.sh
common=(--no-build --list "$tmp/tests.list" --bin-dir "$tmp/bin" -q)

# run NAME EXPECTED-CODE MESSAGE-REGEX lane-args...: the lane exits with
# EXPECTED-CODE and, for lane failures, says one line matching the regex.
n=0
run() {
	local name=$1 want=$2 re=$3 rc
	shift 3
	n=$((n + 1))
	local t0=$SECONDS
	"$lane" "$@" -o "$tmp/out.$n" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	local took=$((SECONDS - t0))
	if [ "$rc" != "$want" ]; then
		not_ok "$name" "exit $rc, wanted $want"
		return 1
	fi
	if [ -n "$re" ]; then
		if [ "$(grep -c '^run_tests.sh --vm: ' "$tmp/err")" != 1 ] ||
			! grep -Eq "^run_tests.sh --vm: .*$re" "$tmp/err"; then
			not_ok "$name" "wanted one 'run_tests.sh --vm:' line matching /$re/"
			return 1
		fi
	fi
	ok "$name (${took}s)"
}

# --- lane failures found before booting ----------------------------------------
run "missing kernel is a lane failure" 2 "kernel image .* does not exist" \
	--vm --kernel "$tmp/no-such-bzImage" "${common[@]}"
run "missing kernel under --bisect gives 125" 125 "does not exist" \
	--vm --kernel "$tmp/no-such-bzImage" --bisect "${common[@]}"
printf 'not a kernel\n' >"$tmp/junk-image"
run "a file that is no bzImage is a lane failure" 2 "not an x86 bzImage" \
	--vm --kernel "$tmp/junk-image" "${common[@]}"

kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
mkdir -p "$tmp/mods"
printf 'kernel/fs/foo.ko.xz:\n' >"$tmp/mods/modules.dep"
if [ -n "$kernel" ]; then
	run "modules tree without kvm-amd is a lane failure" 2 "no kvm-amd.ko\\* in modules tree" \
		--vm --kernel "$kernel" --modules "$tmp/mods" "${common[@]}"
	run "wrong modules tree under --bisect gives 125" 125 "no kvm-amd.ko" \
		--vm --kernel "$kernel" --modules "$tmp/mods" --bisect "${common[@]}"
	run "modules path that does not exist is a lane failure" 2 "is not a directory" \
		--vm --kernel "$kernel" --modules "$tmp/nowhere" "${common[@]}"
else
	skip "modules tree checks" "no /boot/vmlinuz-*"
fi

# --- --kernel-src: the plumbing git bisect relies on, with no kernel build --------
# A kernel build that fails (or a tree that is none) must skip the commit
# under --bisect (125), not call it bad.
run "--kernel-src that is not a kernel tree is a lane failure" 2 "no lane kernel from" \
	--vm --kernel-src "$tmp" "${common[@]}"
run "--kernel-src that is not a kernel tree under --bisect gives 125" 125 "no lane kernel from" \
	--vm --kernel-src "$tmp" --bisect "${common[@]}"
printf '#!/bin/bash\necho "build-kernel.sh: the kernel build failed" >&2\nexit 1\n' >"$tmp/failing-builder.sh"
chmod +x "$tmp/failing-builder.sh"
KVMTEST_BUILD_KERNEL=$tmp/failing-builder.sh run "a failed kernel build under --bisect gives 125" 125 \
	"no lane kernel from" --vm --kernel-src "$tmp" --bisect "${common[@]}"
run "--debug without --kernel-src is bad usage" 2 "--debug picks the flavour" \
	--vm --debug "${common[@]}"

# No emulator: a PATH holding every command but qemu-system-*.
mkdir -p "$tmp/path"
for f in /usr/bin/* /bin/* /usr/sbin/* /sbin/*; do
	case ${f##*/} in qemu-system-*) continue ;; esac
	[ -e "$tmp/path/${f##*/}" ] || ln -s "$f" "$tmp/path/${f##*/}"
done
PATH=$tmp/path run "missing QEMU is a lane failure naming the package" 2 \
	"apt-get install qemu-system-x86" --vm "${common[@]}"

# --- boots -------------------------------------------------------------------
if [ -z "$kernel" ] || ! command -v qemu-system-x86_64 >/dev/null; then
	skip "boot cases" "needs qemu-system-x86 and a /boot/vmlinuz-* (scripts/install-deps.sh --vm)"
else
	# init exits at once (busybox run with no applet prints help and
	# returns): the kernel panics with "Attempted to kill init".
	run "kernel panic at boot is a lane failure" 2 "panicked before the tests started" \
		--vm --vm-append rdinit=/bin/busybox "${common[@]}"
	run "kernel panic under --bisect gives 125" 125 "panicked" \
		--vm --vm-append rdinit=/bin/busybox --bisect "${common[@]}"
	run "a boot slower than --boot-timeout is a lane failure" 2 "did not reach the tests within 1s" \
		--vm --boot-timeout 1 "${common[@]}"
	run "CPU without SVM: kvm-amd insmod failure is a lane failure" 2 "insmod kvm-amd failed" \
		--vm --vm-cpu EPYC,-svm "${common[@]}"
	run "--modules none on a modular kernel: no /dev/kvm is a lane failure" 2 "no /dev/kvm" \
		--vm --modules none "${common[@]}"

	run "a CPU model QEMU does not know is a lane failure" 2 "unable to find CPU model" \
		--vm --vm-cpu NoSuchCPU "${common[@]}"

	# The runner's own verdict passes through, results come back.
	printf '1\n' >"$tmp/rc"
	if run "a failing test gives the runner's exit 1, not a lane failure" 1 "" \
		--vm "${common[@]}" --expect "$tmp/rc"; then
		:
	fi
	d=$tmp/out.$n
	if grep -q '^ok 1 stub_kvm' "$tmp/out" && grep -q '^not ok 2 stub_fails' "$tmp/out" &&
		[ -s "$d/stub_fails.log" ] && [ -s "$d/console.log" ] && [ -s "$d/results.tap" ]; then
		ok "TAP streamed to stdout, /dev/kvm present, logs and console.log copied back"
	else
		not_ok "TAP streamed to stdout, /dev/kvm present, logs and console.log copied back" \
			"stdout: $(tr '\n' '|' <"$tmp/out")" "dir: $(ls "$d" | tr '\n' ' ')"
	fi

	# One boot for three things: --expect none reaches the guest (it used
	# to be refused as an unreadable file), two lists go in with their own
	# binaries, and a result directory an interrupted run left (INCOMPLETE)
	# is reused, not refused.
	printf 'stub_two  x86/none  10  smoke\n' >"$tmp/two.list"
	n=$((n + 1))
	mkdir -p "$tmp/out.$n"
	echo interrupted >"$tmp/out.$n/INCOMPLETE"
	echo old >"$tmp/out.$n/old.log"
	n=$((n - 1))
	if run "--expect none, two lists, an INCOMPLETE -o reused" 0 "" \
		--vm "${common[@]}" --expect none --list "$tmp/two.list" --bin-dir "$tmp/bin"; then
		d=$tmp/out.$n
		a=$(cat "$d/stub-args.txt" 2>/dev/null)
		if [[ $a == *"--list /kvmtest/tests.list --bin-dir /kvmtest/build --list /kvmtest/tests-2.list --bin-dir /kvmtest/build-2"* &&
			$a == *"--expect none"* && ! -e $d/old.log && ! -e $d/INCOMPLETE ]]; then
			ok "the guest got both lists and --expect none; the old run's files are gone"
		else
			not_ok "the guest got both lists and --expect none; the old run's files are gone" "args: $a" "dir: $(ls "$d" | tr '\n' ' ')"
		fi
	fi

	# --kernel-src: the built image boots, and the guest learns what it
	# tests (summary.txt's "git HEAD" and "kernel src" lines come from
	# here). The stand-in builder hands over the stock kernel.
	mkdir -p "$tmp/img"
	cp "$kernel" "$tmp/img/bzImage"
	printf 'source: git:v6.12-fake-1-gabc (abc123)\nconfig: cfg0123 (test)\n' >"$tmp/img/info.txt"
	printf '#!/bin/bash\necho "%s"\n' "$tmp/img/bzImage" >"$tmp/fake-builder.sh"
	chmod +x "$tmp/fake-builder.sh"
	if KVMTEST_BUILD_KERNEL=$tmp/fake-builder.sh run "--kernel-src boots the built image" 0 "" \
		--vm --kernel-src "$tmp" --modules "/lib/modules/${kernel##*/vmlinuz-}" "${common[@]}"; then
		d=$tmp/out.$n
		head=$(git -C "$repo" describe --always --dirty --abbrev=40 2>/dev/null || echo "(not a git checkout)")
		if grep -qxF "head=$head" "$d/lane-env.txt" &&
			grep -qxF "kernel=git:v6.12-fake-1-gabc (abc123), config cfg0123 (test)" "$d/lane-env.txt" &&
			grep -q '^kernel source: git:v6.12-fake-1-gabc' "$d/vm.txt"; then
			ok "--kernel-src: the guest runner gets kvmtest's HEAD and the kernel's source and config"
		else
			not_ok "--kernel-src: the guest runner gets kvmtest's HEAD and the kernel's source and config" \
				"lane-env.txt: $(tr '\n' '|' <"$d/lane-env.txt" 2>/dev/null)"
		fi
	fi

	# A runner (or guest kernel) that hangs after the tests started is a
	# failure of the kernel under test, caught by the lane's silence
	# watchdog in seconds, long before the overall limit. (The boot has its
	# own limit, so a loaded machine's slow boot does not count.)
	printf 'hang\n' >"$tmp/hang"
	KVMTEST_VM_STALL=10 run "a hang after the tests started: 10 s of silence, exit 1" 1 "printed nothing for 10s" \
		--vm --boot-timeout 600 --vm-timeout 900 "${common[@]}" --expect "$tmp/hang"

	# insmod of modules from another kernel: a lane failure that says so.
	other=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | grep -vxF "$kernel" | tail -n 1)
	if [ -n "$other" ] && [ -d "/lib/modules/${kernel##*/vmlinuz-}" ]; then
		run "modules of another kernel: insmod failure is a lane failure" 2 "do not match the kernel" \
			--vm --kernel "$other" --modules "/lib/modules/${kernel##*/vmlinuz-}" "${common[@]}"
	else
		skip "modules of another kernel" "needs two kernels in /boot"
	fi
fi

# No emulator or stray process outlives the lane: every case above has
# ended, so no QEMU booting one of our initramfs may be left.
# (The lane's work files live under our $TMPDIR, so its QEMU names $tmp.)
sleep 0.5
if pgrep -af qemu-system | grep -qF "$tmp/"; then
	not_ok "no emulator left behind"
else
	ok "no emulator left behind"
fi

echo "$pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
