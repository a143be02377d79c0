#!/usr/bin/env bash
# scripts/bench/rootfs.sh: `minipod rootfs build` against lddtree (pax-utils)
# and dracut-install (dracut-core), side by side in one run. Prints a markdown
# report on stdout (progress goes to stderr):
#   A. 40 common binaries (absolute paths found with PATH=/usr/sbin:/usr/bin:/sbin:/bin);
#   B. every ELF file in /usr/bin (regular files and symlinks to them, passed
#      as they are; scripts are skipped).
# For each tool and workload: the time to resolve and copy the closure
# (hyperfine, median), the tree it wrote (regular files, their bytes, all
# entries), how many inputs it holds, whether `chroot TREE bash -c true` works
# and for how many inputs `ld.so --list` finds every library inside the tree.
# Needs root (chroot; installs the peers with apt-get when they are missing).
# Every command is bounded by `timeout`; everything is written under one
# mktemp -d directory, removed on exit. No network unless a peer is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
readonly here repo_root

usage() {
  cat <<EOF
usage: $0 [--minipod PATH] [--quick]

Compares \`minipod rootfs build\` with lddtree --copy-to-tree (pax-utils) and
dracut-install -l (dracut-core) in one run and prints a markdown table with
the ratios and the targets minipod is held to (at least 10x faster than
lddtree; never a larger tree).

  --minipod PATH  the minipod binary (default: build/cli/minipod under
                  the repository root, $repo_root)
  --quick         fewer timed runs (3 for the 40 binaries, 1 for /usr/bin)
  -h, --help      this text

Run as root. Trees are written under a mktemp -d directory in \${TMPDIR:-/tmp};
keep it on the same filesystem as /usr so that every tool copies the same
way. The /usr/bin workload writes about 2 GB per tool (deleted between runs).
EOF
}

minipod_bin="$repo_root/build/cli/minipod"
quick=0
while (($#)); do
  case "$1" in
    --minipod) [[ $# -ge 2 ]] || { echo "rootfs.sh: --minipod needs a path" >&2; exit 2; }
               minipod_bin="$2"; shift 2 ;;
    --minipod=*) minipod_bin="${1#--minipod=}"; shift ;;
    --quick) quick=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "rootfs.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf 'rootfs.sh: %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
  echo "rootfs.sh: needs root (chroot into the trees; apt-get for missing peers)" >&2
  exit 2
fi

# --- the peers: installed from Debian when missing ----------------------------
readonly lddtree_py=/usr/bin/lddtree dracut_install=/usr/lib/dracut/dracut-install
missing_pkgs=()
[[ -x $lddtree_py ]] || missing_pkgs+=(pax-utils)
[[ -x $dracut_install ]] || missing_pkgs+=(dracut-core)
command -v hyperfine >/dev/null || missing_pkgs+=(hyperfine)
if ((${#missing_pkgs[@]})); then
  log "installing ${missing_pkgs[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if ! timeout -k 10 600 apt-get install -y --no-install-recommends "${missing_pkgs[@]}" >&2; then
    timeout -k 10 600 apt-get update >&2 || true
    timeout -k 10 600 apt-get install -y --no-install-recommends "${missing_pkgs[@]}" >&2 ||
      log "apt-get install ${missing_pkgs[*]} failed; the missing tools are skipped"
  fi
fi
for tool in hyperfine timeout chroot find sort comm awk realpath stat; do
  command -v "$tool" >/dev/null || { echo "rootfs.sh: $tool not found" >&2; exit 2; }
done

if ((quick)); then runs_a=3; runs_b=1; else runs_a=10; runs_b=3; fi
readonly runs_a runs_b
readonly ldso=/lib64/ld-linux-x86-64.so.2   # PT_INTERP of every x86-64 input

tmp="$(mktemp -d "${TMPDIR:-/tmp}/minipod-rootfs-bench.XXXXXX")"
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the contestants ------------------------------------------------------------
tools=(minipod lddtree dracut-install)
declare -A state=() version=()
if [[ -x $minipod_bin ]]; then
  # The lead may rebuild while we run: measure a private copy.
  mkdir "$tmp/bin"
  cp "$minipod_bin" "$tmp/bin/minipod"
  state[minipod]=ok
  version[minipod]="$(timeout 5 "$tmp/bin/minipod" --version 2>&1 </dev/null | head -n1 || true)"
  [[ -n ${version[minipod]} ]] || version[minipod]="built $(date -u -r "$minipod_bin" '+%Y-%m-%d %H:%M UTC')"
else
  state[minipod]=pending
  log "minipod: $minipod_bin is missing or not executable; its rows stay pending"
fi
minipod="$tmp/bin/minipod"
if [[ -x $lddtree_py && -x /usr/bin/python3 ]]; then
  state[lddtree]=ok
  version[lddtree]="pax-utils $(dpkg-query -W -f '${Version}' pax-utils 2>/dev/null || echo '?'), $(/usr/bin/python3 --version 2>&1)"
else
  state[lddtree]=missing
fi
if [[ -x $dracut_install ]]; then
  state[dracut-install]=ok
  version[dracut-install]="dracut-core $(dpkg-query -W -f '${Version}' dracut-core 2>/dev/null || echo '?')"
else
  state[dracut-install]=missing
fi

# --- workloads ----------------------------------------------------------------------
is_elf() {  # the first four bytes of $1 (following symlinks) are \x7fELF
  local m=""
  [[ -f $1 && -r $1 ]] || return 1
  LC_ALL=C IFS= read -r -N 4 m <"$1" 2>/dev/null || true
  [[ $m == $'\x7fELF' ]]
}

# A: 40 binaries a stock Debian 12 has; the extras stand in for missing ones.
readonly wanted_a=40
candidates=(bash dash ls cp mv rm cat date env sort wc head tail cut tr grep sed
  tar gzip find xargs diff cmp mount lsblk findmnt mawk perl python3 git ssh curl
  openssl ps ip less stat id chroot xz
  bzip2 zstd uniq umount unshare nsenter hostname dd du df ln mkdir chmod touch)
list_a=()
for c in "${candidates[@]}"; do
  ((${#list_a[@]} < wanted_a)) || break
  p="$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$c" || true)"
  if [[ $p == /* ]] && is_elf "$p"; then list_a+=("$p"); else log "A: $c not found (or not ELF); skipped"; fi
done
if ((${#list_a[@]} < wanted_a)); then
  echo "rootfs.sh: only ${#list_a[@]} of the candidate binaries exist here; workload A needs $wanted_a" >&2
  exit 1
fi

# B: every ELF file in /usr/bin, as named there.
list_b=()
b_links=0
for f in /usr/bin/*; do
  is_elf "$f" || continue
  list_b+=("$f")
  [[ -L $f ]] && b_links=$((b_links + 1))
done
readonly b_total=${#list_b[@]}
log "A: ${#list_a[@]} binaries; B: $b_total ELF files in /usr/bin ($b_links of them symlinks)"

# --- commands -----------------------------------------------------------------------
# cmd_of TOOL W DEST: sets the array cmd to the tool's command line.
cmd_of() {
  local -n list="list_$2"
  case "$1" in
    minipod) cmd=("$minipod" rootfs build -o "$3")
             [[ $2 == b ]] && cmd+=(--allow-missing) ;;
    lddtree) cmd=(/usr/bin/python3 "$lddtree_py" --copy-to-tree "$3")
             [[ $2 == b ]] && cmd+=(--skip-missing --skip-non-elfs) ;;
    dracut-install) cmd=("$dracut_install" -D "$3" -l)
                    [[ $2 == b ]] && cmd+=(-o)
                    cmd+=(-a) ;;
  esac
  cmd+=("${list[@]}")
}
# dracut-install wants DEST to exist; the others create it.
prepare_of() {
  if [[ $1 == dracut-install ]]; then echo "sh -c 'rm -rf $2 && mkdir $2 && sync'"
  else echo "sh -c 'rm -rf $2 && sync'"; fi
}
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }   # one word for hyperfine -N
declare -A limit=([a]=120 [b]=900)  # seconds for one run of one tool

# One run into $tmp/tree.TOOL.W; stdout+stderr to $tmp/out.TOOL.W. Returns rc.
check_run() {
  local t="$1" w="$2" dest="$tmp/tree.$1.$2" rc=0
  rm -rf "$dest"
  [[ $t == dracut-install ]] && mkdir "$dest"
  cmd_of "$t" "$w" "$dest"
  timeout -k 10 "${limit[$w]}" "${cmd[@]}" </dev/null >"$tmp/out.$t.$w" 2>&1 || rc=$?
  return $rc
}

declare -A status=()   # TOOL.W -> ok | failed (exit N) | pending | not installed
excluded=()            # inputs of B that minipod rejects, with the reason
for w in a b; do
  for t in "${tools[@]}"; do
    if [[ ${state[$t]} != ok ]]; then
      status[$t.$w]=$([[ $t == minipod ]] && echo pending || echo "not installed")
      continue
    fi
    log "$t, workload ${w^^}: one check run"
    rc=0; check_run "$t" "$w" || rc=$?
    # minipod aborts on an input it cannot place (the error names it): set
    # the input aside for every tool, so all are measured on the same list.
    while [[ $t == minipod && $w == b && $rc -ne 0 && ${#excluded[@]} -lt 100 ]]; do
      msg="$(grep -m1 '^minipod rootfs build: /' "$tmp/out.$t.$w" || true)"
      bad="${msg#minipod rootfs build: }"; bad="${bad%%: *}"
      keep=()
      for f in "${list_b[@]}"; do [[ $f == "$bad" ]] || keep+=("$f"); done
      ((${#keep[@]} < ${#list_b[@]})) || break
      excluded+=("$bad: ${msg#minipod rootfs build: "$bad": }")
      list_b=("${keep[@]}")
      rc=0; check_run "$t" "$w" || rc=$?
    done
    if ((rc == 0)); then status[$t.$w]=ok
    else
      status[$t.$w]="failed (exit $rc)"
      log "$t, workload ${w^^}: exit $rc: $(tail -n 3 "$tmp/out.$t.$w" | tr '\n' ' ')"
    fi
  done
done
((${#excluded[@]})) && log "B: minipod rejected ${#excluded[@]} input(s); every tool gets the other ${#list_b[@]}"

# --- what the trees hold --------------------------------------------------------------
declare -A files=() bytes=() links=() entries=() got=() bash_ok=() loads=()
# Inputs for which ld.so --list succeeds and finds every library: on the host
# (the reference) or inside a tree (chroot). Prints their paths.
loadable() {
  local root="$1" f out rc
  shift
  for f in "$@"; do
    rc=0
    if [[ -z $root ]]; then out="$(timeout 10 "$ldso" --list "$f" 2>&1)" || rc=$?
    else out="$(timeout 10 chroot "$root" "$ldso" --list "$f" 2>&1)" || rc=$?; fi
    [[ $rc -eq 0 && $out != *"not found"* ]] && printf '%s\n' "$f"
  done
  return 0
}
for w in a b; do
  declare -n list="list_$w"
  log "workload ${w^^}: ld.so --list of every input on the host"
  loadable "" "${list[@]}" >"$tmp/loads.host.$w"
  for t in "${tools[@]}"; do
    [[ ${status[$t.$w]} == ok ]] || continue
    d="$tmp/tree.$t.$w"
    files[$t.$w]="$(find "$d" -type f | wc -l)"
    bytes[$t.$w]="$(find "$d" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')"
    links[$t.$w]="$(find "$d" -type l | wc -l)"
    entries[$t.$w]="$(find "$d" -mindepth 1 | wc -l)"
    n=0
    for f in "${list[@]}"; do [[ -e $d$f || -L $d$f ]] && n=$((n + 1)); done
    got[$t.$w]=$n
    bash_path=/usr/bin/bash
    [[ -e $d$bash_path ]] || bash_path="/$(cd "$d" && find . -name bash \( -type f -o -type l \) | head -n1 | sed 's|^\./||')"
    if timeout 10 chroot "$d" "$bash_path" -c true </dev/null >/dev/null 2>&1; then
      bash_ok[$t.$w]="yes"
    else
      bash_ok[$t.$w]="no"
    fi
    log "$t, workload ${w^^}: ld.so --list of every input inside its tree"
    mapfile -t ref <"$tmp/loads.host.$w"
    loads[$t.$w]="$(loadable "$d" "${ref[@]}" | wc -l)"
  done
  unset -n list
done

# --- timing -------------------------------------------------------------------------------
declare -A med=() tmin=() tmax=()
load_at_start="$(cut -d' ' -f1-3 /proc/loadavg)"
for w in a b; do
  runs=$([[ $w == a ]] && echo "$runs_a" || echo "$runs_b")
  args=()
  timed=()
  for t in "${tools[@]}"; do
    [[ ${status[$t.$w]} == ok ]] || continue
    d="$tmp/timed.$t.$w"
    cmd_of "$t" "$w" "$d"
    line=""
    for a in "${cmd[@]}"; do line+="$(sq "$a") "; done
    args+=(--prepare "$(prepare_of "$t" "$d")" -n "$t" "$line")
    timed+=("$t")
  done
  ((${#timed[@]})) || continue
  log "workload ${w^^}: hyperfine, 1 warm-up + $runs run(s) of ${timed[*]}"
  total=$(((runs + 1) * ${#timed[@]} * ${limit[$w]}))
  if timeout -k 10 "$total" hyperfine -N --style basic --warmup 1 --runs "$runs" \
      --export-csv "$tmp/times.$w.csv" "${args[@]}" >&2; then
    # command,mean,stddev,median,user,system,min,max (seconds)
    while IFS=, read -r name _mean _sd median _user _sys mn mx; do
      med[$name.$w]="$median"; tmin[$name.$w]="$mn"; tmax[$name.$w]="$mx"
    done < <(tail -n +2 "$tmp/times.$w.csv")
  else
    log "workload ${w^^}: hyperfine failed or timed out"
  fi
  rm -rf "$tmp"/timed.*
done

# --- report -----------------------------------------------------------------------------
fmt_int() { [[ $1 =~ ^[0-9]+$ ]] && sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1" || printf '%s' "$1"; }
ms() { awk -v v="$1" 'BEGIN { if (v == "") print "?"; else printf "%.1f", v * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "?"; else printf "%.1fx", a / b }'; }
wname() { [[ $1 == a ]] && echo "A: ${#list_a[@]} binaries" || echo "B: /usr/bin, ${#list_b[@]} ELF"; }

quick_note=""
((quick)) && quick_note=" (--quick)"
echo "## minipod rootfs build vs lddtree, dracut-install${quick_note}"
echo
echo "- machine: $(nproc) vCPU, kernel $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null || echo '?'), $(date -u '+%Y-%m-%d %H:%M UTC'), load average before timing: $load_at_start"
echo "- trees written to $(findmnt -n -o FSTYPE -T "$tmp" 2>/dev/null || echo '?') ($(dirname "$tmp")), the filesystem /usr is on: $([[ $(stat -c %d "$tmp") == $(stat -c %d /usr) ]] && echo yes || echo no)"
echo "- time: hyperfine -N, 1 warm-up run, then $runs_a runs (A) and $runs_b (B); median, min-max in brackets; before each run the previous tree is deleted and \`sync\` writes back dirty pages, so no run pays for the one before"
echo "- A: ${list_a[*]##*/} (absolute paths found with PATH=/usr/sbin:/usr/bin:/sbin:/bin)"
echo "- B: every ELF file in /usr/bin: $b_total ($b_links symlinks to ELF files, passed as they are), $((b_total - ${#list_b[@]})) set aside (below); minipod with --allow-missing, lddtree with --skip-missing --skip-non-elfs, dracut-install with -o"
declare -A shown=(
  [minipod]="$minipod_bin (measured from a copy): rootfs build -o DEST"
  [lddtree]="/usr/bin/python3 $lddtree_py --copy-to-tree DEST"
  [dracut-install]="$dracut_install -D DEST -l -a"
)
for t in "${tools[@]}"; do
  case "${state[$t]}" in
    ok) echo "- $t: ${shown[$t]}, ${version[$t]}" ;;
    pending) echo "- $t: $minipod_bin: pending (not built)" ;;
    *) echo "- $t: not installed" ;;
  esac
done
echo
echo "| tool | workload | time, median (ms) | ratio to minipod | files | bytes | all entries | symlinks | inputs in tree | \`bash -c true\` in chroot | inputs that load in chroot |"
echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
for w in a b; do
  declare -n list="list_$w"
  nref="$(wc -l <"$tmp/loads.host.$w")"
  for t in "${tools[@]}"; do
    k="$t.$w"
    if [[ ${status[$k]} != ok ]]; then
      echo "| $t | $(wname "$w") | ${status[$k]} | | | | | | | | |"
      continue
    fi
    tm="?"
    [[ -n ${med[$k]:-} ]] && tm="$(ms "${med[$k]}") [$(ms "${tmin[$k]}")-$(ms "${tmax[$k]}")]"
    r="$(ratio "${med[$k]:-}" "${med[minipod.$w]:-}")"
    echo "| $t | $(wname "$w") | $tm | $r | $(fmt_int "${files[$k]}") | $(fmt_int "${bytes[$k]}") | $(fmt_int "${entries[$k]}") | $(fmt_int "${links[$k]}") | ${got[$k]}/${#list[@]} | ${bash_ok[$k]} | ${loads[$k]}/$nref |"
  done
  unset -n list
done
echo
echo "*inputs that load*: of the inputs for which \`$ldso --list\` finds every library on the host, those for which it also does in \`chroot TREE\` (no tree has an ld.so.cache, so libraries found only through /etc/ld.so.conf.d are missed by all)."
if ((${#excluded[@]})); then
  echo
  echo "Inputs of B set aside because minipod stops on them (every tool was measured without them):"
  echo
  printf '%s\n' "${excluded[@]}" | awk -F': ' '{ r = substr($0, length($1) + 3); n[r] = n[r] ? n[r] ", " $1 : $1; c[r]++ }
    END { for (r in n) printf "- %d: %s -- %s\n", c[r], n[r], r }' | sort
fi

# Why a tree is larger: the regular files only one side holds, as paths in
# the tree and as the host files they are copies of (realpath on the host:
# lib/x86_64-linux-gnu/libz.so.1 and usr/lib/x86_64-linux-gnu/libz.so.1.2.13
# are the same file).
host_files() {  # tree -> sorted host paths of its regular files, one per file
  (cd "$1" && find . -type f -printf '/%P\n') | while IFS= read -r p; do
    realpath -e "$p" 2>/dev/null || printf '%s (not on the host)\n' "$p"
  done | sort
}
explain() {
  local w="$1" peer="$2" m="$tmp/tree.minipod.$1" o="$tmp/tree.$2.$1"
  echo
  echo "Workload ${w^^}: minipod's tree holds more than $peer's (files ${files[minipod.$w]} vs ${files[$peer.$w]}, bytes $(fmt_int "${bytes[minipod.$w]}") vs $(fmt_int "${bytes[$peer.$w]}")). Regular files by the host file they copy:"
  echo
  host_files "$m" >"$tmp/hf.m"
  host_files "$o" >"$tmp/hf.o"
  comm -23 "$tmp/hf.m" "$tmp/hf.o" >"$tmp/hf.only_m"
  comm -13 "$tmp/hf.m" "$tmp/hf.o" >"$tmp/hf.only_o"
  sum() { local s=0 f; while IFS= read -r f; do [[ -f $f ]] && s=$((s + $(stat -c %s "$f"))); done <"$1"; echo "$s"; }
  echo '```'
  echo "only in minipod's tree: $(wc -l <"$tmp/hf.only_m") file(s), $(fmt_int "$(sum "$tmp/hf.only_m")") bytes"
  uniq -c "$tmp/hf.only_m" | head -n 8 | sed 's/^/  /'
  echo "only in $peer's tree: $(wc -l <"$tmp/hf.only_o") file(s), $(fmt_int "$(sum "$tmp/hf.only_o")") bytes"
  uniq -c "$tmp/hf.only_o" | head -n 8 | sed 's/^/  /'
  echo '```'
}
for w in a b; do
  for peer in lddtree dracut-install; do
    [[ ${status[minipod.$w]} == ok && ${status[$peer.$w]} == ok ]] || continue
    if ((${files[minipod.$w]} > ${files[$peer.$w]} || ${bytes[minipod.$w]} > ${bytes[$peer.$w]})); then
      explain "$w" "$peer"
    fi
  done
done

echo
echo "### Targets for minipod (this run)"
echo
verdict() { if [[ $1 == 1 ]]; then echo PASS; elif [[ $1 == 0 ]]; then echo FAIL; else echo "n/a"; fi; }
for w in a b; do
  k=minipod.$w; l=lddtree.$w
  if [[ -n ${med[$k]:-} && -n ${med[$l]:-} ]]; then
    ok="$(awk -v a="${med[$l]}" -v b="${med[$k]}" 'BEGIN { print (a / b >= 10) ? 1 : 0 }')"
    echo "- at least 10x faster than lddtree, $(wname "$w"): $(ratio "${med[$l]}" "${med[$k]}") ($(ms "${med[$k]}") vs $(ms "${med[$l]}") ms): $(verdict "$ok")"
  else
    echo "- at least 10x faster than lddtree, $(wname "$w"): n/a (minipod ${status[$k]}, lddtree ${status[$l]})"
  fi
done
for w in a b; do
  for peer in lddtree dracut-install; do
    k=minipod.$w; p=$peer.$w
    if [[ ${status[$k]} == ok && ${status[$p]} == ok ]]; then
      ok=$(((${files[$k]} <= ${files[$p]} && ${bytes[$k]} <= ${bytes[$p]}) ? 1 : 0))
      echo "- never a larger tree than $peer's, $(wname "$w"): ${files[$k]} vs ${files[$p]} files, $(fmt_int "${bytes[$k]}") vs $(fmt_int "${bytes[$p]}") bytes: $(verdict "$ok")"
    else
      echo "- never a larger tree than $peer's, $(wname "$w"): n/a (minipod ${status[$k]}, $peer ${status[$p]})"
    fi
  done
done
echo "- every input of B accepted: $( ((${#excluded[@]})) && echo "FAIL (${#excluded[@]} of $b_total set aside, listed above)" || echo PASS)"
for w in a b; do
  case "${bash_ok[minipod.$w]:-}" in yes) v=1 ;; no) v=0 ;; *) v=x ;; esac
  echo "- \`chroot TREE bash -c true\` works, $(wname "$w"): $(verdict "$v")"
done
