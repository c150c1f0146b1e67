#!/usr/bin/env bash
# Fetch tools + offline schemas, render every overlay with kustomize and validate the
# output with kubeconform against Kubernetes, Strimzi and KEDA schemas. No network
# needed after the first run (registries only: Go proxy, PyPI, Maven Central).
# Usage: deploy/k8s/tools/validate.sh [overlay...]   (default: all overlays)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
k8s="$(dirname "$here")"
py="${PYTHON:-}"
if [[ -z "$py" ]]; then
  for c in /tmp/boot/venv/bin/python "$k8s/../../.venv/bin/python" python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import yaml' 2>/dev/null; then py="$c"; break; fi
  done
fi
[[ -n "$py" ]] || { echo "validate.sh: need a python with PyYAML (set PYTHON=...)" >&2; exit 1; }
cache="$("$py" "$here/fetch-schemas.py" | tail -n1)"
bin="$cache/bin"; schemas="$cache/schemas"
overlays=("$@")
if [[ ${#overlays[@]} -eq 0 ]]; then
  for d in "$k8s"/overlays/*/; do overlays+=("$(basename "$d")"); done
fi
out="$cache/rendered"; mkdir -p "$out"
for o in "${overlays[@]}"; do
  echo "== $o: kustomize build"
  "$bin/kustomize" build "$k8s/overlays/$o" > "$out/$o.yaml"
  echo "== $o: kubeconform"
  "$bin/kubeconform" -strict -summary -output text \
    -schema-location "$schemas/k8s/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "$schemas/crd/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" \
    "$out/$o.yaml"
done
