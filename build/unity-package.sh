#!/usr/bin/env bash
# Lays out the Unity package (UPM) com.headtracker.runtime from src/Unity/Package and the
# netstandard2.1 build of src/Unity (./build.sh unity-package builds it first). Output:
# ${HEADTRACKER_UNITY_OUT:-out/unity}/com.headtracker.runtime, replaced in one step. Every file and
# folder Unity imports gets a .meta with a GUID derived from its path (stable across builds).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="${HEADTRACKER_CONFIGURATION:-Release}"
payload="$root/src/Unity/bin/$config/netstandard2.1"
name="com.headtracker.runtime"
out="${HEADTRACKER_UNITY_OUT:-$root/out/unity}"
die() { printf '[unity-package] error: %s\n' "$*" >&2; exit 1; }
[[ -f "$payload/HeadTracker.Runtime.dll" ]] || die "$payload holds no HeadTracker.Runtime.dll; run ./build.sh unity-package (it builds src/Unity first)"

version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props" | head -n 1)"
[[ -n "$version" ]] || die "no <Version> in Directory.Build.props"
mkdir -p "$out"
tmp="$(mktemp -d "$out/.$name.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
pkg="$tmp/$name"
cp -r "$root/src/Unity/Package" "$pkg"
sed -i "s/@VERSION@/$version/" "$pkg/package.json"

# Managed: ours, ONNX Runtime's, OpenCvSharp's, System.Text.Json's family. Not System.Memory,
# System.Buffers, System.Numerics.Vectors or System.Runtime.CompilerServices.Unsafe: Unity 2021.2+
# provides them (a second copy would clash).
for dll in HeadTracker.Runtime.dll HeadTracker.Runtime.xml Microsoft.ML.OnnxRuntime.dll OpenCvSharp.dll \
           System.Text.Json.dll System.Text.Encodings.Web.dll Microsoft.Bcl.AsyncInterfaces.dll System.Threading.Tasks.Extensions.dll; do
  [[ -f "$payload/$dll" ]] || die "$payload/$dll is missing"
  cp "$payload/$dll" "$pkg/Runtime/"
done
mkdir -p "$pkg/Plugins/Linux/x86_64"
for so in libonnxruntime.so libonnxruntime_providers_shared.so libOpenCvSharpExtern.so; do
  [[ -f "$payload/$so" ]] || die "$payload/$so is missing"
  cp "$payload/$so" "$pkg/Plugins/Linux/x86_64/"
done
mkdir -p "$pkg/Models~"
cp "$root/models/headtracker-default.onnx" "$root/models/LICENSE" "$pkg/Models~/"

guid() { printf '%s' "$name/$1" | md5sum | cut -c1-32; }

meta() { # meta RELATIVE_PATH: writes RELATIVE_PATH.meta for what is there
  local rel="$1" path="$pkg/$1" g
  g="$(guid "$rel")"
  {
    echo "fileFormatVersion: 2"
    echo "guid: $g"
    if [[ -d "$path" ]]; then
      printf 'folderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n'
    else
      case "$rel" in
        *.cs) printf 'MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' ;;
        *.asmdef) printf 'AssemblyDefinitionImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' ;;
        package.json) printf 'PackageManifestImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' ;;
        *.dll) # managed, every platform and the Editor
          printf 'PluginImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  iconMap: {}\n  executionOrder: {}\n  defineConstraints: []\n  isPreloaded: 0\n  isOverridable: 0\n  isExplicitlyReferenced: 0\n  validateReferences: 1\n  platformData:\n  - first:\n      Any: \n    second:\n      enabled: 1\n      settings: {}\n  - first:\n      Editor: Editor\n    second:\n      enabled: 0\n      settings:\n        DefaultValueInitialized: true\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' ;;
        Plugins/Linux/x86_64/*.so) # native, Linux x64 Editor and players only
          printf 'PluginImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  iconMap: {}\n  executionOrder: {}\n  defineConstraints: []\n  isPreloaded: 0\n  isOverridable: 0\n  isExplicitlyReferenced: 0\n  validateReferences: 1\n  platformData:\n  - first:\n      Any: \n    second:\n      enabled: 0\n      settings: {}\n  - first:\n      Editor: Editor\n    second:\n      enabled: 1\n      settings:\n        CPU: x86_64\n        DefaultValueInitialized: true\n        OS: Linux\n  - first:\n      Standalone: Linux64\n    second:\n      enabled: 1\n      settings:\n        CPU: x86_64\n  - first:\n      Standalone: Win64\n    second:\n      enabled: 0\n      settings:\n        CPU: None\n  - first:\n      Standalone: OSXUniversal\n    second:\n      enabled: 0\n      settings:\n        CPU: None\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' ;;
        *.md | *.xml | *.txt | *.json) printf 'TextScriptImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' ;;
        *) printf 'DefaultImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' ;;
      esac
    fi
  } >"$path.meta"
}

# Unity imports everything except folders ending in '~' (Samples~, Documentation~, Models~) and dot files.
while IFS= read -r -d '' entry; do
  rel="${entry#"$pkg"/}"
  meta "$rel"
done < <(find "$pkg" -mindepth 1 \( -name '*~' -o -name '.*' \) -prune -o ! -name '*.meta' -print0 | sort -z)

rm -rf "$out/$name.old"
[[ -e "$out/$name" ]] && mv "$out/$name" "$out/$name.old"
mv "$pkg" "$out/$name"
rm -rf "$out/$name.old"
echo "Wrote the Unity package $name $version to $out/$name ($(find "$out/$name" -type f | wc -l) files; native libraries for Linux x64)"
