#!/bin/bash
# Boots the host's kernel under QEMU with an initramfs made by
# `minipod rootfs build --init` (minipod-init as /init, busybox), and checks
# that boot mode hands the guest command's status back: on the console as
# "minipod: exit status N" and through isa-debug-exit as QEMU's own status
# (2N+1, modulo 256). Also: the image's /etc/minipod/argv, --wait-all and
# --term-delay, PID 1 outliving every other process, 9p shares and a 9p root,
# a fatal mount. Each boot is bounded and checks several things; exits 77
# (skipped) with the reason when QEMU, a readable kernel or busybox is missing.
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

# The image's default command (/etc/minipod/argv, NUL after each word), run
# by the 'argv' boot; minipod.cmd= wins over it in every other boot.
# - a nested minipod-init --term-delay 1h holds the first SIGTERM (it says
#   so) and forwards it only when the second one comes;
# - a background process outlives the command: minipod.wait_all waits for
#   it (its line comes before the exit status), nothing signals it;
# - PID 1 itself, with minipod.term_delay=1h, holds a SIGTERM sent to it
#   until the second one (read from its signalfd first: ShdPnd clears).
argv_script='n=/tmp/nested.log
/init -v --term-delay 1h -- busybox sh -c "trap \"echo nested-got-term; exit 0\" TERM; touch /tmp/ready; while :; do sleep 1; done" </dev/null 2>$n &
p=$!
until [ -e /tmp/ready ]; do sleep 1; done
kill -TERM $p
until grep -q "holding SIGTERM" $n; do sleep 1; done
cat $n
echo nested-second-term
kill -TERM $p
wait $p
echo "nested-status $?"
(trap "" HUP; sleep 3; echo late-child-done) &
trap "echo pid1-term; kill \$s; exit 5" TERM
sleep 1000 &
s=$!
kill -TERM 1
until [ $((0x$(awk "/^ShdPnd/{print \$2}" /proc/1/status) & 0x4000)) = 0 ]; do sleep 1; done
echo pid1-second-term
kill -TERM 1
wait $s'
printf '%s\0' busybox sh -c "$argv_script" >"$tmp/argv"
"$minipod" rootfs build -o "$image" --init --add "$tmp/argv:/etc/minipod/argv" "$busybox" >"$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log"; echo "FAIL: rootfs build"; exit 1; }
# The image must carry this build's init, not one found elsewhere.
cmp -s <(cd "$tmp" && cpio -i --to-stdout init <"$image" 2>/dev/null) "$init_bin" ||
  { echo "FAIL: the image's /init is not $init_bin"; exit 1; }

# The same image with a regular file where /proc should be: a fatal mount.
mkdir "$tmp/fatal" && : >"$tmp/fatal/proc"
cp "$image" "$tmp/fatal.cpio" && truncate -s %512 "$tmp/fatal.cpio"
(cd "$tmp/fatal" && echo proc | cpio -o -H newc --quiet --owner 0:0) >>"$tmp/fatal.cpio" ||
  { echo "FAIL: cpio of the fatal image"; exit 1; }

# A second image with overlay and veth and the 9p stack (modules in Debian's
# kernel), their closures from /lib/modules/R for the kernel booted, when
# that is there.
release=${kernel##*/vmlinuz-}
module_image=
if [[ -f /lib/modules/$release/modules.dep ]]; then
  module_image=$tmp/modules.cpio
  "$minipod" rootfs build -o "$module_image" --init --kernel-release "$release" \
    --module overlay --module veth --module 9p --module 9pnet_virtio --module virtio_pci \
    "$busybox" >"$tmp/build-modules.log" 2>&1 ||
    { cat "$tmp/build-modules.log"; echo "FAIL: rootfs build --module"; exit 1; }
fi

# boot NAME WANT_STATUS DEBUG_EXIT(yes|no) APPEND...: one boot, checked;
# the QEMU options in virtfs are added.
virtfs=()
boot() {
  local name=$1 want=$2 debug_exit=$3
  shift 3
  local device=() initrd=$image
  if [[ $name == modules* || $name == root* ]]; then initrd=$module_image; fi
  if [[ $name == fatal* ]]; then initrd=$tmp/fatal.cpio; fi
  [[ $debug_exit == yes ]] && device=(-device isa-debug-exit,iobase=0xf4,iosize=0x04)
  local log=$tmp/$name.log
  local start=$SECONDS before=$failures
  timeout -k 5 "$boot_timeout" "$qemu" -nodefaults -nographic -no-reboot -m 256 "${accel[@]}" \
    -kernel "$kernel" -initrd "$initrd" -serial stdio "${device[@]}" "${virtfs[@]}" \
    -append "console=ttyS0 panic=-1 quiet no_timer_check cryptomgr.notests $*" </dev/null >"$log" 2>&1
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
# A word the kernel does not know (stray_word) reaches the init's argv; it is
# not a command.
boot setup 0 yes "minipod.hostname=testbox minipod.workdir=/tmp minipod.env=GREETING=hello" \
  "stray_word minipod.cmd=\"busybox sh -c '$checks'\""
# The words after "--" are the command, after a stray word and over minipod.cmd=.
boot exit3 3 yes "stray_word minipod.cmd=/no/such/command -- busybox sh -c \"exit 3\""
boot sigkill 137 yes "minipod.cmd=\"busybox sh -c 'kill -9 \$\$'\""
boot missing 127 yes "minipod.cmd=/no/such/command"
# A process left behind that survives SIGTERM (and the SIGHUP of its session
# leader's exit): SIGKILLed after the grace period, and the machine still
# powers off with the command's status.
boot leftover 4 yes "minipod.cmd=\"busybox sh -c '(trap : TERM HUP; while :; do :; done) & sleep 1; exit 4'\""
grep -q "grace period over: killing remaining processes" "$tmp/leftover.log" ||
  fail "leftover: the survivor was not SIGKILLed after the grace period"
# No minipod.cmd=: /etc/minipod/argv runs (see argv_script).
boot argv 5 yes "minipod.wait_all minipod.term_delay=1h"
log=$(tr -d '\r' <"$tmp/argv.log")
order() {  # order NAME LINE...: the lines appear on the console in this order
  local name=$1 at=0 n
  shift
  for line in "$@"; do
    n=$(grep -n -m1 -F -- "$line" <<<"$log" | cut -d: -f1)
    if [[ -z $n ]] || ((n <= at)); then
      fail "$name: '$line' missing or out of order"
      return
    fi
    at=$n
  done
}
order "argv: --term-delay" "holding SIGTERM" nested-second-term nested-got-term "nested-status 0"
order "argv: minipod.term_delay" pid1-second-term pid1-term
order "argv: minipod.wait_all" pid1-term late-child-done "minipod: exit status 5"
grep -q "grace period over" <<<"$log" && fail "argv: minipod.wait_all signalled the leftover"

# PID 1 outlives its children: hundreds of orphans (all reaped: no zombie
# left), then SIGTERM and SIGKILL to every other process, then the command
# dies of SIGSEGV; the machine still powers off with 139. (No double quotes:
# the kernel's own quoting would split the parameter there.)
survive='i=0; while [ $i -lt 200 ]; do (sleep 1 &); i=$((i+1)); done; sleep 1'
survive+='; for t in 1 2 3 4 5 6 7 8 9 10; do z=$(grep -l ^State:.Z /proc/[0-9]*/status 2>/dev/null | wc -l)'
survive+='; [ $z = 0 ] && break; sleep 1; done; echo zombies left: $z'
survive+='; (sleep 100 &); kill -s TERM -1; kill -s KILL -1; echo killed-all; kill -s SEGV $$'
boot survive 139 yes "minipod.cmd=\"busybox sh -c '$survive'\""
grep -q "zombies left: 0" "$tmp/survive.log" || fail "survive: orphans were left as zombies"
grep -q "killed-all" "$tmp/survive.log" || fail "survive: the command did not get past kill -1"

# A regular file at /proc: printed, the command is not run, 125.
boot fatal 125 yes "minipod.cmd=\"busybox sh -c 'echo command-ran'\""
grep -q "mount proc on /proc: Not a directory" "$tmp/fatal.log" || fail "fatal: the failed mount was not printed"
grep -q "command-ran" "$tmp/fatal.log" && fail "fatal: the command ran without /proc"

# The listed modules are loaded before the command runs, and work; 9p
# shares: one read-only, one written through with :rw.
if [[ -n $module_image ]]; then
  mkdir "$tmp/ro" "$tmp/rw" && echo from-host >"$tmp/ro/hello"
  virtfs=(-virtfs "local,path=$tmp/ro,mount_tag=ro_tag,security_model=none,readonly=on"
    -virtfs "local,path=$tmp/rw,mount_tag=rw_tag,security_model=none")
  mods='grep -qw overlay /proc/filesystems && [ -d /sys/module/veth ]'
  mods+=' && mkdir /tmp/l /tmp/u /tmp/w /tmp/m && echo hi >/tmp/l/f'
  mods+=' && mount -t overlay -o lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w none /tmp/m'
  mods+=' && [ $(cat /tmp/m/f) = hi ] && umount /tmp/m'
  mods+=' && [ $(cat /mnt/ro/hello) = from-host ] && ! touch /mnt/ro/x 2>/dev/null'
  mods+=' && echo from-guest >/mnt/deep/rw/out'
  boot modules 0 yes "minipod.share=ro_tag:/mnt/ro minipod.share=rw_tag:/mnt/deep/rw:rw" \
    "minipod.cmd=\"busybox sh -c '$mods'\""
  [[ $(cat "$tmp/rw/out" 2>/dev/null) == from-guest ]] || fail "modules: nothing written through the :rw share"

  # minipod.root=: a small tree shared read-only becomes the root; its API
  # file systems work, it cannot be written, a :rw share lands inside it.
  root=$tmp/root
  "$minipod" rootfs build -o "$root" "$busybox" >"$tmp/build-root.log" 2>&1 ||
    { cat "$tmp/build-root.log"; echo "FAIL: rootfs build of the root tree"; exit 1; }
  mkdir -p "$root/proc" "$root/sys" "$root/dev" "$root/run" "$root/tmp" && echo yes >"$root/marker"
  virtfs=(-virtfs "local,path=$root,mount_tag=hostroot,security_model=none,readonly=on"
    -virtfs "local,path=$tmp/rw,mount_tag=rw_tag,security_model=none")
  inroot='[ $(cat /marker) = yes ] && ! touch /x 2>/dev/null && [ ! -e /init ]'
  inroot+=' && grep -q ^hostroot\ /\ 9p /proc/mounts && [ -r /proc/self/stat ] && [ -c /dev/null ]'
  inroot+=' && [ $(pwd) = / ] && echo in-root >/tmp/out/root'
  boot root 0 yes "minipod.root=hostroot minipod.share=rw_tag:/tmp/out:rw" \
    "minipod.cmd=\"$busybox sh -c '$inroot'\""
  [[ $(cat "$tmp/rw/root" 2>/dev/null) == in-root ]] || fail "root: nothing written through the share"
  virtfs=()
else
  echo "modules, root: skipped, no /lib/modules/$release/modules.dep for $kernel"
fi
# Without the device the init must not write the port, and still powers off.
boot no_device 3 no "minipod.cmd=\"busybox sh -c 'exit 3'\""

((failures == 0)) || { echo "$failures failure(s)"; exit 1; }
echo "all boots passed"
