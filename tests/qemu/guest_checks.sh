# Runs inside the VM (busybox sh, as root, cgroup v2 at /sys/fs/cgroup, the
# initramfs as the root), as the command of minipod-init --boot: a pod with
# two containers and `minipod run`'s cgroup v2 limits, one "PASS: NAME" or
# "FAIL: NAME: why" line per check. Exits 0 only when every check passed.
busybox --install -s /bin
export PATH=/usr/bin:/bin
passed=0
failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }

# The pid of a running container NAME (its minipod-init, as the VM sees it),
# from `minipod ps --json`.
pid_of() {
  minipod ps --json | tr -d ' \n' | sed 's/},{/}\n{/g' | grep "\"name\":\"$1\"" |
    sed -n 's/.*"pid":\([0-9]*\).*/\1/p'
}
# The cgroup directory of pid $1 (cgroup v2: one "0::PATH" line).
cgroup_of() { echo "/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$1/cgroup")"; }
ns() { readlink "/proc/$1/ns/$2"; }

# --- the pod's namespace matrix ---------------------------------------------
minipod pod create checks >/dev/null || fail "pod create"
minipod run -d --name a --pod checks --bundle /bin/busybox -- busybox sleep 600 >/dev/null || fail "run -d a"
minipod run -d --name b --pod checks --bundle /bin/busybox -- busybox sleep 600 >/dev/null || fail "run -d b"
a=$(pid_of a)
b=$(pid_of b)
holder=$(minipod pod inspect --json checks | sed -n 's/.*"holder_pid": *\([0-9]*\).*/\1/p')
if [ -z "$a" ] || [ -z "$b" ] || [ -z "$holder" ]; then
  fail "pod pids: a='$a' b='$b' holder='$holder'"
else
  for t in mnt uts pid; do
    if [ "$(ns "$a" $t)" != "$(ns "$b" $t)" ] && [ "$(ns "$a" $t)" != "$(ns 1 $t)" ] &&
      [ "$(ns "$b" $t)" != "$(ns 1 $t)" ]; then
      pass "$t: each container its own"
    else
      fail "$t: a $(ns "$a" $t), b $(ns "$b" $t), the VM $(ns 1 $t)"
    fi
  done
  for t in net ipc; do
    if [ "$(ns "$a" $t)" = "$(ns "$holder" $t)" ] && [ "$(ns "$b" $t)" = "$(ns "$holder" $t)" ] &&
      [ "$(ns "$a" $t)" != "$(ns 1 $t)" ]; then
      pass "$t: the pod's, shared"
    else
      fail "$t: a $(ns "$a" $t), b $(ns "$b" $t), holder $(ns "$holder" $t), the VM $(ns 1 $t)"
    fi
  done
  for t in cgroup user; do
    if [ "$(ns "$a" $t)" = "$(ns 1 $t)" ] && [ "$(ns "$b" $t)" = "$(ns 1 $t)" ]; then
      pass "$t: the VM's"
    else
      fail "$t: a $(ns "$a" $t), b $(ns "$b" $t), the VM $(ns 1 $t)"
    fi
  done
  # The table `pod inspect` prints says the same.
  table=$(minipod pod inspect checks)
  if echo "$table" | grep -q '^ *net .*pod' && echo "$table" | grep -q '^ *mnt .*own'; then
    pass "pod inspect: net is the pod's, mnt each container's own"
  else
    fail "pod inspect's table: $table"
  fi
  # exec joins the container: its pid namespace, PID 1 being the init.
  seen=$(minipod exec a -- busybox sh -c 'readlink /proc/self/ns/pid; readlink /proc/1/exe' 2>&1 | tr '\n' ' ')
  if [ "$seen" = "$(ns "$a" pid) /dev/init " ]; then
    pass "exec: in container a's pid namespace, whose PID 1 is /dev/init"
  else
    fail "exec: sees '$seen', container a's pid namespace is $(ns "$a" pid)"
  fi
  # Its root is stacked on the initramfs: no chroot out of it, neither in
  # the container nor through exec (RootIsRootfs: CAP_SYS_CHROOT dropped).
  if minipod exec a -- busybox chroot / busybox true 2>/dev/null; then
    fail "chroot: allowed to exec in a container whose root sits on the initramfs"
  elif minipod run --bundle /bin/busybox -- busybox chroot / busybox true 2>/dev/null; then
    fail "chroot: allowed in a container whose root sits on the initramfs"
  else
    pass "chroot: refused in a container whose root sits on the initramfs, and in exec"
  fi
  out=$(minipod run --cap-add SYS_CHROOT --bundle /bin/busybox -- busybox true 2>&1)
  status=$?
  if [ $status = 125 ] && echo "$out" | grep -q "runs from its initramfs"; then
    pass "--cap-add SYS_CHROOT: refused (125)"
  else
    fail "--cap-add SYS_CHROOT: status $status, output: $out"
  fi
fi
cg_a=$(cgroup_of "${a:-1}")
minipod pod rm -f checks >/dev/null || fail "pod rm -f"
if [ -z "$(minipod ps -a --json | tr -d ' \n[]')" ] && [ ! -d "$cg_a" ]; then
  pass "pod rm -f: no container and no cgroup ($cg_a) left"
else
  fail "pod rm -f: left $(minipod ps -a --json | tr -d '\n'), cgroup $cg_a: $(ls -d "$cg_a" 2>&1)"
fi

# --- cgroup v2 limits of minipod run ---------------------------------------
# --memory: the command allocates (and touches) 64 MiB under a 32 MiB limit.
out=$(minipod run --memory 32m --bundle /bin/busybox -- busybox dd if=/dev/zero of=/dev/null bs=64M count=1 2>&1)
status=$?
if [ $status = 137 ] && echo "$out" | grep -q "OOM killer"; then
  pass "--memory 32m: OOM kill, status 137, reported"
else
  fail "--memory 32m: status $status, output: $out"
fi
# The same in a detached container: memory.events counts the kill.
minipod run -d --name mem --memory 32m --bundle /bin/busybox -- busybox sleep 600 >/dev/null
mem=$(pid_of mem)
cg=$(cgroup_of "${mem:-1}")
minipod exec mem -- busybox dd if=/dev/zero of=/dev/null bs=64M count=1 >/dev/null 2>&1
status=$?
if [ -n "$mem" ] && [ "$(cat "$cg/memory.max")" = 33554432 ] && [ $status = 137 ] &&
  grep -q '^oom_kill [1-9]' "$cg/memory.events"; then
  pass "--memory 32m: memory.max 33554432, exec OOM-killed (137), memory.events oom_kill $(sed -n 's/^oom_kill //p' "$cg/memory.events")"
else
  fail "--memory 32m (run -d): pid '$mem', $cg: memory.max $(cat "$cg/memory.max" 2>&1), exec status $status, $(cat "$cg/memory.events" 2>&1 | tr '\n' ' ')"
fi
minipod rm -f mem >/dev/null
[ -d "$cg" ] && fail "rm -f mem: cgroup $cg left" || pass "rm -f: cgroup $cg removed"

# --pids: a shell that forks 20 sleeps under a limit of 8 tasks fails to.
out=$(minipod run --pids 8 --bundle /bin/busybox -- busybox sh -c \
  'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do busybox sleep 30 & done; echo forked all' 2>&1)
status=$?
if [ $status != 0 ] && ! echo "$out" | grep -q "forked all" && echo "$out" | grep -qi "fork"; then
  pass "--pids 8: fork beyond the limit fails (status $status)"
else
  fail "--pids 8: status $status, output: $out"
fi

# --cpus: cpu.max holds the quota, over the 100 ms period.
minipod run -d --name cpu --cpus 0.5 --pids 16 --bundle /bin/busybox -- busybox sleep 600 >/dev/null
cpu=$(pid_of cpu)
cg=$(cgroup_of "${cpu:-1}")
if [ -n "$cpu" ] && [ "$(cat "$cg/cpu.max")" = "50000 100000" ] && [ "$(cat "$cg/pids.max")" = 16 ]; then
  pass "--cpus 0.5: cpu.max '50000 100000' (and pids.max 16) in $cg"
else
  fail "--cpus 0.5: pid '$cpu', $cg: cpu.max '$(cat "$cg/cpu.max" 2>&1)', pids.max '$(cat "$cg/pids.max" 2>&1)'"
fi
minipod rm -f cpu >/dev/null
[ -d "$cg" ] && fail "rm -f cpu: cgroup $cg left" || pass "rm -f: cgroup $cg removed"

# A run that ended leaves no cgroup of minipod's behind either.
left=$(find /sys/fs/cgroup -mindepth 1 -type d | grep -v '^/sys/fs/cgroup/minipod$')
if [ -z "$left" ]; then
  pass "no cgroup left below /sys/fs/cgroup"
else
  fail "cgroups left: $left"
fi

echo "checks: $passed passed, $failed failed"
[ $failed = 0 ]
