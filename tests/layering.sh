#!/usr/bin/env bash
# The stages of src/ point one way: each may include only the stages listed for it below, and
# only probe/ touches libbpf or the skeleton. The build enforces the same by what each
# library links; this check names the offending line. Run from anywhere: tests/layering.sh SRC_DIR
set -euo pipefail
src=${1:-$(dirname "$0")/../src}
declare -A allowed=(
  [common]="common"
  [probe]="probe common"
  [model]="model common"
  [collect]="collect probe model common"
  [render]="render model common"
  [metrics]="metrics collect model common"
  [cli]="cli collect probe model render metrics common"
)
bad=0
for dir in "$src"/*/; do
  layer=$(basename "$dir")
  if [ -z "${allowed[$layer]+x}" ]; then echo "layering: $layer/ is not a known stage (add it to tests/layering.sh)"; bad=1; continue; fi
  for f in "$dir"*; do
    while IFS= read -r line; do
      inc=${line#*\"}; inc=${inc%%\"*}
      case "$inc" in */*) ;; *) continue ;; esac
      stage=${inc%%/*}
      if ! [[ " ${allowed[$layer]} " == *" $stage "* ]]; then
        echo "layering: $layer/$(basename "$f") includes $inc: $layer may use only ${allowed[$layer]}"; bad=1
      fi
    done < <(grep -E '^#include "' "$f" || true)
    if [ "$layer" != probe ] && grep -qE '^#include [<"](bpf/libbpf\.h|bpf/bpf\.h|ipctrace\.skel\.h)' "$f"; then
      echo "layering: $layer/$(basename "$f") uses libbpf: only probe/ may"; bad=1
    fi
  done
done
[ $bad -eq 0 ] && echo "layering: every include points one way"
exit $bad
