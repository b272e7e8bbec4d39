#!/usr/bin/env bash
# The cluster check: bring up a real single-node SLURM (slurmctld, slurmd, munge, slurmdbd + MariaDB),
# run a small quick preset through `--profile profiles/slurm`, check that every non-local job went through
# SLURM, and that the claims table equals the one of a local run of the same config. Stops every daemon
# it started, by PID. Run as root on Debian 12 from the repository root, with the project installed
# (pip install -e ".[slurm]").
set -euo pipefail
repo=$(pwd)
bash .ci/slurm-up.sh
trap 'bash "$repo/.ci/slurm-down.sh"' EXIT

work=$(mktemp -d)
for side in local slurm; do
  mkdir -p "$work/$side"
  cp -r Snakefile workflow config profiles src environment.yml "$work/$side/"
  # the quick preset's Gaussian and sparse figures on a smaller grid (every rule that runs on SLURM, 11
  # jobs, twice: CI time); the real-data rules need the data sets, which the quick e2e test covers
  cat > "$work/$side/ci.yaml" <<'EOF'
realdata: {datasets: []}
limit: {r: [0.25, 1], runs: {pgd: {d: [64]}}}
dynamics: {r: [0.5]}
covariance: {r: [0.5]}
sparse: {p: [0.1], d: [64], depth: {d: [64]}}
EOF
done

# the local run goes on beside the SLURM run, which spends most of its time waiting for SLURM (CI time);
# both stop at the claims table: the figures, the report and the manifest are local rules (CI time); 6 SLURM
# jobs at once, so local jobs run side by side in the snakemake process
echo "== local run (in the background) and SLURM run"
(cd "$work/local" && timeout -k 10 600 snakemake --cores 1 --workflow-profile none \
   --configfile config/quick.yaml ci.yaml -- results/claims.csv > run.log 2>&1) &
local_pid=$!
(cd "$work/slurm" && timeout -k 10 900 snakemake --profile profiles/slurm --workflow-profile none \
   --jobs 6 --slurm-init-seconds-before-status-checks 1 \
   --configfile config/quick.yaml ci.yaml -- results/claims.csv > run.log 2>&1) || { tail -80 "$work/slurm/run.log"; exit 1; }
wait "$local_pid" || { tail -50 "$work/local/run.log"; exit 1; }

cd "$work/slurm"
remote=$(grep -c "^rule " run.log || true)   # jobs of non-local rules (local ones print "localrule")
submitted=$(grep -c "has been submitted with SLURM jobid" run.log || true)
completed=$(sacct -n -X -P -o JobID,State | grep -c COMPLETED || true)
echo "jobs that ran on SLURM: $submitted submitted, $completed COMPLETED in sacct, $remote non-local jobs"
grep -o "SLURM jobid [0-9]*" run.log | head -3
[ "$submitted" -ge 1 ] && [ "$submitted" -eq "$remote" ] || { echo "not every non-local job went through SLURM"; exit 1; }
[ "$completed" -ge "$submitted" ] || { echo "sacct does not list every submitted job as COMPLETED"; exit 1; }
# local rules run in threads of the snakemake process under a cluster executor: none may enter a shadow
# directory there (an os.chdir moves every thread; workflow/rules/common.smk)
if grep -q "Changing to shadow directory" run.log; then
  echo "a local rule ran in a shadow directory inside the snakemake process"; exit 1
fi
if ! diff -u "$work/local/results/claims.csv" "$work/slurm/results/claims.csv"; then
  echo "claims table differs between the local and the SLURM run"; exit 1
fi
echo "SLURM check passed: $(($(wc -l < results/claims.csv) - 1)) claims, identical to the local run"
