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

# The proxies each benchmark was scored with on a 2-core CPU: every first-party proxy but ntk (20 to 250 CPU-s per
# network on NAS-Bench-201 and NAS-Bench-Macro), and ntk too on nbzero-mini (see README.md).
NB201_PROXIES=flops,params,depth,l2_norm,synflow,zen,snip,grad_norm,fisher,plain,grasp,jacob_cov,naswot,zico
MACRO_PROXIES=$NB201_PROXIES
COMMON_PROXIES=$NB201_PROXIES  # scored on every benchmark here
# nbzero-mini version 2 (R1, R2, MB; trained by zsbench, noise ceilings 0.83 to 0.88): every first-party proxy
NBZERO_PROXIES=flops,params,depth,l2_norm,synflow,zen,snip,grad_norm,fisher,plain,grasp,jacob_cov,naswot,zico,ntk

ONLY=${ONLY:-}
selected() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

score() {  # benchmark, limit option, proxies
  selected "$1" || return 0
  zsbench evaluate --benchmark "$1" $2 --proxies "$3" --cache "$CACHE" --bootstrap 0 --quiet \
    --output "scores/$1.parquet" > /dev/null
}
score nb201-cifar10 "--limit 1000" "$NB201_PROXIES"
score nasbench-macro-cifar10 "--limit 100" "$MACRO_PROXIES"
for bench in nbzero-mini-v2-r1 nbzero-mini-v2-r2 nbzero-mini-v2-mb; do score "$bench" "" "$NBZERO_PROXIES"; done

declare -A SPACE=([nb201-cifar10]=nb201 [nasbench-macro-cifar10]=nasbench-macro
  [nbzero-mini-v2-r1]=R1 [nbzero-mini-v2-r2]=R2 [nbzero-mini-v2-mb]=MB)
ALL=(nb201-cifar10 nasbench-macro-cifar10 nbzero-mini-v2-r1 nbzero-mini-v2-r2 nbzero-mini-v2-mb)
for bench in "${ALL[@]}"; do
  selected "$bench" || continue
  others=$(for o in "${ALL[@]}"; do if [ "$o" != "$bench" ]; then printf 'scores/%s.parquet,' "$o"; fi; done)
  common=(--scores "scores/$bench.parquet" --space "${SPACE[$bench]}")
  # every subset of up to 4 members (FLOPs and params included) under rank_sum, log_rank, zscore and vote,
  # ranked by mBR under FLOPs; the winners of each size evaluated on the other benchmarks
  zsbench hybrid "${common[@]}" --rules rank_sum,log_rank,zscore,vote --transfer "${others%,}" --wide > "$bench.hybrid.txt"
  zsbench hybrid "${common[@]}" --rules rank_sum,log_rank,zscore,vote --json > "$bench.hybrid.json"
  # ntk was scored on nbzero-mini only: there, the search again without it, over the members scored on every
  # benchmark, so that every winner can be evaluated everywhere
  if [[ "$bench" == nbzero-mini-* ]]; then
    zsbench hybrid "${common[@]}" --proxies "$COMMON_PROXIES" --rules rank_sum,log_rank,zscore,vote \
      --transfer "${others%,}" --wide > "$bench.hybrid-common.txt"
  fi
  # the learned rule (XGBoost, out of fold), pairs only: five fits per candidate
  zsbench hybrid "${common[@]}" --rules learned --max-size 2 --top 3 --wide > "$bench.learned.txt"
  zsbench analyze importance "${common[@]}" --wide > "$bench.importance.txt"
  # each proxy's pick per FLOPs budget with its widths and depths (Figure 8), and the picks judged by each ranking (Figure 1)
  zsbench analyze picks "${common[@]}" --wide > "$bench.picks.txt"
  zsbench analyze agreement "${common[@]}" --wide > "$bench.agreement.txt"
done

# proxies x benchmarks (mBR under FLOPs and the accuracy of the overall pick) beside NAS-Bench-Zero's Tables 2 and 3
zsbench analyze transfer --scores "$(printf 'scores/%s.parquet,' "${ALL[@]}" | sed 's/,$//')" --published nbzero --wide > transfer.txt
