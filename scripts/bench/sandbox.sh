#!/usr/bin/env bash
# scripts/bench/sandbox.sh: `minipod run` against bubblewrap, crun (or runc
# where crun cannot run) and unshare + chroot, side by side in one run.
# Prints a markdown report on stdout (progress goes to stderr):
#   1. median start-to-exit wall time of /usr/bin/true in the same root file
#      system (hyperfine -N), and the ratio to bwrap;
#   2. launches per second in a loop of sequential launches;
#   3. what each tool isolates, so the times compare like with like.
# Needs root. Every command is bounded by `timeout`; everything goes into one
# mktemp -d directory, removed on exit; the mount table is compared before
# and after. Installs missing peers with apt-get. No network otherwise.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
readonly here repo_root

usage() {
  cat <<USAGE
usage: $0 [--minipod PATH] [--quick]

Times \`minipod run --rootfs DIR -- /usr/bin/true\` (default isolation) against
bwrap with the closest flags, crun or runc with an equivalent config.json, and
unshare + chroot, in one run, and prints a markdown table with the ratios to
bwrap and the target (no slower than bwrap).

  --minipod PATH  the minipod binary (default: build/cli/minipod under
                  $repo_root)
  --quick         fewer runs (10 timed, a loop of 20) instead of 40 and 100
  -h, --help      this text
USAGE
}

minipod="$repo_root/build/cli/minipod"
runs=40
loop=100
while (($#)); do
  case "$1" in
    --minipod) [[ $# -ge 2 ]] || { echo "sandbox.sh: --minipod needs a path" >&2; exit 2; }
               minipod="$2"; shift 2 ;;
    --minipod=*) minipod="${1#--minipod=}"; shift ;;
    --quick) runs=10; loop=20; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "sandbox.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "sandbox.sh: needs root (namespaces, runc)" >&2; exit 2; }
[[ -x $minipod ]] || { echo "sandbox.sh: $minipod is not an executable (see --minipod)" >&2; exit 2; }

missing=()
for p in hyperfine:hyperfine bwrap:bubblewrap crun:crun runc:runc unshare:util-linux python3:python3; do
  command -v "${p%%:*}" >/dev/null || missing+=("${p#*:}")
done
if ((${#missing[@]})); then
  echo "sandbox.sh: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

tmp=$(mktemp -d /tmp/minipod-sbench.XXXXXX)
mounts_before=$(awk '{print $5}' /proc/self/mountinfo | sort)
cleanup() {
  timeout 10 runc delete -f minipod-bench >/dev/null 2>&1 || true
  timeout 10 crun delete -f minipod-bench >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# One root file system for every tool: /usr/bin/true and its libraries,
# plus the empty directories the peers mount on.
root="$tmp/bundle/rootfs"
mkdir -p "$tmp/bundle"
timeout 60 "$minipod" rootfs build -o "$root" true >/dev/null
mkdir -p "$root/proc" "$root/dev" "$root/sys" "$root/tmp"
true_bin=/usr/bin/true

# The OCI bundle for crun and runc: runc's default spec, read-only root.
(cd "$tmp/bundle" && timeout 20 runc spec)
python3 - "$tmp/bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
c = json.load(open(path))
c["process"]["args"] = ["/usr/bin/true"]
c["process"]["terminal"] = False
c["root"] = {"path": "rootfs", "readonly": True}
json.dump(c, open(path, "w"), indent=1)
PY

docker_caps=(CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE
             SYS_CHROOT KILL AUDIT_WRITE)
bwrap_cmd=(bwrap --unshare-ipc --unshare-pid --unshare-net --unshare-uts --unshare-cgroup --die-with-parent
           --new-session --ro-bind "$root" / --proc /proc --dev /dev --tmpfs /tmp --cap-drop ALL)
for c in "${docker_caps[@]}"; do bwrap_cmd+=(--cap-add "CAP_$c"); done
bwrap_cmd+=("$true_bin")
minipod_cmd=("$minipod" run --rootfs "$root" -- "$true_bin")
unshare_cmd=(unshare --mount --pid --fork --ipc --uts --net chroot "$root" "$true_bin")

# crun refuses hybrid cgroup hosts; runc runs the same bundle.
oci_name=crun
oci_cmd=(crun run --bundle "$tmp/bundle" minipod-bench)
oci_note="crun $(crun --version 2>/dev/null | head -1 | awk '{print $3}')"
if ! err=$(timeout 20 "${oci_cmd[@]}" 2>&1); then
  oci_note="crun refused this host (\"$(head -1 <<<"$err")\"); runc $(runc --version | head -1 | awk '{print $3}') instead"
  oci_name=runc
  oci_cmd=(runc run --bundle "$tmp/bundle" minipod-bench)
fi

quote() { local out="" a; for a in "$@"; do out+="$(printf '%q' "$a") "; done; echo "${out% }"; }

names=(minipod bwrap "$oci_name" "unshare+chroot")
cmds=("$(quote "${minipod_cmd[@]}")" "$(quote "${bwrap_cmd[@]}")" "$(quote "${oci_cmd[@]}")" "$(quote "${unshare_cmd[@]}")")
status=()
for i in "${!names[@]}"; do
  if out=$(timeout 20 bash -c "${cmds[$i]}" 2>&1); then status+=(ok); else status+=("fails: $(head -1 <<<"$out")"); fi
done

echo "sandbox.sh: timing ($runs runs each)" >&2
hf_args=()
for i in "${!names[@]}"; do
  [[ ${status[$i]} == ok ]] && hf_args+=(-n "${names[$i]}" "${cmds[$i]}")
done
timeout 900 hyperfine -N --warmup 3 --runs "$runs" --export-json "$tmp/hf.json" "${hf_args[@]}" >&2

medians=$(python3 - "$tmp/hf.json" <<'PY'
import json, sys, statistics
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["command"], statistics.median(r["times"]) * 1000)
PY
)
median_of() { awk -v n="$1" '$1 == n {print $2}' <<<"$medians"; }

per_second() {
  local cmd="$1" start end k
  start=$(date +%s%N)
  for ((k = 0; k < loop; k++)); do timeout 20 bash -c "exec $cmd" >/dev/null 2>&1 || return 1; done
  end=$(date +%s%N)
  awk -v n="$loop" -v ns="$((end - start))" 'BEGIN { printf "%.0f", n / (ns / 1e9) }'
}

echo "sandbox.sh: loops of $loop launches" >&2
bwrap_ms=$(median_of bwrap)
echo "## minipod run vs bwrap, $oci_name, unshare+chroot"
echo
echo "- machine: $(nproc) vCPU, kernel $(uname -r), Debian $(cat /etc/debian_version), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- command: \`/usr/bin/true\` in the same root file system (built by \`minipod rootfs build\`); hyperfine -N, 3 warm-up runs, $runs runs, median; the loop runs $loop launches one after the other (each through \`bash -c exec\`, the same for all)"
echo "- OCI runtime: $oci_note"
echo
echo "| tool | start to exit, median (ms) | ratio to bwrap | launches/s in a loop |"
echo "|---|--:|--:|--:|"
for i in "${!names[@]}"; do
  n=${names[$i]}
  if [[ ${status[$i]} != ok ]]; then
    echo "| $n | ${status[$i]} | | |"
    continue
  fi
  ms=$(median_of "$n")
  ratio=$(awk -v a="$ms" -v b="$bwrap_ms" 'BEGIN { if (b > 0) printf "%.2fx", a / b }')
  lps=$(per_second "${cmds[$i]}" || echo "failed")
  printf '| %s | %.2f | %s | %s |\n' "$n" "$ms" "$ratio" "$lps"
done
echo
echo "What each one isolates here:"
echo
echo "- minipod: mnt, pid, ipc, uts, net (loopback up) and cgroup namespaces; pivot_root into a writable overlay (tmpfs upper) over the read-only root; fresh /proc with Docker's masks, read-only /sys, minimal /dev; Docker's default capabilities; no_new_privs; the default seccomp filter; new session; fds closed; minipod-init as PID 1."
echo "- bwrap: ipc, pid, net, uts, cgroup and mount namespaces; a read-only bind of the root, no overlay; /proc and a minimal /dev; Docker's capability set; new session; no seccomp filter, no init."
echo "- $oci_name: its default spec: mnt, pid, ipc, uts, net namespaces, masked and read-only /proc paths, a default capability set, no_new_privs, a cgroup per container; no seccomp filter in that spec."
echo "- unshare+chroot: mnt, pid, ipc, uts, net namespaces and chroot; nothing else."
echo
m=$(median_of minipod)
if [[ -n $m && -n $bwrap_ms ]]; then
  verdict=$(awk -v a="$m" -v b="$bwrap_ms" 'BEGIN { print (a <= b) ? "PASS" : "FAIL" }')
  printf -- '- target, no slower than bwrap: %.2f vs %.2f ms: %s\n' "$m" "$bwrap_ms" "$verdict"
else
  echo "- target, no slower than bwrap: not measured (see the table)"
fi
mounts_after=$(awk '{print $5}' /proc/self/mountinfo | sort)
if [[ $mounts_before == "$mounts_after" ]]; then
  echo "- mount table before and after: identical"
else
  echo "- mount table before and after: DIFFERENT"
  diff <(echo "$mounts_before") <(echo "$mounts_after") | head -20 | sed 's/^/    /'
fi
