#!/usr/bin/env bash
# FWI on the Marmousi-like scenario with pdeinv and with the peer (Devito's
# solver + SciPy's L-BFGS-B, ../shared/anchors/run.sh devito-fwi) on the same
# true and starting models, acquisition, wavelet frequency, time axis, bounds
# and iteration count, one after the other. Prints each one's relative model
# error, misfit reduction and wall time.
# Usage: scripts/compare-devito-fwi.sh [SCENARIO] [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-scenarios/fwi-marmousi.toml}
out=${2:-out/compare-fwi}
anchors=../shared/anchors/run.sh
venv=${ANCHORS_VENV:-$HOME/.cache/pdeinv-anchors}
cargo build --release --quiet
pdeinv=target/release/pdeinv
mkdir -p "$out"
$pdeinv --quiet model build "$scenario" --which true -o "$out/true.h5"
$pdeinv --quiet model build "$scenario" --which initial -o "$out/initial.h5"
[[ -x $venv/bin/python ]] || $anchors devito-forward 16 2 2 >/dev/null   # builds the peers' environment
"$venv/bin/python" - "$out" <<'PY'
import sys, h5py, numpy as np
out = sys.argv[1]
for name in ("true", "initial"):
    np.save(f"{out}/{name}.npy", h5py.File(f"{out}/{name}.h5", "r")["vp"][...])
PY
echo "== pdeinv"
start=$(date +%s.%N)
$pdeinv invert "$scenario" --out "$out/pdeinv-run.h5" | tail -3
echo "pdeinv wall time: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b-a}') s (data synthesis included)"
# the full-band least-squares misfit of the starting and final models (the
# run's own log reports each band's misfit)
$pdeinv --quiet forward "$scenario" --out "$out/data.h5"
"$venv/bin/python" - "$out" <<'PY'
import sys, h5py
out = sys.argv[1]
with h5py.File(f"{out}/pdeinv-run.h5", "r") as run, h5py.File(f"{out}/initial.h5", "r") as start:
    with h5py.File(f"{out}/pdeinv-final.h5", "w") as final:
        for k, v in start.attrs.items():
            final.attrs[k] = v
        final["vp"] = run["final/vp"][...]
        for k, v in start["vp"].attrs.items():
            final["vp"].attrs[k] = v
PY
m0=$($pdeinv misfit "$scenario" --model "$out/initial.h5" --data "$out/data.h5" | sed -n 's/^misfit = //p')
m1=$($pdeinv misfit "$scenario" --model "$out/pdeinv-final.h5" --data "$out/data.h5" | sed -n 's/^misfit = //p')
awk -v a="$m0" -v b="$m1" 'BEGIN {printf "pdeinv full-band misfit: %.4g -> %.4g (reduced %.1f%%)\n", a, b, 100 * (1 - b / a)}'
echo "== devito + scipy L-BFGS-B (the job of scenarios/fwi-marmousi.toml)"
$anchors devito-fwi "$out/true.npy" "$out/initial.npy" --spacing 30 --shots 12 --src-x 150,4320 --rec-x 0,4470 \
  --receivers 150 --depth 30 --f0 5 --dt 0.002 --nt 1500 --iterations 25 --bounds 1400,4800 --save "$out/devito-final.npy"
