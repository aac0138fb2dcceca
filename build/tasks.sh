#!/usr/bin/env bash
# The trainer's classic transfer-learning tasks, measured end to end (README: Tasks). Each makes
# its data from what ./build.sh fetches, trains with the project's trainer, scores the exported
# ONNX model with `eval` (ONNX Runtime) and looks at its errors with `interpret`. Run through
# `./build.sh tasks NAME...`; NAME is one of: fashion, count, count-dense, count-dense-better,
# count-dense-value, count-dense-density, multilabel, segmentation (none: all). Work goes to $HEADTRACKER_TASKS_DIR (default out/tasks).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="${HEADTRACKER_CONFIGURATION:-Release}"
work="${HEADTRACKER_TASKS_DIR:-$root/out/tasks}"
# HEADTRACKER_TRAINER_DLL: another build of the trainer (a copy, so rebuilding the tree does not
# replace the files of a run in progress).
train=(dotnet "${HEADTRACKER_TRAINER_DLL:-$root/src/Trainer/bin/$config/net10.0/headtracker-train.dll}")
fashion="$root/external/fashion-mnist"
mkdir -p "$work"

# run NAME DATA_ARGS... -- TRAIN_ARGS...: trains into $work/NAME, then eval and interpret on valid.
run() {
  local name="$1"; shift
  local data=()
  while [[ "$1" != "--" ]]; do data+=("$1"); shift; done
  shift
  local start=$(date +%s)
  rm -rf "$work/$name"
  "${train[@]}" train "${data[@]}" "$@" --out "$work/$name" | tee "$work/$name.log"
  local trained=$(( $(date +%s) - start ))
  "${train[@]}" eval --model "$work/$name/model.onnx" "${data[@]}" --split valid --json "$work/$name/eval.json" | tee -a "$work/$name.log"
  "${train[@]}" interpret --model "$work/$name/model.onnx" "${data[@]}" --out "$work/$name/interpret" | tee -a "$work/$name.log"
  echo "$name: trained in $((trained / 60)) min $((trained % 60)) s" | tee -a "$work/$name.log"
}

task() {
  case "$1" in
    fashion)
      run fashion --data "$fashion" --format idx -- \
        --heads class --size 32 --batch 64 --freeze-epochs 0 --epochs 16 --lr 4e-3 --lr-mult 3 --wd 0.1 --seed 1 --augment flip ;;
    count)
      [[ -d "$work/data/count-1-5" ]] || "${train[@]}" synth-count --out "$work/data/count-1-5" --count 3000 --min 1 --max 5 --size 64 --seed 1
      run count --data "$work/data/count-1-5" --format folder -- \
        --heads class --size 64 --freeze-epochs 1 --epochs 10 --lr 1e-2 --lr-mult 10 --seed 1 ;;
    count-dense)
      [[ -d "$work/data/count-45-50" ]] || "${train[@]}" synth-count --out "$work/data/count-45-50" --count 2000 --min 45 --max 50 --size 128 --seed 1
      run count-dense --data "$work/data/count-45-50" --format folder -- \
        --heads class --size 128 --freeze-epochs 1 --epochs 10 --lr 1e-2 --lr-mult 10 --seed 1 ;;
    count-dense-better)
      [[ -d "$work/data/count-45-50" ]] || "${train[@]}" synth-count --out "$work/data/count-45-50" --count 2000 --min 45 --max 50 --size 128 --seed 1
      run count-dense-better --data "$work/data/count-45-50" --format folder -- \
        --heads class --size 128 --freeze-epochs 1 --epochs 10 --lr 1e-2 --lr-mult 10 --seed 1 --augment no-crop ;;
    count-dense-value)
      [[ -d "$work/data/count-45-50" ]] || "${train[@]}" synth-count --out "$work/data/count-45-50" --count 2000 --min 45 --max 50 --size 128 --seed 1
      run count-dense-value --data "$work/data/count-45-50" --format folder --label-as-value count -- \
        --heads value --size 128 --freeze-epochs 1 --epochs 10 --lr 1e-2 --lr-mult 10 --seed 1 --augment no-crop ;;
    count-dense-density)
      [[ -d "$work/data/count-45-50" ]] || "${train[@]}" synth-count --out "$work/data/count-45-50" --count 2000 --min 45 --max 50 --size 128 --seed 1
      run count-dense-density --data "$work/data/count-45-50" --format folder --label-as-value count -- \
        --heads value --value-head density --size 128 --freeze-epochs 1 --epochs 10 --lr 1e-2 --lr-mult 10 --seed 1 --augment no-crop ;;
    multilabel)
      [[ -d "$work/data/mosaic-32k" ]] || "${train[@]}" mosaic --out "$work/data/mosaic-32k" --count 32000 --seed 1
      run multilabel --data "$work/data/mosaic-32k/labels.csv" --format csv -- \
        --heads class --size 64 --freeze-epochs 0 --epochs 16 --lr 4e-3 --lr-mult 3 --wd 0.1 --seed 1 --augment flip ;;
    segmentation)
      [[ -d "$work/data/parts128" ]] || "${train[@]}" synth --out "$work/data/parts128" --count 3000 --size 128 --seed 1 --parts
      run segmentation --data "$work/data/parts128" --format segmentation -- \
        --heads mask --size 128 --freeze-epochs 1 --epochs 20 --lr 1e-2 --lr-mult 10 --seed 1 ;;
    *) echo "tasks: unknown task '$1' (fashion, count, count-dense, count-dense-better, count-dense-value, count-dense-density, multilabel, segmentation)" >&2; exit 2 ;;
  esac
}

if [[ $# -eq 0 ]]; then set -- fashion count count-dense count-dense-better count-dense-value count-dense-density multilabel segmentation; fi
for t in "$@"; do task "$t"; done
