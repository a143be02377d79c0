#!/bin/bash
# Pods and cgroup v2 limits inside a VM that boots the host's kernel with
# minipod-init as PID 1 and minipod in its initramfs (`minipod image build
# --with-minipod`, booted by `minipod vm`; the host may be cgroup v1: the
# guest is pure v2). Two boots: guest_checks.sh (the namespace
# matrix compared through /proc/PID/ns, --memory / --pids / --cpus, the
# cgroups removed afterwards), and the demo's guest part (its namespace
# table asserted here from the console). Each boot is bounded; exits 77
# (skipped) with the reason when QEMU, a kernel, its modules or busybox is
# missing.
# Usage: pods_test.sh MINIPOD (minipod-init and minipod-monitor next to it or
# in the build tree)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
minipod=$1
boot_timeout=${MINIPOD_QEMU_TIMEOUT:-240}

vm_probe "$minipod" || { echo "SKIP: $vm_missing"; exit 77; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The PVH vmlinux minipod vm extracts is cached in the test's directory.
export MINIPOD_CACHE=$tmp/cache
vm_build_image "$tmp/guest.cpio.gz" \
  --add "$here/guest_checks.sh:/usr/share/minipod/guest_checks.sh" \
  --add "$here/../../scripts/demo-guest.sh:/usr/share/minipod/demo-guest.sh" >"$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log"; echo "FAIL: building the guest image"; exit 1; }

# boot NAME SCRIPT: the guest runs SCRIPT; its status must be 0.
boot() {
  local name=$1 script=$2 start=$SECONDS
  local log=$tmp/$name.log
  if ! vm_boot "$tmp/guest.cpio.gz" "$log" "$boot_timeout" -- busybox sh "/usr/share/minipod/$script"; then
    fail "$name: $vm_error"
  elif ((vm_status != 0)); then
    fail "$name: the guest's status is $vm_status"
  fi
  echo "$name: guest status ${vm_status:-none}, $((SECONDS - start)) s"
  tr -d '\r' <"$log" >"$tmp/$name.txt"
}

boot checks guest_checks.sh
# Every check reported, each passed: a check that printed nothing fails too.
grep -E '^(PASS|FAIL): ' "$tmp/checks.txt"
for want in "mnt: each container its own" "uts: each container its own" "pid: each container its own" \
  "net: the pod's, shared" "ipc: the pod's, shared" "cgroup: the VM's" "user: the VM's" "exec: in container a" \
  "chroot: refused" "--cap-add SYS_CHROOT: refused (125)" "pod rm -f: no container and no cgroup" "--memory 32m: OOM kill, status 137, reported" \
  "--memory 32m: memory.max 33554432, exec OOM-killed (137), memory.events oom_kill" \
  "--pids 8: fork beyond the limit fails" "--cpus 0.5: cpu.max '50000 100000'" "no cgroup left"; do
  grep -qF "PASS: $want" "$tmp/checks.txt" || fail "checks: no 'PASS: $want' on the console"
done
(($(grep -c '^PASS: rm -f: cgroup .* removed$' "$tmp/checks.txt") == 2)) || fail "checks: a container's cgroup was not removed"
! grep -q '^FAIL: ' "$tmp/checks.txt" || fail "checks: a check failed in the guest"

boot demo demo-guest.sh
# The namespace table the demo prints: one row per type; after the host
# column, the holder's cell then shell's and web's.
row() { grep -E "^$1 " "$tmp/demo.txt" | awk '{print $4, $6, $8}'; }
[[ $(row cgroup) == "host host host" ]] || fail "demo: cgroup row '$(row cgroup)', want the VM's everywhere"
[[ $(row user) == "host host host" ]] || fail "demo: user row '$(row user)', want the VM's everywhere"
[[ $(row net) == "pod pod pod" ]] || fail "demo: net row '$(row net)', want the pod's"
[[ $(row ipc) == "pod pod pod" ]] || fail "demo: ipc row '$(row ipc)', want the pod's"
for t in mnt uts pid; do
  [[ $(row $t) == "pod own own" ]] || fail "demo: $t row '$(row $t)', want each container's own"
done
grep -q "the command was killed by the kernel's OOM killer" "$tmp/demo.txt" || fail "demo: no OOM kill reported"
grep -q "web's server over the pod's loopback: hello from the pod" "$tmp/demo.txt" || fail "demo: no fetch over the pod's loopback"

if ((failures > 0)); then
  for name in checks demo; do
    echo "--- console of $name (last 60 lines) ---"
    tail -n 60 "$tmp/$name.txt" 2>/dev/null
  done
  echo "$failures failure(s)"
  exit 1
fi
echo "all checks passed"
