#!/usr/bin/env bash
# Stop exactly the daemons slurm-up.sh started, by PID, in reverse dependency order.
PIDDIR=${PIDDIR:-/tmp/slurm-ci}
for d in slurmd slurmctld slurmdbd mariadb munged; do
  f="$PIDDIR/$d.pid"; [ -s "$f" ] || continue
  p=$(cat "$f"); kill "$p" 2>/dev/null || { rm -f "$f"; continue; }
  for i in $(seq 1 80); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$p" 2>/dev/null; then echo "$d ($p) did not stop, SIGKILL"; kill -9 "$p"; fi
  rm -f "$f"
done
# slurm-up.sh wrote /etc/slurm/slurm.conf: remove it, so that SLURM's client tools fail at once on this
# machine instead of waiting for a controller that is gone (snakemake's SLURM plugin calls
# `scontrol show config` when it is imported, by every snakemake process: about 9 s each).
rm -f /etc/slurm/slurm.conf
