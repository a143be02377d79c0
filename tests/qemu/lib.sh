# Shared by the qemu tests, scripts/demo and scripts/bench/images.sh: find
# what a boot needs, build a guest image holding minipod, and boot it with
# the host's kernel, reading back the guest command's status. Sourced, not
# run. The one place that knows how an image is made and booted.
#
#   vm_probe                 sets vm_qemu, vm_kernel, vm_release, vm_busybox,
#                            vm_accel; on a missing piece returns 1 with the
#                            reason in vm_missing
#   vm_build_image OUT MINIPOD MINIPOD_INIT MINIPOD_MONITOR [--add SRC:DST]...
#                            a gzip initramfs: minipod-init as /init, minipod,
#                            minipod-init and minipod-monitor in /usr/bin,
#                            /bin/busybox, the overlay module
#   vm_run_qemu IMAGE LOG TIMEOUT APPEND
#                            QEMU as vm_boot runs it, APPEND added to the
#                            kernel command line; returns QEMU's status
#   vm_boot IMAGE LOG TIMEOUT CMD
#                            boots IMAGE running CMD (one word list, split by
#                            the init as a shell would split it, without
#                            expansions); the console goes to LOG; sets
#                            vm_status to the guest command's status (from
#                            the console line, checked against QEMU's own
#                            exit status) or to "" with the reason in
#                            vm_error

vm_probe() {
  vm_missing=
  vm_qemu=$(command -v qemu-system-x86_64) ||
    { vm_missing="qemu-system-x86_64 not installed (apt install qemu-system-x86)"; return 1; }
  [[ $(uname -m) == x86_64 ]] || { vm_missing="the guest is x86_64; this host is $(uname -m)"; return 1; }
  vm_kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
  [[ -n $vm_kernel ]] || { vm_missing="no /boot/vmlinuz-* (apt install linux-image-amd64)"; return 1; }
  [[ -r $vm_kernel ]] || { vm_missing="$vm_kernel is not readable by uid $(id -u)"; return 1; }
  vm_release=${vm_kernel##*/vmlinuz-}
  [[ -f /lib/modules/$vm_release/modules.dep ]] ||
    { vm_missing="no /lib/modules/$vm_release/modules.dep (overlay is a module of $vm_kernel)"; return 1; }
  vm_busybox=$(command -v busybox) || { vm_missing="busybox not installed (apt install busybox-static)"; return 1; }
  vm_accel=(-accel tcg)
  if [[ -r /dev/kvm && -w /dev/kvm ]]; then vm_accel=(-accel kvm -cpu host); fi
  return 0
}

vm_build_image() {
  local out=$1 minipod=$2 init=$3 monitor=$4
  shift 4
  # The three programs sit together in /usr/bin, where minipod looks for
  # minipod-init and minipod-monitor (next to itself); minipod is linked
  # statically, as the other two are. The guest command
  # installs busybox's applets (busybox --install -s) when it wants them.
  "$minipod" rootfs build -f --strip -o "$out" --init --kernel-release "$vm_release" --module overlay \
    --add "$minipod:/usr/bin/minipod" --add "$init:/usr/bin/minipod-init" \
    --add "$monitor:/usr/bin/minipod-monitor" \
    --add "$vm_busybox:/bin/busybox" "$@"
}

# vm_run_qemu IMAGE LOG TIMEOUT APPEND: QEMU booting IMAGE, bounded; its status.
vm_run_qemu() {
  timeout -k 5 "$3" "$vm_qemu" -nodefaults -nographic -no-reboot -m 512 -smp 2 "${vm_accel[@]}" \
    -kernel "$vm_kernel" -initrd "$1" -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -append "console=ttyS0 panic=-1 quiet $4" </dev/null >"$2" 2>&1
}

vm_boot() {
  local image=$1 log=$2 timeout=$3 cmd=$4
  vm_status= vm_error=
  vm_run_qemu "$image" "$log" "$timeout" "minipod.cmd=\"$cmd\""
  local got=$?
  if ((got == 124 || got == 137)); then
    vm_error="no power-off within ${timeout}s"
    return 1
  fi
  # The firmware's escape codes may precede the line; \r ends it.
  local line
  line=$(tr -d '\r' <"$log" | grep -o 'minipod: exit status [0-9]*$' | tail -n 1)
  if [[ -z $line ]]; then
    vm_error="QEMU exited $got without a 'minipod: exit status' line on the console"
    return 1
  fi
  local n=${line##* }
  # isa-debug-exit: the guest's write of N makes QEMU exit 2N+1 (mod 256).
  if ((got != (2 * n + 1) % 256)); then
    vm_error="the console says status $n but QEMU exited $got, not $(((2 * n + 1) % 256))"
    return 1
  fi
  vm_status=$n
}
