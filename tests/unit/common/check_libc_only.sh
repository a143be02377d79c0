#!/bin/bash
# The init's and minipod-monitor's sources and common/'s top level are
# libc-only: they include no Abseil header and nothing from common/absl/ (the
# glibc side), nor the tools' libraries. Usage:
# check_libc_only.sh SOURCE_ROOT
set -euo pipefail
root=$1
files=("$root"/common/*.h "$root"/init/*.cc "$root"/init/*.h "$root"/monitor/*.cc "$root"/monitor/*.h)
((${#files[@]} > 10)) || { echo "check_libc_only: too few files under $root" >&2; exit 1; }
# grep exits 1 when nothing matches: that is the passing case here.
status=0
matches=$(grep -nE '^#include "(absl/|common/absl/|runtime/|sandbox/|rootfs/|cli/)' "${files[@]}") || status=$?
if ((status == 0)); then
  echo "libc-only sources include the Abseil side:" >&2
  echo "$matches" >&2
  exit 1
fi
((status == 1)) || { echo "check_libc_only: grep failed ($status)" >&2; exit 1; }
echo "checked ${#files[@]} files"
