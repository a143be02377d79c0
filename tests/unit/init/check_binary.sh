#!/bin/bash
# Checks the shipped minipod-init: statically linked, no interpreter, no
# libstdc++ runtime symbols, and at most 24 KiB once stripped.
set -euo pipefail
bin=$1
limit=$((24 * 1024))
fail() { echo "FAIL: $*" >&2; exit 1; }

if readelf -lW "$bin" | grep -q INTERP; then fail "$bin has a PT_INTERP"; fi
if readelf -dW "$bin" 2>/dev/null | grep -q NEEDED; then fail "$bin has DT_NEEDED entries"; fi
syms=$(nm "$bin" 2>/dev/null | grep -E '__cxa_|__gxx_personality|_Znw|_Znam|_ZdlPv|_Unwind' || true)
[[ -z $syms ]] || fail "C++ runtime symbols in $bin: $syms"
if nm "$bin" 2>/dev/null | grep -qwE 'malloc|calloc|realloc'; then
  fail "$bin links a heap allocator"
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
strip -o "$tmp" "$bin"
size=$(stat -c %s "$tmp")
echo "stripped size: $size bytes (limit $limit)"
(( size <= limit )) || fail "stripped size $size exceeds $limit"
