#!/bin/bash
# A one-machine Slurm cluster (munge, slurmctld and slurmd on this host, one partition "debug") for the real
# submission test of `lmscope-cli slurm` (tests/app/slurm_cli_test.cpp skips without it). Debian 12, as root, as CI
# runs: installs slurm-wlm and munge with apt when they are missing.
#   tools/slurm-localhost.sh start   installs if needed, writes /etc/slurm/slurm.conf, starts the daemons, waits for
#                                    the node to be idle
#   tools/slurm-localhost.sh stop    stops the daemons this script started (by their pid files)
set -euo pipefail
action=${1:-start}
run_dir=/run/lmscope-slurm
log_dir=/var/log/slurm

stop() {
  for pidfile in "$run_dir/slurmd.pid" "$run_dir/slurmctld.pid" /run/munge/lmscope-munged.pid; do
    [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

if [ "$action" = stop ]; then stop; exit 0; fi
[ "$action" = start ] || { echo "usage: $0 start|stop" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: run as root (it installs packages and starts daemons)" >&2; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge
fi

host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {m = int($2 / 1024) - 1024; print (m > 512 ? m : 512)}' /proc/meminfo)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd "$log_dir" "$run_dir"
# No cgroups: containers rarely let slurmd manage them, and the test needs no confinement.
cat > /etc/slurm/slurm.conf <<EOF
ClusterName=lmscope-local
SlurmctldHost=$host
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$run_dir/slurmctld.pid
SlurmdPidFile=$run_dir/slurmd.pid
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdLogFile=$log_dir/slurmd.log
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
rm -f /etc/slurm/cgroup.conf

# munge: a key (the package makes one; make it if not), then the daemon.
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key --force
  else dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
fi
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! munge -n >/dev/null 2>&1; then
  runuser -u munge -- munged --pid-file=/run/munge/lmscope-munged.pid 2>/dev/null || runuser -u munge -- munged
  sleep 1
fi
munge -n | unmunge >/dev/null || { echo "$0: munge does not work (see /var/log/munge)" >&2; exit 1; }

stop_daemons_of_slurm_only() {
  for pidfile in "$run_dir/slurmd.pid" "$run_dir/slurmctld.pid"; do
    [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
}
stop_daemons_of_slurm_only
sleep 1
slurmctld -i || { echo "$0: slurmctld did not start; $log_dir/slurmctld.log:" >&2; tail -20 "$log_dir/slurmctld.log" >&2; exit 1; }
slurmd || { echo "$0: slurmd did not start; $log_dir/slurmd.log:" >&2; tail -20 "$log_dir/slurmd.log" >&2; exit 1; }
for _ in $(seq 60); do
  if sinfo -h -o %T 2>/dev/null | grep -q idle; then
    echo "slurm on $host: partition debug, $cpus CPUs, idle"
    exit 0
  fi
  scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
  sleep 1
done
echo "$0: the node did not become idle:" >&2
sinfo >&2 || true
tail -20 "$log_dir/slurmd.log" "$log_dir/slurmctld.log" >&2 || true
exit 1
