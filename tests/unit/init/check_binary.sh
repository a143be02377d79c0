#!/bin/bash
# Checks the shipped minipod-init: statically linked, no interpreter, no
# libstdc++ runtime symbols, and at most 28 KiB once stripped (boot mode in).
set -euo pipefail
bin=$1
limit=$((28 * 1024))
fail() { echo "FAIL: $*" >&2; exit 1; }

# Each tool's output is captured first, so that set -e stops the check when
# readelf or nm itself fails (a grep on an empty pipe would pass).
headers=$(readelf -lW "$bin")
dynamic=$(readelf -dW "$bin")
symbols=$(nm "$bin")
[[ -n $symbols ]] || fail "nm found no symbols in $bin (stripped?)"
if grep -q INTERP <<<"$headers"; then fail "$bin has a PT_INTERP"; fi
if grep -q NEEDED <<<"$dynamic"; then fail "$bin has DT_NEEDED entries"; fi
if syms=$(grep -E '__cxa_|__gxx_personality|_Znw|_Znam|_ZdlPv|_Unwind' <<<"$symbols"); then
  fail "C++ runtime symbols in $bin: $syms"
fi
if grep -qwE 'malloc|calloc|realloc' <<<"$symbols"; then
  fail "$bin links a heap allocator"
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
strip -o "$tmp" "$bin"
size=$(stat -c %s "$tmp")
echo "stripped size: $size bytes (limit $limit)"
(( size <= limit )) || fail "stripped size $size exceeds $limit"
