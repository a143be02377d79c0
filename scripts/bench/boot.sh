#!/usr/bin/env bash
# scripts/bench/boot.sh: initramfs images booted with the host's kernel
# under QEMU (TCG unless /dev/kvm is usable): their size (cpio, gzip -9,
# zstd -19) and the wall time from QEMU's start to the guest's status, for
#   one    ours, one command: `minipod image build --strip --cmd 'uname -r'
#          uname` (minipod-init as /init, the host's uname with the glibc it
#          loads), booted by `minipod vm` from the PVH vmlinux (its default)
#          and from the bzImage (--no-pvh);
#   demo   ours, the pod demo: `--with-minipod` and scripts/demo-guest.sh (a
#          pod of two containers, a memory-limited one), `minipod vm`;
#   bb     busybox-static alone with a shell script as /init doing what
#          `one` does (mount /proc, /sys, /dev; run the command; print its
#          status; poweroff -f), packed by GNU cpio and booted the usual way:
#          QEMU by hand, the bzImage, on the machine minipod vm makes (memory,
#          CPUs, CPU model, console);
#   bb-vm  the same busybox image on minipod vm's terms: uncompressed (as
#          minipod vm hands QEMU a compressed image) and with its kernel
#          command line (cryptomgr.notests): how much of the difference
#          is minipod vm's way of booting rather than the init;
# and the size of Debian's own initrd. Rounds alternate the boots; medians;
# ratios against the targets (the one-command image smaller than busybox's
# with the same compression; boot to status at most busybox's from the
# bzImage, at most half of it from the PVH vmlinux). Markdown on stdout,
# progress on stderr. Every boot is bounded; everything lives in one mktemp
# -d directory (the PVH cache too), removed on exit. Needs root (the busybox
# image's /dev/console is a device node).
# Usage: scripts/bench/boot.sh [--rounds N] [--build DIR]
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
minipod=$build/cli/minipod
[[ -x $minipod ]] || { echo "$0: $minipod missing: build first (ninja -C $build)" >&2; exit 1; }
vm_probe "$minipod" || { echo "$0: $vm_missing" >&2; exit 1; }
command -v zstd >/dev/null || { echo "$0: zstd not installed (apt install zstd)" >&2; exit 1; }
command -v cpio >/dev/null || { echo "$0: cpio not installed (apt install cpio)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MINIPOD_CACHE=$tmp/cache
limit=240

echo "building the images" >&2
"$minipod" image build -o "$tmp/one.cpio" --strip --kernel "$vm_kernel" --cmd "uname -r" uname >/dev/null
vm_build_image "$tmp/demo.cpio" --add "$repo_root/scripts/demo-guest.sh:/usr/share/minipod/demo-guest.sh" \
  --cmd "busybox sh /usr/share/minipod/demo-guest.sh" >/dev/null
mkdir -p "$tmp/bb/bin" "$tmp/bb/dev" "$tmp/bb/proc" "$tmp/bb/sys"
cp "$vm_busybox" "$tmp/bb/bin/busybox"
mknod -m 600 "$tmp/bb/dev/console" c 5 1
cat >"$tmp/bb/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox uname -r
echo "init: exit status $?"
/bin/busybox poweroff -f
INIT
chmod 755 "$tmp/bb/init"
(cd "$tmp/bb" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 >"$tmp/bb.cpio")
for image in one demo bb; do
  gzip -9 -n -c "$tmp/$image.cpio" >"$tmp/$image.cpio.gz"
  zstd -19 -q -c "$tmp/$image.cpio" >"$tmp/$image.cpio.zst"
done
t0=$(date +%s%N)
"$minipod" image kernel --pvh "$vm_kernel" >/dev/null
extract_ms=$((($(date +%s%N) - t0) / 1000000))
bb_accel=("${vm_accel[@]}")
[[ ${vm_accel[1]} == tcg ]] && bb_accel+=(-cpu max)

# boot_ms WHAT: milliseconds from QEMU's start to the status: minipod vm's
# exit with the guest's status 0, or, for busybox, QEMU's exit at the
# power-off after the script's status line.
boot_ms() {
  local start end
  start=$(date +%s%N)
  case $1 in
    # The images' own commands (/etc/minipod/argv).
    one-pvh) vm_boot "$tmp/one.cpio.gz" "$tmp/log" "$limit" ;;
    one-bz) vm_boot "$tmp/one.cpio.gz" "$tmp/log" "$limit" --no-pvh ;;
    demo) vm_boot "$tmp/demo.cpio.gz" "$tmp/log" "$limit" ;;
    bb | bb-vm)
      # The machine minipod vm makes: same memory, CPUs, CPU model and
      # console; only the image and its /init differ.
      local initrd=$tmp/bb.cpio.gz append="console=ttyS0 panic=-1 quiet no_timer_check"
      if [[ $1 == bb-vm ]]; then initrd=$tmp/bb.cpio append+=" cryptomgr.notests"; fi
      timeout -k 5 "$limit" "$vm_qemu" -nodefaults -display none -no-reboot -m 512M -smp 1 "${bb_accel[@]}" \
        -kernel "$vm_kernel" -initrd "$initrd" -serial stdio -append "$append" \
        </dev/null >"$tmp/log" 2>&1 || true
      grep -q "init: exit status 0" "$tmp/log" || { echo "$0: the busybox image did not run its command" >&2; return 1; }
      vm_status=0 ;;
  esac
  # The demo's status is reported, not required: its time to the status
  # is what is measured.
  if [[ $1 == demo && -n $vm_status ]]; then
    echo "$vm_status" >>"$tmp/demo_status"
  elif [[ $vm_status != 0 ]]; then
    [[ -n $vm_error ]] || vm_error="the guest's status is $vm_status"
    echo "$0: $1: $vm_error" >&2
    return 1
  fi
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

declare -A times
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= rounds; r++)); do
  for what in one-pvh one-bz bb demo bb-vm; do
    times[$what]+=" $(boot_ms "$what")"
  done
  echo "round $r of $rounds:${times[one-pvh]##* } ms PVH,${times[one-bz]##* } ms bzImage,${times[bb]##* } ms busybox,${times[demo]##* } ms demo,${times[bb-vm]##* } ms busybox on minipod vm's terms" >&2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

debian=/boot/initrd.img-$vm_release
if [[ -r $debian ]]; then
  debian_size=$(stat -c %s "$debian") debian_what=$debian
else
  debian_size=31175998 debian_what="Debian 12's initrd for 6.1.0-57-amd64 (measured elsewhere; not on this machine)"
fi
size() { stat -c %s "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
declare -A ms
for what in one-pvh one-bz bb demo bb-vm; do ms[$what]=$(median ${times[$what]}); done

echo "## Booting initramfs images ($(uname -m), $(nproc) CPUs, ${vm_accel[*]}, $vm_kernel, $rounds rounds)"
echo
echo "Load average before: $load_before; after: $load_after. PVH vmlinux extracted once in $extract_ms ms (cached)."
echo
echo "| image | cpio (B) | gzip -9 (B) | zstd -19 (B) |"
echo "|---|--:|--:|--:|"
echo "| ours, one command: minipod-init + uname + glibc | $(size "$tmp/one.cpio") | $(size "$tmp/one.cpio.gz") | $(size "$tmp/one.cpio.zst") |"
echo "| ours, the pod demo: + minipod, minipod-monitor, overlay.ko, the script | $(size "$tmp/demo.cpio") | $(size "$tmp/demo.cpio.gz") | $(size "$tmp/demo.cpio.zst") |"
echo "| busybox-static + a shell-script /init | $(size "$tmp/bb.cpio") | $(size "$tmp/bb.cpio.gz") | $(size "$tmp/bb.cpio.zst") |"
echo "| Debian's initrd ($debian_what), as shipped | | $debian_size | |"
echo
echo "| boot, QEMU start to status | median ms | all (ms) | / busybox script |"
echo "|---|--:|---|--:|"
echo "| ours, one command, PVH vmlinux (minipod vm) | ${ms[one-pvh]} | ${times[one-pvh]# } | $(ratio "${ms[one-pvh]}" "${ms[bb]}") |"
echo "| ours, one command, bzImage (minipod vm --no-pvh) | ${ms[one-bz]} | ${times[one-bz]# } | $(ratio "${ms[one-bz]}" "${ms[bb]}") |"
echo "| busybox shell-script /init, bzImage (QEMU by hand) | ${ms[bb]} | ${times[bb]# } | 1.00 |"
echo "| ours, the pod demo, PVH vmlinux (minipod vm) | ${ms[demo]} | ${times[demo]# } | $(ratio "${ms[demo]}" "${ms[bb]}") |"
echo "| busybox shell-script /init, bzImage, on minipod vm's terms (uncompressed, cryptomgr.notests) | ${ms[bb-vm]} | ${times[bb-vm]# } | $(ratio "${ms[bb-vm]}" "${ms[bb]}") |"
echo
echo "The pod demo's guest statuses: $(paste -sd' ' "$tmp/demo_status") (0: every step as shown)."
echo
verdict() { awk -v a="$1" -v b="$2" 'BEGIN {print (a <= b) ? "met" : "NOT met"}'; }
echo "Targets:"
echo "- one-command image / busybox's: gzip $(ratio "$(size "$tmp/one.cpio.gz")" "$(size "$tmp/bb.cpio.gz")")," \
  "zstd $(ratio "$(size "$tmp/one.cpio.zst")" "$(size "$tmp/bb.cpio.zst")") (target < 1:" \
  "$(verdict "$(size "$tmp/one.cpio.gz")" "$(($(size "$tmp/bb.cpio.gz") - 1))") gzip," \
  "$(verdict "$(size "$tmp/one.cpio.zst")" "$(($(size "$tmp/bb.cpio.zst") - 1))") zstd)"
# Round by round, the two bzImage boots ran back to back: how often ours
# was the faster one.
read -r -a bz_runs <<<"${times[one-bz]}"
read -r -a bb_runs <<<"${times[bb]}"
wins=0
for ((i = 0; i < rounds; i++)); do
  if ((bz_runs[i] < bb_runs[i])); then wins=$((wins + 1)); fi
done
echo "- bzImage boot / busybox's: $(ratio "${ms[one-bz]}" "${ms[bb]}") (target <= 1: $(verdict "${ms[one-bz]}" "${ms[bb]}"));" \
  "ours the faster of the pair in $wins of $rounds rounds"
echo "- PVH boot / busybox's: $(ratio "${ms[one-pvh]}" "${ms[bb]}") (target <= 0.5:" \
  "$(verdict "$((2 * ms[one-pvh]))" "${ms[bb]}"))"
echo "- Debian's initrd / ours (gzip): $(ratio "$debian_size" "$(size "$tmp/one.cpio.gz")")x the one-command image," \
  "$(ratio "$debian_size" "$(size "$tmp/demo.cpio.gz")")x the pod demo's"
