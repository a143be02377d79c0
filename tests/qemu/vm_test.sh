#!/bin/bash
# `minipod vm` end to end: boots the host's kernel under QEMU with an image
# from `minipod rootfs build --init busybox` and checks the statuses that
# come back (0, 3, 137 against 9 sharing QEMU's 19, 127), --timeout on a
# hanging guest (124, the console's last lines), a kernel that never
# starts the init, a missing QEMU and a bad --kernel (125, one clear line),
# --share read-only and :rw, and --host-root. Every run is bounded; exits 77
# (skipped) with the reason when QEMU, a readable kernel or busybox is
# missing. Parts that need what minipod-init reads at boot (/etc/minipod/argv,
# minipod.share=, minipod.root=) are skipped, with the reason, when the init
# built here does not know them.
# Usage: vm_test.sh MINIPOD MINIPOD_INIT
set -uo pipefail
minipod=$1
init_bin=$2
limit=${MINIPOD_QEMU_TIMEOUT:-120}

skip() { echo "SKIP: $*"; exit 77; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (apt install qemu-system-x86)"
[[ $(uname -m) == x86_64 ]] || skip "the guest is x86_64; this host is $(uname -m)"
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
[[ -n $kernel ]] || skip "no /boot/vmlinuz-* (apt install linux-image-amd64)"
[[ -r $kernel ]] || skip "$kernel is not readable by uid $(id -u)"
busybox=$(command -v busybox) || skip "busybox not installed (apt install busybox-static)"
release=${kernel##*/vmlinuz-}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
image=$tmp/boot.cpio
"$minipod" rootfs build -o "$image" --init "$busybox" >"$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log"; echo "FAIL: rootfs build"; exit 1; }

modules_ok=yes
[[ -f /lib/modules/$release/modules.dep ]] || modules_ok="no /lib/modules/$release/modules.dep for the 9p modules"

# vm NAME WANT_STATUS ARGS...: one `minipod vm` run, bounded, output kept in
# $tmp/NAME.out and $tmp/NAME.err; checks the status.
vm() {
  local name=$1 want=$2
  shift 2
  local start=$SECONDS
  timeout -k 5 "$((limit + 30))" "$minipod" vm --timeout "${limit}s" "$@" </dev/null \
    >"$tmp/$name.out" 2>"$tmp/$name.err"
  local got=$?
  echo "$name: exit $got (want $want), $((SECONDS - start)) s"
  if ((got != want)); then
    fail "$name: exit $got, want $want"
    echo "--- stdout of $name (last 20 lines) ---"; tail -n 20 "$tmp/$name.out"
    echo "--- stderr of $name ---"; cat "$tmp/$name.err"
    return 1
  fi
  return 0
}

# The guest's command goes through `-- CMD` (/etc/minipod/argv).
run_cmd() {  # run_cmd NAME WANT SHELL_SCRIPT [vm options...]
  local name=$1 want=$2 script=$3
  shift 3
  vm "$name" "$want" "$@" "$image" -- busybox sh -c "$script"
}

# No boot needed: a missing QEMU and a bad kernel are one clear line, 125.
PATH=/nonexistent "$minipod" vm --timeout 10s "$image" -- true </dev/null >"$tmp/noqemu.out" 2>"$tmp/noqemu.err"
status=$?
((status == 125)) || fail "no QEMU: exit $status, want 125"
grep -qx "minipod vm: qemu-system-x86_64 not found: apt install qemu-system-x86" "$tmp/noqemu.err" ||
  { fail "no QEMU: message"; cat "$tmp/noqemu.err"; }
"$minipod" vm --timeout 10s --kernel "$tmp/no-such-kernel" "$image" -- true </dev/null >/dev/null 2>"$tmp/nokernel.err"
status=$?
((status == 125)) || fail "bad kernel: exit $status, want 125"
grep -q "no-such-kernel.*No such file" "$tmp/nokernel.err" || { fail "bad kernel: message"; cat "$tmp/nokernel.err"; }
"$minipod" vm --timeout 10s --share "$tmp/absent:/mnt" "$image" </dev/null >/dev/null 2>"$tmp/noshare.err"
status=$?
((status == 125)) && grep -q "absent" "$tmp/noshare.err" || { fail "missing share: exit $status"; cat "$tmp/noshare.err"; }

# Statuses. 137 and 9 both read 19 from QEMU: the console line decides.
run_cmd exit3 3 'exit 3'
run_cmd sigkill 137 'kill -9 $$'
vm missing 127 "$image" -- /no/such/command

# A guest that hangs: 124 after --timeout, with the console's last lines.
hang_limit=$((limit / 2))
hang_failures=$failures
start=$SECONDS
cmd=("$image" -- busybox sh -c 'echo before-the-hang; sleep 100000')
timeout -k 5 "$((hang_limit + 30))" "$minipod" vm --timeout "${hang_limit}s" "${cmd[@]}" </dev/null \
  >"$tmp/hang.out" 2>"$tmp/hang.err"
status=$?
echo "hang: exit $status (want 124), $((SECONDS - start)) s"
((status == 124)) || fail "hang: exit $status, want 124"
grep -qx "minipod vm: timed out after ${hang_limit}s" "$tmp/hang.err" || fail "hang: no 'timed out' line"
grep -qx "  before-the-hang" "$tmp/hang.err" || fail "hang: the console's last lines are not in the error"
((failures == hang_failures)) || cat "$tmp/hang.err"

# A kernel that never starts the init (an initrd that is no archive): it
# panics, reboots, and QEMU (-no-reboot) ends without a status.
head -c 4096 /dev/urandom >"$tmp/junk.img"
if vm junk 125 "$tmp/junk.img"; then
  grep -q "the kernel never started minipod-init" "$tmp/junk.err" ||
    { fail "junk: message"; cat "$tmp/junk.err"; }
fi

# --share: read a host file, write through :rw, and a read-only share
# refuses writes.
if [[ $modules_ok != yes ]]; then
  echo "share: skipped: $modules_ok"
else
  mkdir "$tmp/in" "$tmp/out"
  echo from-the-host >"$tmp/in/hello"
  run_cmd share 0 \
    '[ "$(cat /mnt/in/hello)" = from-the-host ] && echo from-the-guest >/mnt/out/new && ! touch /mnt/in/denied 2>/dev/null' \
    --share "$tmp/in:/mnt/in" --share "$tmp/out:/mnt/out:rw"
  [[ $(cat "$tmp/out/new" 2>/dev/null) == from-the-guest ]] || fail "share: the guest's file is not on the host"
  [[ ! -e $tmp/in/denied ]] || fail "share: a read-only share was written"
fi

# --host-root: the host's own /etc/os-release, and no write to the host.
if [[ $modules_ok != yes ]]; then
  echo "host-root: skipped: $modules_ok"
else
  marker=minipod-vm-test-$$
  if vm hostroot 0 --host-root -- /bin/sh -c \
    "cat /etc/os-release; if touch /$marker 2>/dev/null; then exit 1; fi; exit 0"; then
    while IFS= read -r line; do
      # The first line may share the console's line with the firmware's.
      tr -d '\r' <"$tmp/hostroot.out" | grep -qF -- "$line" || { fail "host-root: '$line' of /etc/os-release not seen"; break; }
    done </etc/os-release
  fi
  [[ ! -e /$marker ]] || { rm -f "/$marker"; fail "host-root: the guest wrote to the host's /"; }
fi

((failures == 0)) || { echo "$failures failure(s)"; exit 1; }
echo "all vm runs passed"
