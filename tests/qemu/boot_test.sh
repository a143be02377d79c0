#!/bin/bash
# Boots the host's kernel under QEMU with an initramfs made by
# `minipod rootfs build --init` (minipod-init as /init, busybox), and checks
# that boot mode hands the guest command's status back: on the console as
# "minipod: exit status N" and through isa-debug-exit as QEMU's own status
# (2N+1, modulo 256). Each boot is bounded; exits 77 (skipped) with the reason
# when QEMU, a readable kernel or busybox is missing.
# Usage: boot_test.sh MINIPOD MINIPOD_INIT
set -uo pipefail
minipod=$1
init_bin=$2
boot_timeout=${MINIPOD_QEMU_TIMEOUT:-90}

skip() { echo "SKIP: $*"; exit 77; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Not PID 1, --boot refuses: its mounts would hide the host's /proc, /dev,
# /run and /tmp. (Should that regress, root runs it in a private mount
# namespace; anyone else cannot mount at all.)
wrap=()
[[ $(id -u) == 0 ]] && wrap=(unshare -m --propagation private --)
refusal=$("${wrap[@]}" "$init_bin" --boot -- true 2>&1)
status=$?
if ((status != 2)) || [[ $refusal != *"not PID 1"* ]]; then
  echo "FAIL: --boot not as PID 1: status $status, output: $refusal"
  exit 1
fi

qemu=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 not installed (apt install qemu-system-x86)"
[[ $(uname -m) == x86_64 ]] || skip "the guest is x86_64; this host is $(uname -m)"
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
[[ -n $kernel ]] || skip "no /boot/vmlinuz-* (apt install linux-image-amd64)"
[[ -r $kernel ]] || skip "$kernel is not readable by uid $(id -u)"
busybox=$(command -v busybox) || skip "busybox not installed (apt install busybox-static)"
accel=(-accel tcg)
if [[ -r /dev/kvm && -w /dev/kvm ]]; then accel=(-accel kvm -cpu host); fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
image=$tmp/boot.cpio
"$minipod" rootfs build -o "$image" --init "$busybox" >"$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log"; echo "FAIL: rootfs build"; exit 1; }
# The image must carry this build's init, not one found elsewhere.
cmp -s <(cd "$tmp" && cpio -i --to-stdout init <"$image" 2>/dev/null) "$init_bin" ||
  { echo "FAIL: the image's /init is not $init_bin"; exit 1; }

# A second image with overlay and veth (modules in Debian's kernel), their
# closures from /lib/modules/R for the kernel booted, when that is there.
release=${kernel##*/vmlinuz-}
module_image=
if [[ -f /lib/modules/$release/modules.dep ]]; then
  module_image=$tmp/modules.cpio
  "$minipod" rootfs build -o "$module_image" --init --kernel-release "$release" \
    --module overlay --module veth "$busybox" >"$tmp/build-modules.log" 2>&1 ||
    { cat "$tmp/build-modules.log"; echo "FAIL: rootfs build --module"; exit 1; }
fi

# boot NAME WANT_STATUS DEBUG_EXIT(yes|no) APPEND...: one boot, checked.
boot() {
  local name=$1 want=$2 debug_exit=$3
  shift 3
  local device=() initrd=$image
  if [[ $name == modules* ]]; then initrd=$module_image; fi
  [[ $debug_exit == yes ]] && device=(-device isa-debug-exit,iobase=0xf4,iosize=0x04)
  local log=$tmp/$name.log
  local start=$SECONDS before=$failures
  timeout -k 5 "$boot_timeout" "$qemu" -nodefaults -nographic -no-reboot -m 256 "${accel[@]}" \
    -kernel "$kernel" -initrd "$initrd" -serial stdio "${device[@]}" \
    -append "console=ttyS0 panic=-1 quiet $*" </dev/null >"$log" 2>&1
  local got=$?
  local want_qemu=0
  [[ $debug_exit == yes ]] && want_qemu=$(((2 * want + 1) % 256))
  echo "$name: QEMU exit $got (want $want_qemu), $((SECONDS - start)) s"
  if ((got == 124 || got == 137)); then
    fail "$name: no power-off within ${boot_timeout}s"
  elif ((got != want_qemu)); then
    fail "$name: QEMU exited $got, want $want_qemu"
  fi
  # The firmware's escape codes may precede the line when nothing else did.
  if ! tr -d '\r' <"$log" | grep -q "minipod: exit status $want\$"; then
    fail "$name: no 'minipod: exit status $want' on the console"
  fi
  if ((failures > before)); then
    echo "--- console of $name (last 30 lines) ---"
    tail -n 30 "$log"
  fi
}

# The machine boot mode sets up, asserted from inside: hostname, workdir,
# environment, loopback, mounts, cgroup controllers, the console as the
# controlling terminal. Exits 0 only when all hold.
checks='[ $(hostname) = testbox ] && [ $(pwd) = /tmp ] && [ $GREETING = hello ]'
checks+=' && [ $(cat /sys/class/net/lo/flags) = 0x9 ] && grep -q ^cgroup2\ /sys/fs/cgroup /proc/mounts'
checks+=' && grep -q ^devpts\ /dev/pts /proc/mounts && grep -qw pids /sys/fs/cgroup/cgroup.subtree_control'
checks+=' && [ $(tty) = /dev/console ] && [ $(cut -d\  -f7 /proc/self/stat) != 0 ]'
boot setup 0 yes "minipod.hostname=testbox minipod.workdir=/tmp minipod.env=GREETING=hello" \
  "minipod.cmd=\"busybox sh -c '$checks'\""
boot exit3 3 yes "minipod.cmd=\"busybox sh -c 'exit 3'\""
boot sigkill 137 yes "minipod.cmd=\"busybox sh -c 'kill -9 \$\$'\""
boot missing 127 yes "minipod.cmd=/no/such/command"
# A process left behind that survives SIGTERM (and the SIGHUP of its session
# leader's exit): SIGKILLed after the grace period, and the machine still
# powers off with the command's status.
boot leftover 4 yes "minipod.cmd=\"busybox sh -c '(trap : TERM HUP; while :; do :; done) & sleep 1; exit 4'\""
grep -q "grace period over: killing remaining processes" "$tmp/leftover.log" ||
  fail "leftover: the survivor was not SIGKILLed after the grace period"
# The listed modules are loaded before the command runs, and work.
if [[ -n $module_image ]]; then
  mods='grep -qw overlay /proc/filesystems && [ -d /sys/module/veth ]'
  mods+=' && mkdir /tmp/l /tmp/u /tmp/w /tmp/m && echo hi >/tmp/l/f'
  mods+=' && mount -t overlay -o lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w none /tmp/m'
  mods+=' && [ $(cat /tmp/m/f) = hi ] && umount /tmp/m'
  boot modules 0 yes "minipod.cmd=\"busybox sh -c '$mods'\""
else
  echo "modules: skipped, no /lib/modules/$release/modules.dep for $kernel"
fi
# Without the device the init must not write the port, and still powers off.
boot no_device 3 no "minipod.cmd=\"busybox sh -c 'exit 3'\""

((failures == 0)) || { echo "$failures failure(s)"; exit 1; }
echo "all boots passed"
