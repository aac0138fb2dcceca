#!/usr/bin/env bash
# Trains models/headtracker-default.onnx from nothing but what ./build.sh fetches, with the
# project's own trainer, then measures it with `headtracker-train eval` (ONNX Runtime) on the
# held-out identities. Run through `./build.sh train-default`. Work files go to
# $HEADTRACKER_TRAIN_DIR (default out/train-default); the model and its metrics replace those in
# models/ only when everything succeeded.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="${HEADTRACKER_CONFIGURATION:-Release}"
work="${HEADTRACKER_TRAIN_DIR:-$root/out/train-default}"
train=(dotnet "$root/src/Trainer/bin/$config/net10.0/headtracker-train.dll")
mkdir -p "$work"
start=$(date +%s)

# The recipe. Changing it changes the shipped model: update models/README.md with the new figures.
"${train[@]}" synth --out "$work/synth" --count 16000 --seed 7
"${train[@]}" train --data "$work/synth" --heads center,keypoints,box,pose,mask \
  --epochs 7 --freeze-epochs 1 --lr 1e-2 --seed 7 --out "$work/run" --export "$work/model.onnx"
"${train[@]}" eval --model "$work/model.onnx" --data "$work/synth" --split valid --json "$work/eval.json"
for by in yaw face; do
  "${train[@]}" eval --model "$work/model.onnx" --data "$work/synth" --split valid --by "$by" --json "$work/eval-by-$by.json"
done

cp "$work/model.onnx" "$root/models/headtracker-default.onnx.tmp"
mv "$root/models/headtracker-default.onnx.tmp" "$root/models/headtracker-default.onnx"
cp "$work/eval.json" "$root/models/headtracker-default.eval.json"
for by in yaw face; do cp "$work/eval-by-$by.json" "$root/models/headtracker-default.eval-by-$by.json"; done
echo "train-default: models/headtracker-default.onnx and its eval in $(( ($(date +%s) - start) / 60 )) min"
