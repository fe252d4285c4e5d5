#!/usr/bin/env bash
# A/B of step(chunk) rates: OLD and NEW checkouts alternately, ROUNDS rounds.
OLD=$1; NEW=$2; ROUNDS=${3:-4}
echo "# $(date -u +%F) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, torch $(python -c 'import torch;print(torch.__version__)')"
echo "# old $(git -C $OLD rev-parse --short HEAD), new $(git -C $NEW rev-parse --short HEAD)"
for r in $(seq $ROUNDS); do
  for args in "model=pytorch-mlp batch_size=64 iters=300 chunk=1" "model=pytorch-mlp batch_size=64 iters=300 chunk=10" "model=pytorch-mlp batch_size=64 precision=bf16 iters=300 chunk=1" "model=pytorch-mlp batch_size=64 iters=300 chunk=50"; do
    for side in old new; do
      dir=$OLD; [ $side = new ] && dir=$NEW
      echo "round $r $side: $(PYTHONPATH=$dir python $NEW/docs/tools/step_rate.py $args 2>/dev/null | tail -1)"
    done
  done
done
