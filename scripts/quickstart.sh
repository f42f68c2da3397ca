#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, model the
# 2D camembert scenario (8 shots), draw the true model and a shot gather, and
# compute the exact gradient of the misfit at the starting model (binomial
# checkpointing, 30 snapshots) and draw it; then recover the anomaly by
# full-waveform inversion (scenarios/fwi-camembert.toml, 20 L-BFGS iterations).
# Output: out/camembert-{data,true,initial,gradient}.h5 and three PNGs,
# out/fwi-camembert.h5 (the run) and out/fwi-camembert-{models,gradient,misfit}.png.
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
$pdeinv model build scenarios/camembert.toml --which initial -o out/camembert-initial.h5
$pdeinv gradient scenarios/camembert.toml --model out/camembert-initial.h5 --data out/camembert-data.h5 \
  --out out/camembert-gradient.h5
$pdeinv plot out/camembert-gradient.h5 -o out/camembert-gradient.png
$pdeinv invert scenarios/fwi-camembert.toml --out out/fwi-camembert.h5
echo "quickstart: wrote out/camembert-{data,true,initial,gradient}.h5, out/camembert-{true,shot3,gradient}.png,"
echo "            out/fwi-camembert.h5 and out/fwi-camembert-{models,gradient,misfit}.png"
