# Shared by the qemu tests, scripts/demo and scripts/bench/boot.sh: find
# what a boot needs, build a guest image holding minipod with `minipod image
# build --with-minipod`, and boot it with `minipod vm`, reading back the
# guest command's status. Sourced, not run.
#
#   vm_probe MINIPOD         sets vm_minipod, vm_qemu, vm_kernel, vm_release,
#                            vm_busybox, vm_accel; on a missing piece returns
#                            1 with the reason in vm_missing
#   vm_build_image OUT [IMAGE BUILD ARGS...]
#                            `minipod image build --with-minipod` for
#                            vm_kernel: minipod-init as /init, minipod (with
#                            minipod-init and minipod-monitor in
#                            /usr/lib/minipod), the overlay module, passwd and
#                            group, /bin/busybox; the ARGS add to it (--add,
#                            --cmd, ...)
#   vm_boot IMAGE LOG TIMEOUT [VM ARGS...] [-- CMD [ARG]...]
#                            `minipod vm --timeout TIMEOUTs` booting IMAGE
#                            (running CMD, else the image's command); its
#                            output (the console, then minipod vm's own lines)
#                            goes to LOG; sets vm_status to the guest
#                            command's status (minipod vm's exit status,
#                            checked against the console's line) or to ""
#                            with the reason in vm_error

vm_probe() {
  vm_missing=
  vm_minipod=$1
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
  local out=$1
  shift
  # The guest command installs busybox's applets (busybox --install -s)
  # when it wants them.
  "$vm_minipod" image build -f --strip -o "$out" --with-minipod --kernel "$vm_kernel" \
    --add "$vm_busybox:/bin/busybox" "$@"
}

vm_boot() {
  local image=$1 log=$2 timeout=$3
  shift 3
  vm_status= vm_error=
  local args=()
  while (($#)) && [[ $1 != -- ]]; do
    args+=("$1")
    shift
  done
  # `--` and CMD follow IMAGE.
  local after=("$@")
  # The outer timeout only guards against minipod vm itself hanging.
  timeout -k 5 "$((timeout + 30))" "$vm_minipod" vm --timeout "${timeout}s" --kernel "$vm_kernel" "${args[@]}" "$image" "${after[@]}" \
    </dev/null >"$log" 2>&1
  local got=$?
  # The firmware's escape codes may precede the line; \r ends it.
  local line
  line=$(tr -d '\r' <"$log" | grep -o 'minipod: exit status [0-9]*$' | tail -n 1)
  if [[ -z $line ]]; then
    local why
    why=$(grep '^minipod vm: ' "$log" | head -n 1)
    vm_error="minipod vm exited $got without a 'minipod: exit status' line on the console${why:+: $why}"
    return 1
  fi
  local n=${line##* }
  if ((got != n)); then
    vm_error="the console says status $n but minipod vm exited $got"
    return 1
  fi
  vm_status=$n
}
