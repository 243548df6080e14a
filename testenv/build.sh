#!/usr/bin/env bash
# Builds kube-apiserver and etcd from Go modules (pinned in go.mod / go.sum here) into a cache
# outside the work tree and prints that directory. Rebuilds only when a binary is missing.
# Progress goes to stderr; stdout is the directory alone, so callers can capture it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(cat "$here/VERSION")
sum=$(sha256sum "$here/go.sum" | cut -c1-12)
dir=${WEBEX_TESTENV_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/webex-operator/testenv/$version-$sum}
if [ -x "$dir/kube-apiserver" ] && [ -x "$dir/etcd" ]; then
  echo "$dir"
  exit 0
fi
mkdir -p "$dir"
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$version" | cut -d. -f2)"
start=$(date +%s)
cd "$here"
# Runs a build in the background and reports the elapsed time every 20 s, so a first run that
# takes minutes shows it is alive.
with_progress() {
  "$@" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 20
    kill -0 "$pid" 2>/dev/null && echo "testenv: still building ($(( $(date +%s) - start ))s elapsed)" >&2
  done
  wait "$pid"
}
if [ ! -x "$dir/etcd" ]; then
  echo "testenv: building etcd (first run only; cached in $dir)" >&2
  with_progress go build -trimpath -ldflags "-s -w" -o "$dir/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$dir/etcd.tmp" "$dir/etcd"
fi
if [ ! -x "$dir/kube-apiserver" ]; then
  echo "testenv: building kube-apiserver $version (first run only, 10-25 minutes on 2 cores)" >&2
  with_progress go build -trimpath -ldflags "$ldflags" -o "$dir/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  mv "$dir/kube-apiserver.tmp" "$dir/kube-apiserver"
fi
echo "testenv: built in $(( $(date +%s) - start ))s" >&2
echo "$dir"
