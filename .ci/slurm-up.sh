#!/usr/bin/env bash
# Bring up a throw-away single-node SLURM cluster on Debian 12 as root (no systemd needed).
# Used by .ci/slurm_check.sh; the recipe and its pitfalls are in the project's notes (shared/notes/slurm.md).
# WITH_DBD=1 (default) also starts MariaDB + slurmdbd so that `sacct` works (Snakemake's default status command).
# WITH_DBD=0: no accounting; then Snakemake must use `slurm-status-command: squeue`.
# PIDs of every daemon started are written to $PIDDIR/*.pid (stop with slurm-down.sh).
set -euo pipefail
WITH_DBD=${WITH_DBD:-1}
PIDDIR=${PIDDIR:-/tmp/slurm-ci}
CLUSTER=${CLUSTER:-ci}
mkdir -p "$PIDDIR"
export DEBIAN_FRONTEND=noninteractive

wait_for() { # wait_for SECONDS CMD...
  local t=$1; shift; local i
  for ((i = 0; i < t * 4; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "timeout waiting for: $*" >&2; return 1
}

# --- packages (daemons must not be auto-started by postinst) ---
if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi
PKGS="slurmctld slurmd slurm-client munge"
[ "$WITH_DBD" = 1 ] && PKGS="$PKGS slurmdbd mariadb-server"
apt-get update -qq
apt-get install -y -qq --no-install-recommends $PKGS >/dev/null

# --- munge ---
[ -s /etc/munge/munge.key ] || { dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
install -d -o munge -g munge -m 0755 /run/munge
runuser -u munge -- /usr/sbin/munged          # daemonizes, writes /run/munge/munged.pid
wait_for 10 test -s /run/munge/munged.pid
cp /run/munge/munged.pid "$PIDDIR/munged.pid"
munge -n | unmunge >/dev/null

# --- slurm.conf ---
H=$(hostname -s)
MEM=$(( $(free -m | awk '/^Mem:/{print $2}') - 1024 ))
NCPU=$(nproc)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
if [ "$WITH_DBD" = 1 ]; then ACCT="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost"; else ACCT="AccountingStorageType=accounting_storage/none"; fi
cat > /etc/slurm/slurm.conf <<EOF
ClusterName=$CLUSTER
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=500
MpiDefault=none
ReturnToService=2
MinJobAge=300
KillWait=5
$ACCT
JobCompType=jobcomp/none
NodeName=$H NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP
EOF

# --- optional accounting: MariaDB + slurmdbd ---
if [ "$WITH_DBD" = 1 ]; then
  install -d -o mysql -g mysql /run/mysqld
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null
  setsid /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 > /var/log/slurm/mariadb.log 2>&1 < /dev/null &
  echo $! > "$PIDDIR/mariadb.pid"
  wait_for 60 mariadb-admin ping
  mariadb -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmci'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
  cat > /etc/slurm/slurmdbd.conf <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurmci
StorageLoc=slurm_acct_db
EOF
  chmod 600 /etc/slurm/slurmdbd.conf          # slurmdbd refuses a readable file
  /usr/sbin/slurmdbd                           # daemonizes
  wait_for 30 test -s /run/slurmdbd.pid
  cp /run/slurmdbd.pid "$PIDDIR/slurmdbd.pid"
  wait_for 60 sacctmgr -n show cluster
  sacctmgr -i add cluster "$CLUSTER" >/dev/null || true
fi

# --- controller + node daemon ---
/usr/sbin/slurmctld -i                         # -i: ignore stale/missing state files
wait_for 30 test -s /run/slurmctld.pid
cp /run/slurmctld.pid "$PIDDIR/slurmctld.pid"
wait_for 30 scontrol ping
/usr/sbin/slurmd
wait_for 30 test -s /run/slurmd.pid
cp /run/slurmd.pid "$PIDDIR/slurmd.pid"
wait_for 60 bash -c '[ "$(sinfo -h -N -o %T | head -1)" = idle ]'
sinfo
srun -t 1 hostname
