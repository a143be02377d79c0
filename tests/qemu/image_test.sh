#!/bin/bash
# `minipod image build --cmd` images booted by QEMU directly, without any
# minipod.cmd= on the kernel command line: the init runs /etc/minipod/argv
# and hands its status back (console line and isa-debug-exit). The second
# boot goes through the PVH vmlinux that `minipod image kernel --pvh`
# extracts and caches (a second call hits the cache: same path, file not
# rewritten), with minipod itself in the image. Two boots, each bounded;
# exits 77 (skipped) with the reason when QEMU, a kernel or busybox is missing.
# Usage: image_test.sh MINIPOD MINIPOD_INIT
set -uo pipefail
minipod=$1
init_bin=$2
boot_timeout=${MINIPOD_QEMU_TIMEOUT:-90}

skip() { echo "SKIP: $*"; exit 77; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

source "$(dirname "$0")/lib.sh"
vm_probe "$minipod" || skip "$vm_missing"
qemu=$vm_qemu kernel=$vm_kernel busybox=$vm_busybox
accel=("${vm_accel[@]}")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MINIPOD_CACHE=$tmp/cache

# boot NAME KERNEL IMAGE WANT_STATUS WANT_LINE [APPEND]: one boot, checked.
# no_timer_check: on a loaded host TCG can miss the kernel's check that the
# IO-APIC timer ticks in time, and the kernel panics before the init runs.
boot() {
  local name=$1 kern=$2 initrd=$3 want=$4 line=$5 append=${6:-}
  local log=$tmp/$name.log start=$SECONDS before=$failures
  timeout -k 5 "$boot_timeout" "$qemu" -nodefaults -nographic -no-reboot -m 512 "${accel[@]}" \
    -kernel "$kern" -initrd "$initrd" -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -append "console=ttyS0 panic=-1 quiet no_timer_check cryptomgr.notests $append" </dev/null >"$log" 2>&1
  local got=$? want_qemu=$(((2 * want + 1) % 256))
  echo "$name: QEMU exit $got (want $want_qemu), $((SECONDS - start)) s"
  if ((got == 124 || got == 137)); then
    fail "$name: no power-off within ${boot_timeout}s"
  elif ((got != want_qemu)); then
    fail "$name: QEMU exited $got, want $want_qemu"
  fi
  tr -d '\r' <"$log" | grep -q "minipod: exit status $want\$" || fail "$name: no 'minipod: exit status $want' on the console"
  tr -d '\r' <"$log" | grep -qF -- "$line" || fail "$name: no '$line' on the console"
  if ((failures > before)); then
    echo "--- console of $name (last 30 lines) ---"
    tail -n 30 "$log"
  fi
}

image=$tmp/cmd.cpio.gz
# The double quotes around hi reach the guest's shell inside its single
# quotes: the console shows them.
"$minipod" image build -o "$image" --cmd "busybox sh -c \"echo 'argv says:' '\\\"hi\\\"'; exit 5\"" "$busybox" \
  >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; echo "FAIL: image build"; exit 1; }
booted=1
boot argv "$kernel" "$image" 5 'argv says: "hi"'

# The PVH kernel: extracted once, then the same cached file.
vmlinux=$("$minipod" image kernel --pvh "$kernel" 2>"$tmp/pvh.err")
status=$?
if ((status != 0)); then
  if grep -q "no PVH entry\|unsupported" "$tmp/pvh.err"; then
    echo "pvh: skipped, $(cat "$tmp/pvh.err")"
  else
    cat "$tmp/pvh.err"
    fail "image kernel --pvh $kernel: status $status"
  fi
else
  [[ $vmlinux == "$MINIPOD_CACHE"/kernels/* ]] || fail "pvh: $vmlinux is not in the cache $MINIPOD_CACHE/kernels"
  before=$(stat -c '%i %Y.%y' "$vmlinux")
  again=$("$minipod" image kernel --pvh "$kernel") || fail "pvh: second call failed"
  [[ $again == "$vmlinux" ]] || fail "pvh: second call gave $again, not $vmlinux"
  [[ $(stat -c '%i %Y.%y' "$vmlinux") == "$before" ]] || fail "pvh: the cached file was rewritten"
  [[ $(stat -c %a "$MINIPOD_CACHE/kernels") == 700 ]] || fail "pvh: the cache directory is not 0700"
  mp_image=$tmp/minipod.cpio.gz
  "$minipod" image build --with-minipod -o "$mp_image" --kernel "$kernel" \
    "$busybox" >"$tmp/build-mp.log" 2>&1 || { cat "$tmp/build-mp.log"; echo "FAIL: image build --with-minipod"; exit 1; }
  booted=$((booted + 1))
  boot pvh "$vmlinux" "$mp_image" 6 "in-guest: minipod " \
    "minipod.cmd=\"busybox sh -c 'echo in-guest: \$(minipod --version); exit 6'\""
fi

((failures == 0)) || { echo "$failures failure(s)"; exit 1; }
((booted > 0)) || skip "neither boot could run (see above)"
echo "all boots passed"
