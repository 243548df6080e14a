#!/usr/bin/env bash
# Builds helm from its Go module (`go install helm.sh/helm/v3/cmd/helm@VERSION`, no replace
# directives needed) into a cache outside the work tree and prints the path of the binary.
# Rebuilds only when it is missing. Progress goes to stderr; stdout is the path alone.
# The version lives in HELM_VERSION (its go.mod `go` line must not be newer than the local Go).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(cat "$here/HELM_VERSION")
dir=${WEBEX_HELM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/webex-operator/helm/$version}
if [ -x "$dir/helm" ]; then
  echo "$dir/helm"
  exit 0
fi
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
mkdir -p "$dir"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$dir/.tmp"
start=$(date +%s)
echo "helm: building helm $version from Go modules (first run only; cached in $dir)" >&2
go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$version" \
  "helm.sh/helm/v3/cmd/helm@$version" &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  sleep 20
  kill -0 "$pid" 2>/dev/null && echo "helm: still building ($(( $(date +%s) - start ))s elapsed)" >&2
done
wait "$pid"
mv "$dir/.tmp/helm" "$dir/helm"
rmdir "$dir/.tmp" 2>/dev/null || true
echo "helm: built in $(( $(date +%s) - start ))s" >&2
echo "$dir/helm"
