#!/usr/bin/env bash
# scripts/bench/images.sh: initramfs images booted with the host's kernel
# under QEMU (TCG unless /dev/kvm is usable): their size (gzip -9, zstd -19)
# and the time from QEMU's start to its exit with the guest's status, for
#   1. ours, one command: minipod-init as /init and busybox, `busybox true`;
#   2. ours, the pod demo: minipod too, running scripts/demo-guest.sh (a pod
#      of two containers, a memory-limited one);
#   3. busybox-static alone with a shell script as /init that does what 1
#      does (mounts /proc, /sys, /dev, runs the command, prints its status,
#      powers off);
# and the size of Debian's own initrd (/boot/initrd.img-* for the kernel
# booted, or its known size). Medians over the rounds, rounds interleaved;
# ratios against 1. Prints a markdown report on stdout (progress on stderr).
# Needs root (the busybox image's /dev/console is a device node).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
readonly here repo_root
rounds=3
build=$repo_root/build
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h | --help)
      echo "usage: $0 [--rounds N] [--build DIR]   (DIR: the meson build directory, default build/)"
      exit 0 ;;
    *) echo "$0: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "$0: --rounds '$rounds': not a positive number" >&2; exit 2; }
(($(id -u) == 0)) || { echo "$0: needs root (mknod of the busybox image's /dev/console)" >&2; exit 1; }

source "$repo_root/tests/qemu/lib.sh"
vm_probe || { echo "$0: $vm_missing" >&2; exit 1; }
minipod=$build/cli/minipod
for f in "$minipod" "$build/init/minipod-init" "$build/monitor/minipod-monitor"; do
  [[ -x $f ]] || { echo "$0: $f missing: build first (ninja -C $build)" >&2; exit 1; }
done
command -v zstd >/dev/null || { echo "$0: zstd not installed (apt install zstd)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "building the images" >&2
"$minipod" rootfs build -o "$tmp/one.cpio" --init "$vm_busybox" >/dev/null
vm_build_image "$tmp/demo.cpio" "$minipod" "$build/init/minipod-init" "$build/monitor/minipod-monitor" \
  --add "$repo_root/scripts/demo-guest.sh:/usr/share/minipod/demo-guest.sh" >/dev/null
# The busybox image: a tree packed by GNU cpio, as a hand-made initramfs is.
mkdir -p "$tmp/bb/bin" "$tmp/bb/dev" "$tmp/bb/proc" "$tmp/bb/sys"
cp "$vm_busybox" "$tmp/bb/bin/busybox"
mknod -m 600 "$tmp/bb/dev/console" c 5 1
cat >"$tmp/bb/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox true
echo "init: exit status $?"
/bin/busybox poweroff -f
EOF
chmod 755 "$tmp/bb/init"
(cd "$tmp/bb" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 >"$tmp/bb.cpio")
for image in one demo bb; do
  gzip -9 -n -c "$tmp/$image.cpio" >"$tmp/$image.cpio.gz"
  zstd -19 -q -c "$tmp/$image.cpio" >"$tmp/$image.cpio.zst"
done

# boot IMAGE CMD: milliseconds from QEMU's start to its exit with the status
# (our images: the guest status 0 through isa-debug-exit; busybox's: QEMU's
# exit at the power-off, after the script's status line).
boot_ms() {
  local image=$1 cmd=$2 start end
  start=$(date +%s%N)
  if [[ $image == bb ]]; then
    vm_run_qemu "$tmp/bb.cpio.gz" "$tmp/bb.log" 240 "" || true
    grep -q "init: exit status 0" "$tmp/bb.log" || { echo "$0: the busybox image did not run its command" >&2; return 1; }
  else
    vm_boot "$tmp/$image.cpio.gz" "$tmp/$image.log" 240 "$cmd" || { echo "$0: $image: $vm_error" >&2; return 1; }
    ((vm_status == 0)) || { echo "$0: $image: the guest's status is $vm_status" >&2; return 1; }
  fi
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

declare -A times
for ((r = 1; r <= rounds; r++)); do
  echo "round $r of $rounds" >&2
  times[one]+=" $(boot_ms one "busybox true")"
  times[demo]+=" $(boot_ms demo "busybox sh /usr/share/minipod/demo-guest.sh")"
  times[bb]+=" $(boot_ms bb "")"
done

debian=/boot/initrd.img-$vm_release
if [[ -r $debian ]]; then
  debian_size=$(stat -c %s "$debian") debian_what=$debian
else
  debian_size=31175998 debian_what="Debian 12's initrd for 6.1.0-57-amd64 (measured; not on this machine)"
fi
size() { stat -c %s "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
one_ms=$(median ${times[one]})
echo "## Booting initramfs images ($(uname -m), $(nproc) CPUs, ${vm_accel[*]}, $vm_kernel, $rounds rounds)"
echo
echo "| image | cpio | gzip -9 | zstd -19 | QEMU start to status (median ms) | time / ours, one command |"
echo "|---|---|---|---|---|---|"
for image in one demo bb; do
  case $image in
    one) what="ours: minipod-init + busybox, one command" ;;
    demo) what="ours: + minipod, the pod demo" ;;
    bb) what="busybox-static, a shell script as /init, one command" ;;
  esac
  ms=$(median ${times[$image]})
  echo "| $what | $(size "$tmp/$image.cpio") | $(size "$tmp/$image.cpio.gz") | $(size "$tmp/$image.cpio.zst") | $ms | $(ratio "$ms" "$one_ms") |"
done
echo "| Debian's initrd ($debian_what) | | $debian_size (as shipped) | | | |"
echo
echo "Debian's initrd against ours (gzip): $(ratio "$debian_size" "$(size "$tmp/one.cpio.gz")")x the one-command image," \
  "$(ratio "$debian_size" "$(size "$tmp/demo.cpio.gz")")x the pod demo's."
echo "All times: ${times[one]# } (one command); ${times[demo]# } (pod demo); ${times[bb]# } (busybox script)."
