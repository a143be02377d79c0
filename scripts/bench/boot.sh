#!/usr/bin/env bash
# scripts/bench/boot.sh: the same `minipod image build` initramfs booted by
# QEMU from the bzImage and from the PVH vmlinux that `minipod image kernel
# --pvh` extracts (cached), alternating, ROUNDS times each; prints a markdown
# table of the wall time from QEMU's start to its exit (the guest runs
# `busybox true` and powers off with its status). TCG unless /dev/kvm is
# usable. Every boot is bounded by `timeout`; the image and the kernel cache
# live in one mktemp -d directory, removed on exit.
# Usage: scripts/bench/boot.sh [--minipod PATH] [--kernel PATH] [ROUNDS]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
minipod="$here/../../build/cli/minipod"
kernel=
rounds=5
while (($#)); do
  case $1 in
    --minipod) minipod=$2; shift 2 ;;
    --kernel) kernel=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) rounds=$1; shift ;;
  esac
done
[[ -x $minipod ]] || { echo "no minipod at $minipod (build first, or --minipod PATH)" >&2; exit 1; }
[[ -n $kernel ]] || kernel=$("$minipod" image kernel)
busybox=$(command -v busybox) || { echo "needs busybox (apt install busybox-static)" >&2; exit 1; }
qemu=$(command -v qemu-system-x86_64) || { echo "needs qemu-system-x86_64" >&2; exit 1; }
accel=(-accel tcg)
if [[ -r /dev/kvm && -w /dev/kvm ]]; then accel=(-accel kvm -cpu host); fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MINIPOD_CACHE=$tmp/cache
image=$tmp/boot.cpio.gz
"$minipod" image build -o "$image" "$busybox" >/dev/null
start=$(date +%s%N)
vmlinux=$("$minipod" image kernel --pvh "$kernel")
extract_ms=$((($(date +%s%N) - start) / 1000000))

# boot KERNEL: prints the milliseconds from QEMU's start to its exit.
# no_timer_check: a loaded host can make TCG miss the IO-APIC timer check.
boot() {
  local t0 status
  t0=$(date +%s%N)
  status=0
  timeout -k 5 120 "$qemu" -nodefaults -nographic -no-reboot -m 256 "${accel[@]}" -kernel "$1" -initrd "$image" \
    -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 -append "console=ttyS0 panic=-1 quiet no_timer_check minipod.cmd=\"busybox true\"" \
    </dev/null >"$tmp/console.log" 2>&1 || status=$?
  ((status == 1)) || { echo "boot of $1 ended with QEMU status $status" >&2; tail -n 20 "$tmp/console.log" >&2; exit 1; }
  echo $((($(date +%s%N) - t0) / 1000000))
}

bz=() pvh=()
for ((i = 0; i < rounds; i++)); do
  bz+=("$(boot "$kernel")")
  pvh+=("$(boot "$vmlinux")")
  echo "round $((i + 1)): bzImage ${bz[-1]} ms, PVH ${pvh[-1]} ms" >&2
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
mb=$(median "${bz[@]}")
mp=$(median "${pvh[@]}")
echo "| kernel | median ms (of $rounds) | all |"
echo "|---|---|---|"
echo "| bzImage $kernel | $mb | ${bz[*]} |"
echo "| PVH vmlinux (extracted once in $extract_ms ms) | $mp | ${pvh[*]} |"
echo
echo "PVH / bzImage: $(awk -v a="$mp" -v b="$mb" 'BEGIN { printf "%.2f", a / b }'); load $(cut -d' ' -f1-3 /proc/loadavg); ${accel[*]}"
