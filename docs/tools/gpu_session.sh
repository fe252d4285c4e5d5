#!/usr/bin/env bash
# A short GPU run of the measurements in docs/performance.md ("CUDA") and docs/results.md:
#   1. the bench on the GPU (nothing else running; with the CUDA-graph cases), 2. the tests that need CUDA, 3. the paper model
#   trained on for TRAIN_S seconds in three runs at once (the GPU idles between a small MLP's
#   kernels, so three processes cost each little), 4. each run's Parzen estimate, 5. the two best
#   checkpoints copied to $OUT, split into parts of $SPLIT bytes (default 15M, for transfers that
#   limit a file's size; rejoin with `cat NAME.part-* > NAME`; SPLIT= copies them whole).
# Usage: OUT=results GANLAB_DATA=/path/with/MNIST bash docs/tools/gpu_session.sh
#   Intermediate checkpoints and logs go to $WORK (default: a new folder from mktemp -d).
# Time: on an H200 (2026-11-27) the bench took 126 s and the three Parzen evaluations ~40 s, so the
# script runs for about TRAIN_S + 200 s; under a shorter time limit the evaluations are cut off and
# no checkpoint is kept. docs/bench/bench-cuda-h200.json has the paper model at 174 it/s there.
# DEVICE=cpu TRAIN_S=60 BENCH_ITERS=20 EVERY=100 OMP_NUM_THREADS=1 is a dry run of the same steps on a machine without a GPU.
set -u
DEVICE=${DEVICE:-cuda}; TRAIN_S=${TRAIN_S:-300}; BENCH_ITERS=${BENCH_ITERS:-1000}; EVERY=${EVERY:-5000}
OUT=${OUT:?set OUT to a folder for the results}; W=${WORK:-$(mktemp -d)}; SPLIT=${SPLIT-15M}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT" "$W"
T0=$(date +%s)
log() { echo "[$(($(date +%s) - T0)) s] $*"; }

{
log "machine (work folder $W)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || true
python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__,
  'cuda', torch.cuda.is_available() and torch.cuda.get_device_name())"

log "bench on $DEVICE"
python3 -m ganlab bench --device "$DEVICE" --iters "$BENCH_ITERS" --warmup 100 --cuda-graph --json > "$OUT/bench-$DEVICE.json"
python3 -c "import json, sys; from ganlab.bench import format_table; print(format_table(json.load(open(sys.argv[1]))))" \
  "$OUT/bench-$DEVICE.json"

log "training ${TRAIN_S} s: paper model, three runs side by side"
paper_schedule="--lr-decay 1.000004 --momentum-end 0.7 --momentum-steps 125000"
common="--steps 10000000 --checkpoint-every $EVERY --device $DEVICE --quiet"
# a) the shipped 106k-iteration run, continued with the paper's schedule; b) continued without it
#    (the constant-rate control); c) the paper preset from scratch (schedule included).
timeout "$TRAIN_S" python3 -m ganlab train --resume checkpoints/mnist-paper.pt --out "$W/paper-schedule.pt" \
  $common $paper_schedule > "$W/a.log" 2>&1 &
timeout "$TRAIN_S" python3 -m ganlab train --resume checkpoints/mnist-paper.pt --out "$W/paper-constant.pt" \
  $common > "$W/b.log" 2>&1 &
timeout "$TRAIN_S" python3 -m ganlab train --data mnist --model paper --out "$W/paper-scratch.pt" \
  $common > "$W/c.log" 2>&1 &

log "tests that need CUDA (beside the training: they are small)"
python3 -m pytest -q -p no:cacheprovider tests/test_trainer.py tests/test_bench.py tests/test_graphs.py -k "cuda" -rs 2>&1 | tail -4
wait
for r in a b c; do echo "== $r"; tail -c 600 "$W/$r.log"; echo; done

log "Parzen of each run"
for name in paper-schedule paper-constant paper-scratch; do
  [ -f "$W/$name.pt" ] && python3 -m ganlab eval "$W/$name.pt" --metric parzen --device "$DEVICE" \
    > "$W/$name.json" 2> "$W/$name.err" &
done
wait
python3 - "$W" "$OUT" <<'EOF'
import json, pathlib, sys
w, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
rows = []
for f in sorted(w.glob("paper-*.json")):
    try:
        r = json.loads(f.read_text())
        rows.append((r["parzen"]["mean"], f.stem, r["step"], r["parzen"]["sem"], r["parzen"]["sigma"]))
    except Exception as exc:
        print(f.stem, "no result:", exc, (w / (f.stem + ".err")).read_text()[-400:])
rows.sort(reverse=True)
for mean, name, step, sem, sigma in rows:
    print(f"{name}: step {step}, Parzen {mean:.1f} ± {sem:.1f} (sigma {sigma:.3f})")
(out / "parzen.json").write_text(json.dumps(rows))
(w / "keep.txt").write_text("\n".join(name for _, name, *_ in rows[:2]))
EOF
for name in $(cat "$W/keep.txt" 2>/dev/null); do
  if [ -n "$SPLIT" ]; then split -b "$SPLIT" -d "$W/$name.pt" "$OUT/$name.pt.part-"; else cp "$W/$name.pt" "$OUT/"; fi
done
ls -la "$OUT"
log "done"
} 2>&1 | tee "$OUT/log.txt"
