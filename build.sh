#!/usr/bin/env bash
# HeadTracker's one entry point. Each verb first runs the idempotent set-up (build/setup.sh):
# system packages, fetched weights and samples; then builds what it needs.
#
#   ./build.sh demo [ARGS...]   run the demo (headless on machines with no display)
#   ./build.sh test [ARGS...]   build and run every test; last line: "N passed, N failed"
#   ./build.sh bench [ARGS...]  run headtracker-bench (see ./build.sh bench --help)
#   ./build.sh train-default    train models/headtracker-default.onnx from scratch (40 min to 2.5 h)
#   ./build.sh tasks [NAME...]  the trainer's classic tasks, measured (README: Tasks)
#   ./build.sh unity-package    the Unity package (UPM) into out/unity/com.headtracker.runtime
#   ./build.sh build            build everything (Release)
#   ./build.sh setup            only the set-up step
#   ./build.sh help
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
config="${HEADTRACKER_CONFIGURATION:-Release}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

need_dotnet() {
  command -v dotnet >/dev/null 2>&1 || {
    echo "error: the .NET SDK (10.0) is not on PATH; install it from https://dot.net and run ./build.sh again." >&2
    exit 2
  }
}

setup() { bash "$root/build/setup.sh" all; need_dotnet; }

build() { dotnet build "$root/HeadTracker.sln" -c "$config" -nologo -v quiet "$@"; }

run_tests() {
  local results="$root/artifacts/test-results"
  rm -rf "$results"
  mkdir -p "$results"
  local rc=0 project name
  # One project at a time, each with its own TRX file: counts cannot collide, and a crash in one
  # project does not hide the others' results.
  for project in "$root"/tests/*/*.csproj; do
    name="$(basename "$project" .csproj)"
    dotnet test "$project" -c "$config" --no-build -nologo \
      --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" --results-directory "$results" \
      --blame-hang-timeout 10m "$@" || rc=$?
  done
  # One line for people and CI, summed over every test project's TRX file.
  local passed=0 failed=0 p f counters
  for trx in "$results"/*.trx; do
    [[ -f "$trx" ]] || continue
    counters="$(grep -o '<Counters [^>]*' "$trx" || true)"
    p="$(grep -o ' passed="[0-9]*"' <<<"$counters" | grep -o '[0-9]*' || echo 0)"
    f="$(grep -o ' failed="[0-9]*"' <<<"$counters" | grep -o '[0-9]*' || echo 0)"
    passed=$((passed + p)); failed=$((failed + f))
  done
  if [[ $rc -ne 0 && $failed -eq 0 ]]; then
    failed=1 # the run itself failed (a crash, a hang, a build error) without a failed test to show for it
  fi
  echo "$passed passed, $failed failed"
  return $rc
}

# The demo's sample for machines without a camera: ten seconds of a real photo (the largest face
# of sample6.jpg, whose people training holds out; the others blurred) held still for a second,
# then rolling, zooming and drifting along a known path, written once by the trainer into
# external/samples/demo with its truth. (An older synthetic clip there has no motion.jsonl.)
sample_video() {
  local dir="$root/external/samples/demo"
  [[ -f "$dir/video.avi" && -f "$dir/motion.jsonl" ]] && return 0
  dotnet build "$root/src/Trainer/HeadTracker.Trainer.csproj" -c "$config" -nologo -v quiet
  dotnet "$root/src/Trainer/bin/$config/net10.0/headtracker-train.dll" photo-video \
    --out "$dir" --frames 300 --still 30
}

verb="${1:-help}"
[[ $# -gt 0 ]] && shift
case "$verb" in
  setup) setup ;;
  build) setup; build "$@" ;;
  test) setup; build; run_tests "$@" ;;
  demo)
    setup
    dotnet build "$root/src/Demo/HeadTracker.Demo.csproj" -c "$config" -nologo -v quiet
    sample_video
    dotnet "$root/src/Demo/bin/$config/net10.0/headtracker-demo.dll" "$@"
    ;;
  bench)
    setup
    # Debian's PyTorch is the training-speed peer; without it the benchmark says so and goes on.
    bash "$root/build/setup.sh" apt-bench || echo "(continuing without the PyTorch peer)"
    dotnet build "$root/tools/Bench/HeadTracker.Bench.csproj" -c "$config" -nologo -v quiet
    sample_video
    dotnet "$root/tools/Bench/bin/$config/net10.0/headtracker-bench.dll" "$@"
    ;;
  train-default)
    setup
    dotnet build "$root/src/Trainer/HeadTracker.Trainer.csproj" -c "$config" -nologo -v quiet
    bash "$root/build/train-default.sh"
    ;;
  tasks)
    setup
    dotnet build "$root/src/Trainer/HeadTracker.Trainer.csproj" -c "$config" -nologo -v quiet
    bash "$root/build/tasks.sh" "$@"
    ;;
  unity-package)
    setup
    dotnet build "$root/src/Unity/HeadTracker.Unity.csproj" -c "$config" -nologo -v quiet
    bash "$root/build/unity-package.sh"
    ;;
  help | -h | --help) usage ;;
  *) echo "error: unknown verb '$verb'." >&2; usage >&2; exit 2 ;;
esac
