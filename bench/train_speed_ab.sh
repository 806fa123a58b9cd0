#!/usr/bin/env bash
# bench/train_speed.py of two checkouts in turn (A B A B ...), each importing its own tree; one JSON line a run.
#   bash bench/train_speed_ab.sh OLD_CHECKOUT NEW_CHECKOUT [ROUNDS] > ab.jsonl
# Compare the medians of each recipe's epoch_seconds_median per side (on an otherwise idle machine).
set -euo pipefail
old=$(cd "$1" && pwd); new=$(cd "$2" && pwd); rounds=${3:-5}
export TFDS_DATA_DIR=${TFDS_DATA_DIR:-$new/../shared/tensorflow_datasets}
for i in $(seq "$rounds"); do
  for side in old new; do
    dir=$old; [ "$side" = new ] && dir=$new
    line=$(cd "$dir" && PYTHONPATH="$dir" python bench/train_speed.py --epochs 1 --recipes ref,default 2>/dev/null | tail -1)
    echo "{\"side\": \"$side\", \"round\": $i, \"result\": $line}"
  done
done
