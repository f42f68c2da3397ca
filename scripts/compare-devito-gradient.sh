#!/usr/bin/env bash
# The FWI gradient of pdeinv against Devito on the same job, measured in one
# run: benches/scenarios/gradient-600.toml is the job of
# `../shared/anchors/run.sh devito-gradient 600 1500 8 [checkpointing]`.
# Per round, one after the other: pdeinv's binomial:7 and store-all
# gradients (`pdeinv checkpoint-bench`), Devito + pyrevolve with its 7
# checkpoints (its gradient call runs the forward sweep with checkpoints and
# the reverse sweep), and Devito with the saved wavefield (forward with
# save, then gradient). Per-round ratios and medians are printed (this
# machine's speed drifts between runs). Usage:
#   scripts/compare-devito-gradient.sh [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${1:-5}
anchors=../shared/anchors/run.sh
cargo build --release --quiet
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
binomial=(); store=(); revolve=(); saved=(); r_binomial=(); r_store=()
for round in $(seq "$repeat"); do
  table=$(target/release/pdeinv checkpoint-bench --quiet benches/scenarios/gradient-600.toml \
    --strategies binomial:7,store-all)
  b=$(awk '$1 == "binomial:7" {print $5}' <<<"$table")
  s=$(awk '$1 == "store-all" {print $5}' <<<"$table")
  d=$($anchors devito-gradient 600 1500 8 checkpointing | sed -n 's/.* grad=\([0-9.]*\)s.*/\1/p')
  line=$($anchors devito-gradient 600 1500 8)
  f=$(sed -n 's/.* fwd=\([0-9.]*\)s.*/\1/p' <<<"$line")
  g=$(sed -n 's/.* grad=\([0-9.]*\)s.*/\1/p' <<<"$line")
  e=$(awk -v f="$f" -v g="$g" 'BEGIN {printf "%.3f", f + g}')
  binomial+=("$b"); store+=("$s"); revolve+=("$d"); saved+=("$e")
  r_binomial+=("$(ratio "$d" "$b")"); r_store+=("$(ratio "$e" "$s")")
  echo "round $round: binomial:7 $b s vs Devito+pyrevolve $d s (${r_binomial[-1]}x); store-all $s s vs Devito saved wavefield $e s (${r_store[-1]}x)"
done
echo "median binomial:7 = $(median "${binomial[@]}") s, Devito+pyrevolve = $(median "${revolve[@]}") s, per-round ratios ${r_binomial[*]} (median $(median "${r_binomial[@]}")x)"
echo "median store-all = $(median "${store[@]}") s, Devito saved wavefield = $(median "${saved[@]}") s, per-round ratios ${r_store[*]} (median $(median "${r_store[@]}")x)"
