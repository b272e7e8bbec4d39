#!/usr/bin/env bash
# The GPU check, run on a machine with a CUDA GPU from the repository root:
#   bash benchmarks/gpu_check.sh [OUTDIR]
# It runs the CUDA tests (and the CPU ones beside them), then the trainer benchmark on the GPU and on
# the same machine's CPU, and writes everything under OUTDIR (default: benchmarks/out).
set -uo pipefail
out=${1:-${OUT:-benchmarks/out}}
mkdir -p "$out"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; nproc; python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } 2>&1 | tee "$out/machine.txt"
python3 -m pytest -q -rs -p no:cacheprovider tests/test_cuda.py tests/test_population.py tests/test_train.py 2>&1 | tee "$out/pytest.txt"
python3 benchmarks/bench_trainers.py --device cuda --dims 256 512 1024 2048 2>&1 | tee "$out/bench_cuda.txt"
python3 benchmarks/bench_trainers.py --device cpu --threads "$(nproc)" --dims 256 512 1024 --skip-target 2>&1 | tee "$out/bench_cpu.txt"
