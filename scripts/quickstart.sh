#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, model the
# 2D camembert scenario (8 shots), and draw the true model and a shot gather.
# Output: out/camembert-data.h5, out/camembert-true.h5 and two PNGs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --quiet
pdeinv=target/release/pdeinv
mkdir -p out
$pdeinv forward scenarios/camembert.toml --out out/camembert-data.h5
$pdeinv model build scenarios/camembert.toml --which true -o out/camembert-true.h5
$pdeinv plot out/camembert-true.h5 -o out/camembert-true.png
$pdeinv plot out/camembert-data.h5 --shot 3 -o out/camembert-shot3.png
echo "quickstart: wrote out/camembert-data.h5, out/camembert-true.h5, out/camembert-true.png, out/camembert-shot3.png"
