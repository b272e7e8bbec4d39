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
