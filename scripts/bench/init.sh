#!/usr/bin/env bash
# scripts/bench/init.sh: minipod-init against tini, tini-static, dumb-init and
# catatonit, side by side in one run. Prints a markdown report on stdout
# (progress goes to stderr):
#   1. binary size, stripped size (strip of a copy), linkage;
#   2. start-up: `INIT -- /bin/true` as a ratio to /bin/true run directly,
#      interleaved round by round (spawnbench.c), median;
#   3. idle VmRSS of the init while its child sleeps (init is PID 1 of a new
#      pid namespace, as in a container);
#   4. time to reap N orphans as PID 1 of a new pid namespace (orphans.c);
#   5. signal-forwarding latency, kill(init, SIGUSR1) to the child's
#      sigtimedwait() return, median (sigping.c), all pinned to one CPU (the
#      figure judged) and unpinned.
# The C helpers next to this script are compiled with `cc -O2` into a temp dir.
# Needs root (unshare --pid). Every wait is bounded; everything started is
# cleaned up by pid. No network.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
readonly here repo_root

usage() {
  cat <<EOF
usage: $0 [--init PATH] [--quick]

Compares minipod-init with tini, tini-static, dumb-init and catatonit in one
run and prints a markdown table with ratios and the targets minipod-init is
held to.

  --init PATH   the minipod-init binary (default: build/init/minipod-init under
                the repository root, $repo_root)
  --quick       a short run (well under a minute): fewer rounds and orphans
  -h, --help    this text

Run as root. If the minipod-init binary is missing or fails a sanity check,
its rows are marked "pending" and the peers are still measured.
EOF
}

init_bin="$repo_root/build/init/minipod-init"
quick=0
while (($#)); do
  case "$1" in
    --init) [[ $# -ge 2 ]] || { echo "init.sh: --init needs a path" >&2; exit 2; }
            init_bin="$2"; shift 2 ;;
    --init=*) init_bin="${1#--init=}"; shift ;;
    --quick) quick=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "init.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [[ $(id -u) -ne 0 ]]; then
  echo "init.sh: needs root (unshare --pid, reading other processes' /proc)" >&2
  exit 2
fi
for tool in cc strip file readelf unshare timeout taskset awk sort; do
  command -v "$tool" >/dev/null || { echo "init.sh: $tool not found" >&2; exit 2; }
done

if ((quick)); then
  startup_rounds=200; startup_warmup=10
  ping_rounds=2; pings_per_round=25
  orphans=5000; orphan_reps=3
  rss_reps=1
else
  startup_rounds=1000; startup_warmup=30
  ping_rounds=4; pings_per_round=50
  orphans=20000; orphan_reps=5
  rss_reps=3
fi
readonly orphan_wave=2000 orphan_batch=500

log() { printf 'init.sh: %s\n' "$*" >&2; }

tmp="$(mktemp -d /tmp/minipod-bench.XXXXXX)"
bg_pids=()  # at most the one background unshare that is still running
cleanup() {
  local pid
  for pid in "${bg_pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the contestants -------------------------------------------------------
names=(minipod-init tini tini-static dumb-init catatonit)
declare -A path=(
  [minipod-init]="$init_bin"
  [tini]=/usr/bin/tini
  [tini-static]=/usr/bin/tini-static
  [dumb-init]=/usr/bin/dumb-init
  [catatonit]=/usr/bin/catatonit
)
# dumb-init stops at the first non-option and takes no `--`.
declare -A dashdash=([minipod-init]=1 [tini]=1 [tini-static]=1 [dumb-init]=0 [catatonit]=1)
declare -A state=()   # ok | pending (minipod-init) | missing (a peer)
declare -A version=()

# Sets the global array argv_of to the init's command prefix.
prefix() {
  argv_of=("${path[$1]}")
  if ((${dashdash[$1]})); then argv_of+=(--); fi
}

# Waits up to $2 seconds for pid $1 (our child) to exit, then reaps it.
# Returns 1 if it is still running.
wait_bounded() {
  local pid="$1" i st
  for ((i = 0; i < $2 * 100; i++)); do
    st="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
    if [[ -z $st || $st == Z ]]; then
      wait "$pid" 2>/dev/null || true
      return 0
    fi
    sleep 0.01
  done
  return 1
}

first_child() {
  local f="/proc/$1/task/$1/children" c=""
  [[ -r $f ]] && read -r c _ <"$f" 2>/dev/null || true
  printf '%s' "$c"
}

for n in "${names[@]}"; do
  p="${path[$n]}"
  if [[ ! -x $p ]]; then
    if [[ $n == minipod-init ]]; then
      state[$n]=pending
      log "minipod-init: $p is missing or not executable; its rows stay pending"
    else
      state[$n]=missing
      log "$n: $p not found; skipped"
    fi
    continue
  fi
  # Sanity: runs a command and hands back its exit status.
  prefix "$n"
  rc1=0; timeout -k 2 5 "${argv_of[@]}" /bin/true </dev/null >/dev/null 2>&1 || rc1=$?
  rc2=0; timeout -k 2 5 "${argv_of[@]}" /bin/sh -c 'exit 3' </dev/null >/dev/null 2>&1 || rc2=$?
  if [[ $rc1 -ne 0 || $rc2 -ne 3 ]]; then
    state[$n]=$([[ $n == minipod-init ]] && echo pending || echo missing)
    log "$n: sanity check failed (true -> $rc1, exit 3 -> $rc2); skipped"
    continue
  fi
  state[$n]=ok
  version[$n]="$(timeout 5 "$p" --version 2>&1 </dev/null | head -n1 | tr -d '\r' || true)"
done
measured=()
for n in "${names[@]}"; do [[ ${state[$n]} == ok ]] && measured+=("$n"); done
# The lead may rebuild while we run: measure a private copy, keeping the
# basename, which selects the personality.
if [[ ${state[minipod-init]} == ok ]]; then
  mkdir "$tmp/bin"
  cp "${path[minipod-init]}" "$tmp/bin/minipod-init"
  built_from="${path[minipod-init]}"
  path[minipod-init]="$tmp/bin/minipod-init"
fi
((${#measured[@]})) || { echo "init.sh: no init to measure" >&2; exit 1; }

load_at_start="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- helpers ----------------------------------------------------------------
log "compiling helpers into $tmp"
for h in spawnbench orphans sigping; do
  cc -O2 -Wall -o "$tmp/$h" "$here/$h.c"
done

# --- 1. size and linkage ----------------------------------------------------
declare -A size=() stripped=() linkage=()
for n in "${measured[@]}"; do
  p="${path[$n]}"
  size[$n]="$(stat -L -c %s "$p")"
  strip -o "$tmp/stripped.$n" "$p" 2>/dev/null || cp "$p" "$tmp/stripped.$n"
  stripped[$n]="$(stat -c %s "$tmp/stripped.$n")"
  rm -f "$tmp/stripped.$n"
  desc="$(file -L -b "$p")"
  if [[ $desc == *"statically linked"* ]]; then
    linkage[$n]=static
  elif [[ $desc == *"static-pie linked"* ]]; then
    linkage[$n]=static-pie
  else
    needed="$(readelf -d "$p" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd, -)"
    linkage[$n]="dynamic (${needed:-?})"
  fi
  [[ $desc == *"not stripped"* ]] && linkage[$n]+=", not stripped"
done

# --- 2. start-up overhead ---------------------------------------------------
log "start-up: $startup_rounds interleaved rounds of INIT -- /bin/true and /bin/true"
{
  printf 'true\t/bin/true\n'
  for n in "${measured[@]}"; do
    prefix "$n"
    (IFS=$'\t'; printf '%s\t%s\t/bin/true\n' "$n" "${argv_of[*]}")
  done
} >"$tmp/startup.cmds"
timeout -k 5 300 "$tmp/spawnbench" "$startup_rounds" "$startup_warmup" "$tmp/startup.cmds" \
  >"$tmp/startup.tsv"
declare -A su_med=() su_fail=()
while IFS=$'\t' read -r label med _p10 _p90 _mean _min _n fail; do
  su_med[$label]=$med; su_fail[$label]=$fail
done <"$tmp/startup.tsv"
[[ ${su_fail[true]:-0} -eq 0 ]] || log "warning: /bin/true failed ${su_fail[true]} times"
for n in "${measured[@]}"; do
  [[ ${su_fail[$n]:-0} -eq 0 ]] || log "warning: $n -- /bin/true failed ${su_fail[$n]} times"
done

# --- 3. idle RSS --------------------------------------------------------------
# Reads VmRSS, RssAnon (KiB) from status and Pss from smaps_rollup of the
# init, PID 1 of a new pid namespace, once its child has become `sleep`.
measure_rss() {
  local n="$1" top init="" child="" i
  prefix "$n"
  unshare --pid --fork --kill-child "${argv_of[@]}" /bin/sleep 30 </dev/null >/dev/null 2>&1 &
  top=$!
  bg_pids=("$top")
  for ((i = 0; i < 500; i++)); do
    init="$(first_child "$top")"
    [[ -n $init ]] && child="$(first_child "$init")"
    if [[ -n $child && "$(cat "/proc/$child/comm" 2>/dev/null)" == sleep ]]; then break; fi
    child=""
    sleep 0.01
  done
  if [[ -z $child ]]; then
    log "$n: its child never became sleep"
    echo "? ? ?"
  else
    sleep 0.1  # let the init settle into its wait loop
    awk '/^VmRSS:/ {r=$2} /^RssAnon:/ {a=$2} END {printf "%s %s ", r, a}' "/proc/$init/status"
    awk '/^Pss:/ {p=$2} END {print p}' "/proc/$init/smaps_rollup"
    kill -TERM "$init" 2>/dev/null || true
  fi
  if ! wait_bounded "$top" 5; then
    log "$n: did not exit on SIGTERM; killing it"
    kill -KILL "$top" 2>/dev/null || true
    wait_bounded "$top" 5 || true
  fi
  bg_pids=()  # reaped: its pid may be reused, never signal it again
}
# "min-max" of column $2 of file $1 (the spread of per-round figures).
spread() { awk -v c="$2" 'NR == 1 || $c < lo {lo = $c} NR == 1 || $c > hi {hi = $c}
  END { if (NR) printf "%.1f-%.1f", lo, hi; else print "?" }' "$1"; }
# Says so when the per-round ranges of column $2 in files $1 and $3 overlap.
overlap() {
  awk -v c="$2" 'FNR == 1 {f++} {
      if (!(f in lo) || $c < lo[f]) lo[f] = $c
      if (!(f in hi) || $c > hi[f]) hi[f] = $c }
    END { if (f == 2 && lo[1] <= hi[2] && lo[2] <= hi[1]) printf "; ranges overlap: within run-to-run noise" }' "$1" "$3"
}
median() { sort -n | awk '{v[NR]=$1} END {if (NR==0) print "?"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

log "idle RSS: $rss_reps sample(s) per init"
declare -A rss=() rss_anon=() pss=()
for n in "${measured[@]}"; do
  : >"$tmp/rss.$n"
  for ((r = 0; r < rss_reps; r++)); do measure_rss "$n" >>"$tmp/rss.$n"; done
  rss[$n]="$(awk '{print $1}' "$tmp/rss.$n" | median)"
  rss_anon[$n]="$(awk '{print $2}' "$tmp/rss.$n" | median)"
  pss[$n]="$(awk '{print $3}' "$tmp/rss.$n" | median)"
done

# --- 4. reaping orphans -------------------------------------------------------
# One sample: prints "wall_ms drain_ms create_ms" or fails.
orphan_sample() {
  local label="$1" t0 t1 out rc=0
  shift
  t0=$EPOCHREALTIME
  out="$(timeout -k 5 120 unshare --pid --fork --mount-proc --kill-child "$@" \
         "$tmp/orphans" "$orphans" "$orphan_wave" "$orphan_batch" 90 </dev/null 2>"$tmp/orphans.err")" || rc=$?
  t1=$EPOCHREALTIME
  if [[ $rc -ne 0 || $out != *"left=0 zombies=0"* ]]; then
    log "$label: orphan run failed (exit $rc): $out $(tr '\n' ' ' <"$tmp/orphans.err")"
    return 1
  fi
  awk -v t0="$t0" -v t1="$t1" -v out="$out" 'BEGIN {
    n = split(out, kv, /[ =]/); for (i = 1; i < n; i += 2) f[kv[i]] = kv[i+1]
    printf "%.1f %s %s\n", (t1 - t0) * 1000, f["drain_ms"], f["create_ms"] }'
}

log "orphans: $orphan_reps interleaved round(s) of $orphans orphans per init (waves of $orphan_wave)"
orphan_labels=(self "${measured[@]}")
for l in "${orphan_labels[@]}"; do : >"$tmp/orph.$l"; done
for ((r = 0; r < orphan_reps; r++)); do
  for l in "${orphan_labels[@]}"; do
    if [[ $l == self ]]; then
      orphan_sample "self-reaping PID 1" >>"$tmp/orph.$l" || true
    else
      prefix "$l"
      orphan_sample "$l" "${argv_of[@]}" >>"$tmp/orph.$l" || true
    fi
  done
done
declare -A reap_wall=() reap_drain=()
for l in "${orphan_labels[@]}"; do
  reap_wall[$l]="$(awk '{print $1}' "$tmp/orph.$l" | median)"
  reap_drain[$l]="$(awk '{print $2}' "$tmp/orph.$l" | median)"
done

# --- 5. signal-forwarding latency ----------------------------------------------
# Two modes, each in interleaved rounds:
#  pinned: sender, init and child share one CPU (taskset). The child only runs
#          once the init has finished its loop iteration and blocked again, so
#          this is the init's whole per-signal cost, and it is stable (+-1 us).
#  free:   no pinning, as in production; wake-ups cross vCPUs and, on this VM,
#          whole runs shift between ~20 us and ~300 us modes (vCPU halt/steal),
#          so it is reported but not used for the verdict.
pin_cpu=$(($(nproc) - 1))
log "signal latency: $ping_rounds interleaved round(s) of $pings_per_round SIGUSR1 per init, pinned to CPU $pin_cpu and free"
sig_labels=(direct "${measured[@]}")
for mode in pinned free; do
  for l in "${sig_labels[@]}"; do : >"$tmp/lat.$mode.$l"; : >"$tmp/latround.$mode.$l"; done
  pin=()
  [[ $mode == pinned ]] && pin=(taskset -c "$pin_cpu")
  for ((r = 0; r < ping_rounds; r++)); do
    for l in "${sig_labels[@]}"; do
      if [[ $l == direct ]]; then
        cmd=(0 "$tmp/fifo" -- "$tmp/sigping" child "$tmp/fifo")
      else
        prefix "$l"
        cmd=(1 "$tmp/fifo" -- unshare --pid --fork --kill-child "${argv_of[@]}"
             "$tmp/sigping" child "$tmp/fifo")
      fi
      SIGPING_RAW="$tmp/lat.$mode.$l" timeout -k 5 60 "${pin[@]}" "$tmp/sigping" send \
        "$pings_per_round" "${cmd[@]}" >>"$tmp/latround.$mode.$l" 2>"$tmp/sigping.err" ||
        log "$l ($mode): signal run failed: $(tr '\n' ' ' <"$tmp/sigping.err")"
    done
  done
done
declare -A lat_med=() lat_p90=() free_med=()
pooled() {  # raw ns file -> "median_us p90_us"
  sort -n "$1" | awk '
    {v[NR] = $1}
    END {
      if (NR == 0) { print "? ?"; exit }
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      i = int(0.9 * (NR - 1)) + 1
      printf "%.1f %.1f\n", m / 1000, v[i] / 1000 }'
}
for l in "${sig_labels[@]}"; do
  read -r lat_med[$l] lat_p90[$l] < <(pooled "$tmp/lat.pinned.$l")
  read -r free_med[$l] _ < <(pooled "$tmp/lat.free.$l")
done

# --- report ---------------------------------------------------------------------
fmt_int() { [[ $1 =~ ^[0-9]+$ ]] && sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1" || printf '%s' "$1"; }
ms() { awk -v v="$1" 'BEGIN { if (v == "?" || v == "") print "?"; else printf "%.3f", v / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "?" || b == "?" || b + 0 == 0) print "?"; else printf "%.2fx", a / b }'; }
oneplace() { awk -v v="$1" 'BEGIN { if (v == "?" || v == "") print "?"; else printf "%.1f", v }'; }

quick_note=""
((quick)) && quick_note=" (--quick)"
echo "## minipod-init vs tini, dumb-init, catatonit${quick_note}"
echo
echo "- machine: $(nproc) vCPU, kernel $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), load average at the start: $load_at_start"
echo "- start-up: $startup_rounds interleaved rounds (+$startup_warmup warm-up), median of each; /bin/true direct: $(ms "${su_med[true]}") ms"
echo "- RSS: init as PID 1 of a new pid namespace, child \`sleep\`, median of $rss_reps"
echo "- orphans: $orphans per run in waves of $orphan_wave, median of $orphan_reps interleaved run(s); wall = \`unshare --pid --fork --mount-proc INIT -- orphans\` start to exit; drain = sum over waves of release-to-all-reaped (the init's share; creating the orphans does not involve the init)"
echo "- signal latency: SIGUSR1 kill(init) -> child's sigtimedwait(), 0.5 ms apart, $((ping_rounds * pings_per_round)) pings per init in $ping_rounds interleaved rounds; *pinned*: sender, init and child on CPU $pin_cpu (the init's full per-signal cost; the figure judged), *free*: unpinned (noisy on this VM)"
for n in "${names[@]}"; do
  case "${state[$n]}" in
    ok) shown="${path[$n]}"
        [[ $n == minipod-init ]] && shown="${built_from:-$shown} (measured from a copy)"
        echo "- $n: $shown, ${version[$n]}" ;;
    pending) echo "- $n: ${path[$n]}: pending (missing or not working yet)" ;;
    *) echo "- $n: ${path[$n]}: not available" ;;
  esac
done
echo
echo "| init | linkage | size (B) | stripped (B) | idle VmRSS (KiB) | RssAnon (KiB) | Pss (KiB) | start-up median (ms) | start-up vs /bin/true | signal latency pinned, median (µs) | pinned p90 (µs) | free median (µs) | reap $(fmt_int "$orphans") orphans, wall (ms) | drain (ms) | drain vs tini |"
echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
echo "| *baseline, no init* | | | | | | | $(ms "${su_med[true]}") | 1.00x | $(oneplace "${lat_med[direct]}") | $(oneplace "${lat_p90[direct]}") | $(oneplace "${free_med[direct]}") | $(oneplace "${reap_wall[self]}") | $(oneplace "${reap_drain[self]}") | $(ratio "${reap_drain[self]}" "${reap_drain[tini]:-?}") |"
for n in "${names[@]}"; do
  if [[ ${state[$n]} != ok ]]; then
    echo "| $n | ${state[$n]} | | | | | | | | | | | | | |"
    continue
  fi
  echo "| $n | ${linkage[$n]} | $(fmt_int "${size[$n]}") | $(fmt_int "${stripped[$n]}") | ${rss[$n]} | ${rss_anon[$n]} | ${pss[$n]} | $(ms "${su_med[$n]}") | $(ratio "${su_med[$n]}" "${su_med[true]}") | $(oneplace "${lat_med[$n]}") | $(oneplace "${lat_p90[$n]}") | $(oneplace "${free_med[$n]}") | $(oneplace "${reap_wall[$n]}") | $(oneplace "${reap_drain[$n]}") | $(ratio "${reap_drain[$n]}" "${reap_drain[tini]:-?}") |"
done
echo
echo "Baseline row: start-up is /bin/true run directly; latency is SIGUSR1 sent straight to the child; reaping is the orphan generator itself as PID 1, reaping in a busy waitpid loop."
echo

# --- targets --------------------------------------------------------------------
echo "### Targets for minipod-init"
echo
if [[ ${state[minipod-init]} != ok ]]; then
  echo "Pending: minipod-init was not measured (${path[minipod-init]} missing or failing its sanity check)."
  exit 0
fi
peers=()
for n in "${measured[@]}"; do [[ $n != minipod-init ]] && peers+=("$n"); done
# Prints "best_value best_name" over peers for metric array $1 (lower is better).
best_peer() {
  local -n arr="$1"
  local n best="" who=""
  for n in "${peers[@]}"; do
    [[ ${arr[$n]:-?} == "?" ]] && continue
    if [[ -z $best ]] || awk -v a="${arr[$n]}" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best="${arr[$n]}"; who="$n"
    fi
  done
  echo "${best:-?} ${who:-?}"
}
# verdict VALUE REFERENCE: PASS if VALUE <= REFERENCE, with the difference in %.
verdict() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "?" || b == "?" || b + 0 == 0) { print "n/a"; exit }
    d = (a - b) / b * 100
    printf "%s (%+.1f%%)", (a <= b) ? "PASS" : "MISS", d }'
}
declare -A su_ratio=()
for n in "${measured[@]}"; do
  su_ratio[$n]="$(awk -v a="${su_med[$n]}" -v b="${su_med[true]}" 'BEGIN { printf "%.4f", a / b }')"
done
static_peers_best() {
  local n best="" who=""
  for n in "${peers[@]}"; do
    [[ ${linkage[$n]} == static* ]] || continue
    if [[ -z $best || ${size[$n]} -lt $best ]]; then best="${size[$n]}"; who="$n"; fi
  done
  echo "${best:-?} ${who:-?}"
}
m=minipod-init
read -r b w < <(best_peer size)
echo "- smallest binary: $(fmt_int "${size[$m]}") B vs smallest peer $w $(fmt_int "$b") B (${linkage[$w]}): $(verdict "${size[$m]}" "$b")"
read -r b w < <(best_peer stripped)
echo "  - stripped: $(fmt_int "${stripped[$m]}") B vs $w $(fmt_int "$b") B: $(verdict "${stripped[$m]}" "$b")"
read -r b w < <(static_peers_best)
echo "  - among static binaries (needing no libc on the target): vs $w $(fmt_int "$b") B: $(verdict "${size[$m]}" "$b")"
read -r b w < <(best_peer rss)
echo "- lowest idle RSS: ${rss[$m]} KiB vs $w $b KiB: $(verdict "${rss[$m]}" "$b")"
read -r b w < <(best_peer su_ratio)
echo "- start-up overhead no worse than the best peer: $(ratio "${su_med[$m]}" "${su_med[true]}") vs $w $(ratio "${su_med[$w]}" "${su_med[true]}"): $(verdict "${su_ratio[$m]}" "$b")"
read -r b w < <(best_peer lat_med)
echo "- signal latency no worse than the best peer: $(oneplace "${lat_med[$m]}") µs vs $w $(oneplace "$b") µs: $(verdict "${lat_med[$m]}" "$b") (per-round medians $(spread "$tmp/latround.pinned.$m" 1) vs $(spread "$tmp/latround.pinned.$w" 1) µs$(overlap "$tmp/latround.pinned.$m" 1 "$tmp/latround.pinned.$w"))"
read -r b w < <(best_peer free_med)
echo "  - unpinned: $(oneplace "${free_med[$m]}") µs vs $w $(oneplace "$b") µs: $(verdict "${free_med[$m]}" "$b") (per-round medians $(spread "$tmp/latround.free.$m" 1) vs $(spread "$tmp/latround.free.$w" 1) µs$(overlap "$tmp/latround.free.$m" 1 "$tmp/latround.free.$w"))"
if [[ ${state[tini]} == ok ]]; then
  echo "- reaping at least as fast as tini (drain time): $(oneplace "${reap_drain[$m]}") ms vs $(oneplace "${reap_drain[tini]}") ms: $(verdict "${reap_drain[$m]}" "${reap_drain[tini]}") (per-run drains $(spread "$tmp/orph.$m" 2) vs $(spread "$tmp/orph.tini" 2) ms$(overlap "$tmp/orph.$m" 2 "$tmp/orph.tini"); wall $(oneplace "${reap_wall[$m]}") vs $(oneplace "${reap_wall[tini]}") ms: $(verdict "${reap_wall[$m]}" "${reap_wall[tini]}"))"
else
  echo "- reaping at least as fast as tini: n/a (tini not available)"
fi
