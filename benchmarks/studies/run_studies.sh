#!/usr/bin/env bash
# Reproduces every table of this folder. Scores are read from the score cache (only missing ones are
# computed, with zsbench evaluate's default seeds and batch), written once per benchmark to scores/, and
# every study reads those files: no study recomputes a score.
#
# usage: CACHE=<cache-file> bash benchmarks/studies/run_studies.sh
#        CACHE=<cache-file> ONLY=nb201-cifar10 bash benchmarks/studies/run_studies.sh   # one benchmark's scores and
#        studies again; the transfer columns read the other benchmarks' committed scores/ files
set -euo pipefail
cd "$(dirname "$0")"
CACHE=${CACHE:?set CACHE to the score cache file (zsbench evaluate --cache)}
mkdir -p scores

# The proxies each benchmark was scored with on a shared 2-core CPU (see README.md for why not all).
NB201_PROXIES=flops,params,depth,l2_norm,synflow,zen,snip,grad_norm,fisher,plain,grasp,jacob_cov,naswot,zico
MACRO_PROXIES=flops,params,depth,l2_norm,synflow,zen
NBZERO_PROXIES=flops,params,depth,l2_norm,synflow,zen,snip,grad_norm,fisher,plain,jacob_cov,naswot,zico,myidea

ONLY=${ONLY:-}
selected() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

score() {  # benchmark, limit option, proxies
  selected "$1" || return 0
  zsbench evaluate --benchmark "$1" $2 --proxies "$3" --cache "$CACHE" --bootstrap 0 --quiet \
    --output "scores/$1.parquet" > /dev/null
}
score nb201-cifar10 "--limit 1000" "$NB201_PROXIES"
score nasbench-macro-cifar10 "--limit 100" "$MACRO_PROXIES"
score nbzero-mini "" "$NBZERO_PROXIES"

declare -A SPACE=([nb201-cifar10]=nb201 [nasbench-macro-cifar10]=nasbench-macro [nbzero-mini]=R2)
ALL=(nb201-cifar10 nasbench-macro-cifar10 nbzero-mini)
for bench in "${ALL[@]}"; do
  selected "$bench" || continue
  others=$(for o in "${ALL[@]}"; do if [ "$o" != "$bench" ]; then printf 'scores/%s.parquet,' "$o"; fi; done)
  common=(--scores "scores/$bench.parquet" --space "${SPACE[$bench]}")
  # every subset of up to 4 members (FLOPs and params included) under rank_sum, log_rank, zscore and vote,
  # ranked by mBR under FLOPs; the winners of each size evaluated on the two other benchmarks
  zsbench hybrid "${common[@]}" --rules rank_sum,log_rank,zscore,vote --transfer "${others%,}" > "$bench.hybrid.txt"
  zsbench hybrid "${common[@]}" --rules rank_sum,log_rank,zscore,vote --json > "$bench.hybrid.json"
  # the members scored on all three benchmarks (depth, l2_norm, synflow, FLOPs, params), so every winner transfers
  zsbench hybrid "${common[@]}" --proxies depth,l2_norm,synflow --rules rank_sum,log_rank,zscore,vote \
    --transfer "${others%,}" > "$bench.hybrid-common.txt"
  # the learned rule (XGBoost, out of fold), pairs only: five fits per candidate
  zsbench hybrid "${common[@]}" --rules learned --max-size 2 --top 3 > "$bench.learned.txt"
  zsbench analyze importance "${common[@]}" > "$bench.importance.txt"
  # each proxy's pick per FLOPs budget with its widths and depths (Figure 8), and the picks judged by each ranking (Figure 1)
  zsbench analyze picks "${common[@]}" > "$bench.picks.txt"
  zsbench analyze agreement "${common[@]}" > "$bench.agreement.txt"
done

# proxies x benchmarks (mBR under FLOPs and the accuracy of the overall pick) beside NAS-Bench-Zero's Tables 2 and 3
zsbench analyze transfer --scores scores/nb201-cifar10.parquet,scores/nasbench-macro-cifar10.parquet,scores/nbzero-mini.parquet \
  --published nbzero > transfer.txt
