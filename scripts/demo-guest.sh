# The demo's part inside the VM (busybox sh, run by minipod-init --boot as
# the guest command): PID 1, a pod made by hand with two containers, its
# namespace table, a memory limit enforced by cgroup v2. Exits 0 when every
# step did what it shows, 1 otherwise; minipod-init hands that to the host.
busybox --install -s /bin
export PATH=/usr/bin:/bin
ok=0
step() { echo; echo "== guest: $*"; }
bad() { echo "guest: UNEXPECTED: $*"; ok=1; }

step "PID 1 of this machine"
echo "/proc/1/exe -> $(readlink /proc/1/exe), $(/proc/1/exe --version)"
[ "$(/proc/1/exe --version | cut -d' ' -f1)" = minipod-init ] || bad "PID 1 is not minipod-init"
echo "kernel $(uname -r), cgroup2 on /sys/fs/cgroup with: $(cat /sys/fs/cgroup/cgroup.subtree_control)"

step "a pod by hand: its holder, then two busybox containers that join it"
mkdir -p /srv/www && echo "hello from the pod" >/srv/www/index.html
minipod pod create demo || bad "pod create"
minipod run -d --name web --pod demo --bind /srv/www:/www --bundle /bin/busybox -- busybox httpd -f -p 80 -h /www ||
  bad "run -d web"
minipod run -d --name shell --pod demo --bundle /bin/busybox -- busybox sleep 600 || bad "run -d shell"
minipod ps
got=
for _ in 1 2 3 4 5 6 7 8 9 10; do
  got=$(minipod exec shell -- busybox wget -qO- http://127.0.0.1/ 2>/dev/null) && break
  sleep 0.2
done
echo "shell fetches 127.0.0.1:80, web's server over the pod's loopback: $got"
[ "$got" = "hello from the pod" ] || bad "the fetch over the pod's loopback"

step "minipod pod inspect demo: mnt, uts and pid are each container's own, net and ipc the pod's, cgroup and user the VM's"
minipod pod inspect demo || bad "pod inspect"

step "minipod run --memory 32m: a command that allocates 64 MiB"
minipod run --memory 32m --bundle /bin/busybox -- busybox dd if=/dev/zero of=/dev/null bs=64M count=1
status=$?
echo "minipod run exited $status (128 + SIGKILL: the kernel's OOM killer, cgroup v2 memory.max)"
[ $status = 137 ] || bad "the memory limit: status $status, not 137"

step "cleaning up"
minipod pod rm -f demo || bad "pod rm -f"
left=$(minipod ps -a --json | tr -d ' \n')
echo "containers left: $left; cgroups left: $(find /sys/fs/cgroup -mindepth 1 -type d | wc -l)"
[ "$left" = "[]" ] || bad "containers left behind"
echo
if [ $ok = 0 ]; then echo "== guest: all as shown; powering off with status 0"; else echo "== guest: powering off with status 1"; fi
exit $ok
