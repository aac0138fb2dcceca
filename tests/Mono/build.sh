#!/usr/bin/env bash
# Builds the Mono game-engine host into OUT: the runtime's netstandard2.1 payload (src/Unity's
# build output: HeadTracker.Runtime.dll, its managed dependencies and native libraries), host
# (host.c embedding Mono, compiled with gcc) and HeadLookScript.dll (compiled with Mono's mcs
# against the runtime DLL alone). Run it through the test (MonoHostTests) or by hand:
#   tests/Mono/build.sh PAYLOAD_DIR OUT
#   HEADTRACKER_MODEL=models/headtracker-default.onnx HEADTRACKER_VIDEO=clip.avi HEADTRACKER_LOG=log.csv \
#     LD_LIBRARY_PATH=OUT OUT/mono-host OUT/HeadLookScript.dll HeadLookScript 300 [--window]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
payload="${1:?usage: tests/Mono/build.sh PAYLOAD_DIR OUT}"
out="${2:?usage: tests/Mono/build.sh PAYLOAD_DIR OUT}"
[[ -f "$payload/HeadTracker.Runtime.dll" ]] || { echo "error: $payload holds no HeadTracker.Runtime.dll; run ./build.sh build first" >&2; exit 2; }
command -v mcs >/dev/null || { echo "error: mcs is missing; ./build.sh setup installs mono-devel" >&2; exit 2; }
pkg-config --exists mono-2 || { echo "error: pkg-config finds no mono-2; ./build.sh setup installs mono-devel" >&2; exit 2; }
mkdir -p "$out"
cp "$payload"/*.dll "$payload"/*.so "$out/"
rm -f "$out/HeadTracker.Unity.Payload.dll"
# shellcheck disable=SC2046
gcc -O2 -Wall -Werror -o "$out/mono-host" "$here/host.c" $(pkg-config --cflags --libs mono-2) -ldl
facades="$(pkg-config --variable=libdir mono-2)/mono/4.5/Facades"
mcs -nologo -warnaserror -target:library -out:"$out/HeadLookScript.dll" \
  -r:"$facades/netstandard.dll" -r:"$out/HeadTracker.Runtime.dll" "$here/HeadLookScript.cs"
