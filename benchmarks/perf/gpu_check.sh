#!/usr/bin/env bash
# The GPU figures in one run: the proxy suite in units of one CE forward+backward, evaluate's
# throughput, ntk's exact methods, and what one network of the `paper` recipe costs.
#
# For a machine with a CUDA GPU and PyTorch but no network access. Prepare the data subset
# where the full data root is, then run this from the repository root there:
#
#     ZSBENCH_DATA=<data-root> python benchmarks/perf/gpu_data.py --out .gpu-data   # about 25 MB
#     ZSBENCH_DATA=.gpu-data OUT=<folder> bash benchmarks/perf/gpu_check.sh
#
# zsbench is installed from this checkout without dependencies (torch, numpy, scipy, pandas,
# pluggy, rich and typer must be there already). Every step has its own time limit, so that
# one slow step cannot take the others' time: about 9 minutes at most, 5 to 6 expected.
# Each step's output is written to $OUT/<step>.txt.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-gpu-check}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
PY="${PYTHON:-python3}"
DEVICE="${DEVICE:-cuda}"  # DEVICE=cpu checks the wiring on a machine without a GPU (slowly)

step() {  # name seconds command...
    local name=$1 limit=$2
    shift 2
    echo "=== $name (at most ${limit} s)"
    local start=$SECONDS
    timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.txt"
    echo "=== $name: exit ${PIPESTATUS[0]} after $((SECONDS - start)) s" | tee -a "$OUT/$name.txt"
}

step install 120 "$PY" -m pip install -q --no-deps --no-build-isolation --no-index -e .
step device 30 "$PY" -c "import torch, zsbench; print(torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU', 'zsbench', zsbench.__version__, 'proxies', len(zsbench.get_host().proxies.names()))"
# the 14 and the 13 first-party proxies other than ntk, shared passes against one at a time
step suite 150 "$PY" benchmarks/perf/suite_perf.py --device "$DEVICE" --spaces nb201,R1,MB --archs 2 --repeats 3
# architectures per second of `zsbench evaluate --device`, every proxy, ntk included
step throughput 150 "$PY" benchmarks/perf/throughput.py --device "$DEVICE" --proxies all --archs 100 --workers 1 --memory-archs 0
# ntk's exact methods: on a GPU the batched ones may use parallelism a CPU thread lacks
step ntk 90 "$PY" benchmarks/perf/ntk_methods.py --device "$DEVICE" --spaces nb201,MB --chunks 8,64 --methods per-row,batched,vmap-vjp,per-layer
# networks per hour of the paper recipe, one network at a time
step paper 120 "$PY" benchmarks/perf/paper_recipe_speed.py --device "$DEVICE" --spaces R1,MB --archs 2 --epochs 3
echo "outputs in $OUT"
