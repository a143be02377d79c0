#!/usr/bin/env bash
# scripts/bench/containers.sh: a pod of detached containers, minipod against
# podman (runc, conmon), rounds interleaved in one run. Prints a markdown
# report on stdout (progress goes to stderr):
#   1. create: `pod create` + N x `run -d --pod` of `busybox sleep 3600` in the
#      same busybox root file system, until `ps` shows all N running;
#   2. rm: `pod rm -f` until the command returned and every monitor (minipod's
#      monitors, podman's conmons) and container process has exited;
#   3. memory per container: VmRSS, Pss and Private_* of each minipod monitor
#      (which must be minipod-monitor: the round fails otherwise), of its
#      cgroup janitor and of the two together, against each conmon,
#      averaged, with the pod holder's monitor apart.
# Medians over the rounds and the ratio podman/minipod. Needs root.
#
# Nothing of the user's is seen or changed: minipod keeps its state in
# MINIPOD_STATE_DIR, podman runs with --root/--runroot/--tmpdir and its own
# CONTAINERS_CONF, all in one mktemp -d directory, removed on exit after
# every container, pod, image and mount made there is removed. The podman pod
# gets `--network none` (a loopback-only network namespace, as minipod's pod
# holder has), so no bridge, IP lease or iptables rule is made. Every
# command is bounded (60 s, one watchdog process for the whole run); the
# mount table is compared before and after.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
readonly here repo_root

usage() {
  cat <<USAGE
usage: $0 [--minipod PATH] [--rounds N] [--containers N] [--quick]

Times a pod of N detached \`busybox sleep 3600\` containers with minipod and
with podman (create to all running, rm to all gone) and compares the memory
of minipod's per-container monitor with podman's conmon.

  --minipod PATH    the minipod binary (default: build/cli/minipod under
                    $repo_root); minipod-init is looked up as minipod does
  --rounds N        timed rounds per tool, interleaved (default 5), after one
                    untimed warm-up round each
  --containers N    containers per pod (default 10)
  --quick           3 rounds
  -h, --help        this text
USAGE
}

minipod="$repo_root/build/cli/minipod"
rounds=5
count=10
while (($#)); do
  case "$1" in
    --minipod) [[ $# -ge 2 ]] || { echo "containers.sh: --minipod needs a path" >&2; exit 2; }
               minipod="$2"; shift 2 ;;
    --minipod=*) minipod="${1#--minipod=}"; shift ;;
    --rounds) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]?$ ]] || { echo "containers.sh: --rounds needs a number 1-99" >&2; exit 2; }
              rounds="$2"; shift 2 ;;
    --containers) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]?$ ]] || { echo "containers.sh: --containers needs a number 1-99" >&2; exit 2; }
                  count="$2"; shift 2 ;;
    --quick) rounds=3; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "containers.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "containers.sh: needs root (namespaces, cgroups, other processes' /proc)" >&2; exit 2; }
[[ -x $minipod ]] || { echo "containers.sh: $minipod is not an executable (see --minipod)" >&2; exit 2; }
for tool in awk sort findmnt; do
  command -v "$tool" >/dev/null || { echo "containers.sh: $tool not found" >&2; exit 2; }
done
[[ -x /bin/busybox ]] || { echo "containers.sh: /bin/busybox not found (apt-get install busybox-static)" >&2; exit 2; }

# Debian's python3, not a shim earlier in PATH (pyenv's costs a second a call).
py=/usr/bin/python3
[[ -x $py ]] || { echo "containers.sh: $py not found" >&2; exit 2; }

log() { echo "containers.sh: $*" >&2; }
# The harness forks nothing inside a timed span but the tools themselves:
# on a machine where a fork costs 10-25 ms (a `$(...)` subshell about 9 ms,
# awk or /bin/sleep 25 ms) it would otherwise weigh as much as what it
# measures. now_ms VAR sets VAR; nap sleeps 10 ms on a FIFO of our own.
now_ms() { local t=${EPOCHREALTIME/./}; printf -v "$1" '%d' $((t / 1000)); }
nap() { read -r -t 0.01 -u "$nap_fd" _ || true; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

tmp=$(mktemp -d /tmp/minipod-cbench.XXXXXX)
mounts_before=$(awk '{print $5}' /proc/self/mountinfo | sort)
export MINIPOD_STATE_DIR="$tmp/minipod-state"
export CONTAINERS_CONF="$tmp/containers.conf"
mkdir -m 0700 "$MINIPOD_STATE_DIR"
mkfifo -m 0600 "$tmp/nap"
exec {nap_fd}<>"$tmp/nap"
podman_cmd=(podman --root "$tmp/podman-root" --runroot "$tmp/podman-run" --tmpdir "$tmp/podman-tmp"
            --cgroup-manager cgroupfs --runtime runc --events-backend file)
podman_ok=0

# Every tool command is bounded by one watchdog for the whole run rather
# than a timeout(1) per call: timeout's own fork and exec cost about 20 ms
# here, as much as a `minipod run -d`. bounded runs CMD as our child and
# tells the watchdog "PID DEADLINE_MS" (and "0 0" when it is done); the
# watchdog SIGKILLs the PID it was last told of once past its deadline.
readonly bound_ms=60000
mkfifo -m 0600 "$tmp/watch"
exec {watch_fd}<>"$tmp/watch"
watchdog() {
  local pid=0 deadline=0 p d now
  while [[ -d /proc/$main_pid ]]; do
    if read -r -t 0.2 -u "$watch_fd" p d; then
      pid=$p deadline=$d
      continue
    fi
    ((pid > 0)) || continue
    now_ms now
    ((now < deadline)) && continue
    log "watchdog: pid $pid ran past ${bound_ms} ms, killing it"
    kill -KILL "$pid" 2>/dev/null || true
    pid=0
  done
}
main_pid=$$
watchdog >/dev/null &
watchdog_pid=$!
bounded() {
  local pid now rc=0
  "$@" &
  pid=$!
  now_ms now
  printf '%d %d\n' "$pid" $((now + bound_ms)) >&"$watch_fd"
  wait "$pid" || rc=$?
  printf '0 0\n' >&"$watch_fd"
  return "$rc"
}
mp() { bounded "$minipod" "$@"; }
pm() { bounded "${podman_cmd[@]}" "$@"; }

cleanup() {
  set +e
  # Everything in these stores is ours: the state and storage are private.
  if [[ -d $MINIPOD_STATE_DIR ]]; then
    for p in $(mp pod ps --json 2>/dev/null | "$py" -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)))' 2>/dev/null); do
      mp pod rm -f "$p" >/dev/null 2>&1
    done
    for c in $(mp ps -a --json 2>/dev/null | "$py" -c 'import json,sys; print(" ".join(c["name"] for c in json.load(sys.stdin)))' 2>/dev/null); do
      mp rm -f "$c" >/dev/null 2>&1
    done
  fi
  if [[ -d $tmp/podman-root ]]; then
    pm pod rm -a -f -t 0 >/dev/null 2>&1
    pm rm -a -f -t 0 >/dev/null 2>&1
    pm rmi -a -f >/dev/null 2>&1
  fi
  # Storage mounts podman may leave (its overlay home), deepest first.
  findmnt -rn -o TARGET | grep -F "$tmp/" | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
  rm -rf "$tmp"
  kill "$watchdog_pid" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$CONTAINERS_CONF" <<'CONF'
# containers.sh's own podman configuration: this host's hard limits are below
# podman's default ulimits, crun refuses the hybrid cgroup layout, and no
# systemd manages cgroups here.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
CONF

# One busybox tree, copied so that what podman writes into its rootfs
# (mount points, /etc/hosts) is not seen by minipod's containers.
log "building the busybox root file system"
mp rootfs build -o "$tmp/rootfs-minipod" /bin/busybox >/dev/null
cp -a "$tmp/rootfs-minipod" "$tmp/rootfs-podman"
cmd=(busybox sleep 3600)

# --- memory of one process, KiB: "VmRSS RssAnon RssFile Pss Private" ---------
mem_of() {
  local pid=$1 rss anon file pss priv
  read -r rss anon file < <(awk '/^VmRSS:/ {r = $2} /^RssAnon:/ {a = $2} /^RssFile:/ {f = $2} END {print r, a, f}' \
                              "/proc/$pid/status" 2>/dev/null) || return 1
  read -r pss priv < <(awk '/^Pss:/ {p = $2} /^Private_(Clean|Dirty):/ {v += $2} END {print p, v}' \
                          "/proc/$pid/smaps_rollup" 2>/dev/null) || return 1
  [[ -n $rss && -n $pss ]] || return 1
  echo "$rss $anon $file $pss $priv"
}
# Waits (bounded) until none of the given pids is a live process.
wait_gone() {
  local now deadline pid alive stat
  now_ms deadline
  deadline=$((deadline + 30000))
  while :; do
    alive=0
    for pid in "$@"; do
      # The state is the field after the command's ")" (which may hold spaces).
      stat=""
      read -r stat 2>/dev/null <"/proc/$pid/stat" || continue
      stat=${stat##*) }
      [[ ${stat%% *} != Z ]] && alive=1
    done
    ((alive)) || return 0
    now_ms now
    ((now < deadline)) || return 1
    nap
  done
}

# --- one round per tool: "create_ms rm_ms pod_create_ms run_median_ms" -------
# The memory of the last timed round goes to $tmp/mem-TOOL.
minipod_round() {
  local round=$1 t0 t1 t2 t3 tp e i pids=() runs=() ps_out status podname n k
  now_ms t0
  mp pod create bench >/dev/null || return 1
  now_ms tp
  for ((i = 1; i <= count; i++)); do
    now_ms k
    mp run -d --name "bench-$i" --pod bench --rootfs "$tmp/rootfs-minipod" -- "${cmd[@]}" >/dev/null || return 1
    now_ms e
    runs+=($((e - k)))
  done
  for ((k = 0; k < 3000; k++)); do
    ps_out=$(mp ps) || return 1
    n=0
    while read -r _ status podname _; do
      [[ $status == running && $podname == bench ]] && n=$((n + 1))
    done <<<"$ps_out"
    ((n == count)) && break
    nap
  done
  now_ms t1
  ((n == count)) || { log "minipod: only $n of $count containers running"; return 1; }
  # Monitors and container processes, from the state minipod recorded.
  mapfile -t pids < <("$py" - "$MINIPOD_STATE_DIR" bench <<'PY'
import json, os, sys
root, pod = sys.argv[1], sys.argv[2]
for kind in ("pods", "containers"):
    d = os.path.join(root, kind)
    for name in sorted(os.listdir(d)):
        s = json.load(open(os.path.join(d, name, "state.json")))
        if (kind == "pods" and s["name"] == pod) or s.get("pod") == pod:
            print(kind, s["monitor"]["pid"], s["init"]["pid"])
PY
)
  ((${#pids[@]} == count + 1)) || { log "minipod: found ${#pids[@]} monitors in the state, not $((count + 1))"; return 1; }
  # The resident monitor must be the small static minipod-monitor (a
  # minipod that fell back to its C++ monitor measures something else).
  for line in "${pids[@]}"; do
    read -r kind mon _ <<<"$line"
    exe=$(readlink "/proc/$mon/exe" 2>/dev/null) || exe="?"
    [[ ${exe##*/} == minipod-monitor ]] ||
      { log "minipod: the monitor (pid $mon) of a $kind runs $exe, not minipod-monitor"; return 1; }
  done
  if ((round == rounds)); then
    : >"$tmp/mem-minipod"
    for line in "${pids[@]}"; do
      read -r kind mon init <<<"$line"
      m=$(mem_of "$mon") || continue
      echo "$kind $m" >>"$tmp/mem-minipod"
      # Its cgroup janitor: the monitor's other child (root only: a
      # rootless container without a cgroup has none).
      jan=$(tr ' ' '\n' <"/proc/$mon/task/$mon/children" 2>/dev/null | grep -vx "$init" | head -1)
      if [[ -n $jan ]] && j=$(mem_of "$jan"); then
        echo "janitor-$kind $j" >>"$tmp/mem-minipod"
        echo "both-$kind $(paste -d' ' <(tr ' ' '\n' <<<"$m") <(tr ' ' '\n' <<<"$j") | awk '{printf "%d ", $1 + $2}')" \
          >>"$tmp/mem-minipod"
      fi
    done
  fi
  now_ms t2
  mp pod rm -f bench >/dev/null || return 1
  # shellcheck disable=SC2046
  wait_gone $(for line in "${pids[@]}"; do read -r _ a b <<<"$line"; echo "$a $b"; done) ||
    { log "minipod: processes left 30 s after pod rm"; return 1; }
  now_ms t3
  [[ $(mp ps -a --json) == "[]" ]] || { log "minipod: containers left after pod rm: $(mp ps -a)"; return 1; }
  echo "$((t1 - t0)) $((t3 - t2)) $((tp - t0)) $(printf '%s\n' "${runs[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
}

podman_round() {
  local round=$1 t0 t1 t2 t3 tp e i pids=() runs=() ps_out infra n k ids id
  now_ms t0
  pm pod create --name pbench --network none >/dev/null || return 1
  now_ms tp
  for ((i = 1; i <= count; i++)); do
    now_ms k
    pm run -d --name "pbench-$i" --pod pbench --rootfs "$tmp/rootfs-podman" "${cmd[@]}" >/dev/null || return 1
    now_ms e
    runs+=($((e - k)))
  done
  for ((k = 0; k < 300; k++)); do
    ps_out=$(pm ps --filter pod=pbench --filter status=running --format '{{.IsInfra}}') || return 1
    n=0
    while read -r infra; do
      [[ $infra == false ]] && n=$((n + 1))
    done <<<"$ps_out"
    ((n == count)) && break
    nap
  done
  now_ms t1
  ((n == count)) || { log "podman: only $n of $count containers running"; return 1; }
  mapfile -t ids < <(pm ps -a --no-trunc --filter pod=pbench --format '{{.ID}} {{.IsInfra}}')
  for id in "${ids[@]}"; do
    read -r cid infra <<<"$id"
    read -r mon init < <(pm inspect --format '{{.State.ConmonPid}} {{.State.Pid}}' "$cid") || return 1
    # Sanity: this conmon is the one for our container in our private root.
    grep -qaF "$cid" "/proc/$mon/cmdline" || { log "podman: conmon $mon does not name $cid"; return 1; }
    pids+=("$([[ $infra == true ]] && echo pods || echo containers) $mon $init")
  done
  ((${#pids[@]} == count + 1)) || { log "podman: found ${#pids[@]} conmons, not $((count + 1))"; return 1; }
  if ((round == rounds)); then
    : >"$tmp/mem-podman"
    for line in "${pids[@]}"; do
      read -r kind mon _ <<<"$line"
      echo "$kind $(mem_of "$mon")" >>"$tmp/mem-podman"
    done
  fi
  now_ms t2
  pm pod rm -f -t 0 pbench >/dev/null || return 1
  # shellcheck disable=SC2046
  wait_gone $(for line in "${pids[@]}"; do read -r _ a b <<<"$line"; echo "$a $b"; done) ||
    { log "podman: processes left 30 s after pod rm"; return 1; }
  now_ms t3
  [[ -z $(pm ps -a -q) ]] || { log "podman: containers left after pod rm"; return 1; }
  echo "$((t1 - t0)) $((t3 - t2)) $((tp - t0)) $(printf '%s\n' "${runs[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
}

# --- warm-up: page cache, podman's pause image (built once per store) -------
log "warm-up round, minipod"
minipod_round 0 >/dev/null || { echo "containers.sh: minipod failed in the warm-up round (see above)" >&2; exit 1; }
podman_note=""
if ! command -v podman >/dev/null; then
  podman_note="podman is not installed (apt-get install podman runc conmon)"
else
  log "warm-up round, podman (builds its pause image in the private store)"
  if err=$(podman_round 0 2>&1 >/dev/null); then
    podman_ok=1
  else
    podman_note="podman cannot run here: $(tail -1 <<<"$err")"
    pm pod rm -f -t 0 pbench >/dev/null 2>&1 || true
  fi
fi

load_at_start=$(load)
: >"$tmp/rounds"
for ((r = 1; r <= rounds; r++)); do
  log "round $r of $rounds (load $(load))"
  # Alternate which tool goes first, so neither always follows the other's rm.
  order=(minipod podman)
  ((r % 2 == 0)) && order=(podman minipod)
  for tool in "${order[@]}"; do
    [[ $tool == podman && $podman_ok -eq 0 ]] && continue
    l=$(load)
    out=$("${tool}_round" "$r") || { echo "containers.sh: $tool failed in round $r" >&2; exit 1; }
    echo "$tool $r $out ${l%% *}" >>"$tmp/rounds"
  done
done
load_at_end=$(load)

# --- report -------------------------------------------------------------------
median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print ""; else if (NR % 2) print a[(NR+1)/2]; else printf "%.0f\n", (a[NR/2]+a[NR/2+1])/2}'; }
col() { awk -v t="$1" -v c="$2" '$1 == t {print $c}' "$tmp/rounds"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.1fx", a / b; else printf "-" }'; }
mem_avg() {  # FILE KIND -> "n rss anon file pss private", averaged
  awk -v k="$2" '$1 == k && NF == 6 {n++; for (i = 2; i <= 6; i++) s[i] += $i}
                 END {if (n) printf "%d %.0f %.0f %.0f %.0f %.0f", n, s[2]/n, s[3]/n, s[4]/n, s[5]/n, s[6]/n; else print "0 - - - - -"}' "$1"
}

echo "## Containers and pods: minipod vs podman"
echo
echo "- machine: $(nproc) vCPU, kernel $(uname -r), Debian $(cat /etc/debian_version), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- load average: $load_at_start at the start of the timed rounds, $load_at_end at the end"
echo "- minipod: $minipod ($("$minipod" --version 2>/dev/null | head -1))"
if ((podman_ok)); then
  echo "- podman: $(podman --version | awk '{print $3}'), $(runc --version | head -1), $(conmon --version | head -1); own containers.conf (runc, cgroupfs, nofile/nproc 1024), private --root/--runroot, \`pod create --network none\`"
else
  echo "- podman: not measured: $podman_note"
fi
echo "- workload: \`pod create\` + $count x \`run -d --pod POD --rootfs DIR busybox sleep 3600\` (DIR from \`minipod rootfs build -o DIR /bin/busybox\`, one copy per tool) until \`ps\` shows all $count running; then \`pod rm -f\` (podman: \`-t 0\`) until every monitor/conmon and container process has exited"
echo "- $rounds timed round(s) per tool after one warm-up round each, tools alternating which goes first; medians"
echo
echo "| tool | create to all running (ms) | \`pod create\` (ms) | one \`run -d\`, median (ms) | rm to all gone (ms) |"
echo "|---|--:|--:|--:|--:|"
declare -A med
for tool in minipod podman; do
  [[ $tool == podman && $podman_ok -eq 0 ]] && continue
  for c in 3 4 5 6; do med[$tool,$c]=$(col "$tool" "$c" | median); done
  printf '| %s | %s | %s | %s | %s |\n' "$tool" "${med[$tool,3]}" "${med[$tool,5]}" "${med[$tool,6]}" "${med[$tool,4]}"
done
if ((podman_ok)); then
  printf '| podman/minipod | %s | %s | %s | %s |\n' "$(ratio "${med[podman,3]}" "${med[minipod,3]}")" \
    "$(ratio "${med[podman,5]}" "${med[minipod,5]}")" "$(ratio "${med[podman,6]}" "${med[minipod,6]}")" \
    "$(ratio "${med[podman,4]}" "${med[minipod,4]}")"
fi
echo
echo "Each round (ms; load average, 1 min, when the tool's round began):"
echo
echo "| round | tool | create | rm | load |"
echo "|--:|---|--:|--:|--:|"
sort -k2,2n -k1,1 "$tmp/rounds" | awk '{printf "| %s | %s | %s | %s | %s |\n", $2, $1, $3, $4, $7}'
echo
echo "Memory of the per-container monitor (minipod's monitor, podman's conmon), KiB, averaged, from the last round:"
echo
echo "| tool | process | count | VmRSS | RssAnon | RssFile | Pss | Private (clean+dirty) |"
echo "|---|---|--:|--:|--:|--:|--:|--:|"
for tool in minipod podman; do
  [[ -s $tmp/mem-$tool ]] || continue
  mon=$([[ $tool == minipod ]] && echo "monitor" || echo "conmon")
  read -r n r a f p v <<<"$(mem_avg "$tmp/mem-$tool" containers)"
  echo "| $tool | $mon of a container | $n | $r | $a | $f | $p | $v |"
  if [[ $tool == minipod ]]; then
    read -r n r a f p v <<<"$(mem_avg "$tmp/mem-$tool" janitor-containers)"
    echo "| $tool | cgroup janitor of a container | $n | $r | $a | $f | $p | $v |"
    read -r n r a f p v <<<"$(mem_avg "$tmp/mem-$tool" both-containers)"
    echo "| $tool | monitor + janitor of a container | $n | $r | $a | $f | $p | $v |"
  fi
  read -r n r a f p v <<<"$(mem_avg "$tmp/mem-$tool" pods)"
  echo "| $tool | $mon of the pod holder (podman: infra) | $n | $r | $a | $f | $p | $v |"
done
echo
if ((podman_ok)); then
  ratio_create=$(awk -v a="${med[podman,3]}" -v b="${med[minipod,3]}" 'BEGIN {printf "%.1f", a / b}')
  ratio_rm=$(awk -v a="${med[podman,4]}" -v b="${med[minipod,4]}" 'BEGIN {printf "%.1f", a / b}')
  verdict() { awk -v x="$1" 'BEGIN { print (x >= 10) ? "PASS" : "MISS" }'; }
  echo "- target, ten times faster than podman: create ${ratio_create}x: $(verdict "$ratio_create"), rm ${ratio_rm}x: $(verdict "$ratio_rm")"
else
  echo "- target, ten times faster than podman: not measured ($podman_note)"
fi
read -r _ r _ _ _ _ <<<"$(mem_avg "$tmp/mem-minipod" containers)"
echo "- target, monitor under 1 MiB RSS: ${r} KiB: $(awk -v r="$r" 'BEGIN { print (r != "-" && r < 1024) ? "PASS" : "MISS" }')"
read -r _ r _ _ _ _ <<<"$(mem_avg "$tmp/mem-minipod" both-containers)"
echo "- monitor + janitor per container: ${r} KiB RSS (podman's conmon alone: $(mem_avg "$tmp/mem-podman" containers 2>/dev/null | awk '{print $2}') KiB)"
trap - EXIT
cleanup
mounts_after=$(awk '{print $5}' /proc/self/mountinfo | sort)
if [[ $mounts_before == "$mounts_after" ]]; then
  echo "- mount table before and after: identical"
else
  echo "- mount table before and after: DIFFERENT"
  diff <(echo "$mounts_before") <(echo "$mounts_after") | head -20 | sed 's/^/    /'
fi
