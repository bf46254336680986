#!/usr/bin/env bash
# slurm-local.sh: a throw-away one-node Slurm cluster on localhost, for
# trying tools/scale/grid.sbatch and submit-slurm.sh without a real cluster
# (and for the test in slurm_test.go). No systemd, no file outside DIR.
#
#   slurm-local.sh start DIR   write DIR/slurm.conf and a fresh munge key,
#                              start munged, slurmctld and slurmd (as root),
#                              wait until the node is idle
#   slurm-local.sh stop DIR    cancel every job, stop the three daemons
#                              (their pid files are under DIR); DIR is kept
#                              for its logs: remove it with rm -rf DIR
#
# Then point the Slurm commands at the cluster: export SLURM_CONF=DIR/slurm.conf
#
# Needs root and Debian's packages (Slurm 22.05 on bookworm):
#   apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge
# Environment: SLURM_LOCAL_PORT (slurmctld's port, slurmd takes the next one;
# default 16817), SLURM_LOCAL_TIMEOUT (seconds to wait for the idle node,
# default 60). The node has the machine's CPUs and no memory limit to speak
# of (RealMemory=1); jobs run as the submitting user with no cgroups
# (proctrack/linuxproc, task/none), no accounting (sacct does not work; use
# scontrol show job while the job is younger than MinJobAge, 300 s).
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}

# conf DIR PORT writes DIR/slurm.conf.
conf() {
  local dir=$1 port=$2
  cat >"$dir/slurm.conf" <<EOF
ClusterName=local
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=kill_invalid_depend
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

# logs DIR prints the daemons' logs (on a failed start).
logs() {
  local f
  for f in "$1"/log/*.log; do
    [ -e "$f" ] || continue
    echo "== $f" >&2
    tail -n 40 "$f" >&2
  done
}

start() {
  local dir=$1 port=${SLURM_LOCAL_PORT:-16817} timeout=${SLURM_LOCAL_TIMEOUT:-60}
  local need
  for need in munged slurmctld slurmd sinfo; do
    command -v "$need" >/dev/null || {
      echo "$need is not installed: apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge" >&2
      exit 1
    }
  done
  [ "$(id -u)" = 0 ] || { echo "slurm-local.sh start needs root (SlurmUser=root)" >&2; exit 1; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  # munged wants its socket folder searchable by all and its key private.
  chmod 755 "$dir"
  chmod 711 "$dir/munge"
  head -c 1024 /dev/urandom >"$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
  conf "$dir" "$port"
  # --force: munged refuses root and a key outside /etc/munge without it.
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munged.seed"
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -c -f "$SLURM_CONF" || { logs "$dir"; exit 1; }
  slurmd -N localhost -f "$SLURM_CONF" || { logs "$dir"; exit 1; }
  local waited=0
  # slurmd may register (idle) before it writes its pid file, which stop needs.
  until [ "$(sinfo -h -n localhost -o %t 2>/dev/null)" = idle ] && [ -s "$dir/slurmd.pid" ] &&
    [ -s "$dir/slurmctld.pid" ]; do
    if [ "$waited" -ge "$((timeout * 2))" ]; then
      echo "the node is not idle after ${timeout}s: sinfo says '$(sinfo -h -n localhost -o %t 2>&1)'" >&2
      logs "$dir"
      exit 1
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
  echo "export SLURM_CONF=$SLURM_CONF"
}

# stopfile PIDFILE sends TERM to the daemon named in PIDFILE, then KILL after
# 10 s, and waits until it is gone.
stopfile() {
  local pid i
  [ -s "$1" ] || return 0
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    [ "$i" = 100 ] && kill -9 "$pid" 2>/dev/null
    sleep 0.1
  done
}

stop() {
  local dir=$1 i
  export SLURM_CONF=$dir/slurm.conf
  if [ -s "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
    scancel --quiet --user="$(id -un)" 2>/dev/null || true
    for i in $(seq 1 50); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  stopfile "$dir/slurmd.pid"
  stopfile "$dir/slurmctld.pid"
  stopfile "$dir/munge/munged.pid"
}

[ $# = 2 ] || usage
case $1 in
start) start "$2" ;;
stop) stop "$2" ;;
*) usage ;;
esac
