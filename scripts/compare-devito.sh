#!/usr/bin/env bash
# Forward throughput of pdeinv against Devito on the same job, measured in
# one run: N x N grid, NT steps, space order SO, f32. The two run alternately
# REPEAT times (this machine's speed drifts); medians and their ratio are
# printed. Usage: scripts/compare-devito.sh [N] [NT] [SO] [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}; nt=${2:-1000}; so=${3:-8}; repeat=${4:-5}
anchors=../shared/anchors/run.sh
cargo build --release --quiet
ours=(); theirs=()
for _ in $(seq "$repeat"); do
  ours+=("$(target/release/pdeinv bench forward --shape "$n,$n" --nt "$nt" --order "$so" | sed -n 's/^Mpts\/s = //p')")
  theirs+=("$($anchors devito-forward "$n" "$nt" "$so" | sed -n 's/.*Mpts\/s=//p')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mo=$(median "${ours[@]}"); mt=$(median "${theirs[@]}")
echo "pdeinv Mpts/s: ${ours[*]}"
echo "devito Mpts/s: ${theirs[*]}"
echo "median pdeinv = $mo, median devito = $mt, ratio = $(awk -v a="$mo" -v b="$mt" 'BEGIN {printf "%.2f", a/b}')"
