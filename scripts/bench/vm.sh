#!/usr/bin/env bash
# scripts/bench/vm.sh: `minipod vm IMAGE -- true` from start to exit, booting
# the bzImage (--no-pvh) against the default (the uncompressed vmlinux
# through QEMU's PVH entry when the kernel has one), rounds interleaved in
# one run. Prints a markdown table (medians, min, max) on stdout; progress
# on stderr. Every run is bounded by minipod vm's own --timeout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
minipod=$repo_root/build/cli/minipod
rounds=5

usage() {
  cat <<USAGE
usage: $0 [--minipod PATH] [--rounds N]

  --minipod PATH   the minipod binary (default: $minipod)
  --rounds N       timed rounds per variant, interleaved (default $rounds),
                   after one untimed warm-up run each
USAGE
}
while (($#)); do
  case $1 in
    --minipod) minipod=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "--rounds: a positive number" >&2; exit 2; }
busybox=$(command -v busybox) || { echo "busybox not installed (apt install busybox-static)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$minipod" rootfs build -o "$tmp/boot.cpio" --init "$busybox" >/dev/null

# run VARIANT: one boot, its wall time in ms on stdout.
run() {
  local args=()
  [[ $1 == bzImage ]] && args=(--no-pvh)
  local start end
  start=$(date +%s%N)
  "$minipod" vm --timeout 300s "${args[@]}" "$tmp/boot.cpio" -- true </dev/null >/dev/null 2>"$tmp/err" ||
    { cat "$tmp/err" >&2; echo "minipod vm failed ($1)" >&2; exit 1; }
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}

declare -A times
for variant in bzImage default; do run "$variant" >/dev/null; done
for ((i = 1; i <= rounds; i++)); do
  for variant in bzImage default; do
    t=$(run "$variant")
    times[$variant]+="$t "
    echo "round $i $variant: $t ms" >&2
  done
done

stats() {  # median min max of the numbers in $1
  tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n |
    awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; print m, a[1], a[NR]}'
}
accel=TCG
[[ -r /dev/kvm && -w /dev/kvm ]] && accel=KVM
echo "| \`minipod vm IMAGE -- true\` ($accel, $rounds rounds) | median ms | min | max |"
echo "|---|---|---|---|"
for variant in bzImage default; do
  read -r med min max <<<"$(stats "${times[$variant]}")"
  label="bzImage (--no-pvh)"
  [[ $variant == default ]] && label="default (PVH vmlinux when available)"
  echo "| $label | $med | $min | $max |"
done
