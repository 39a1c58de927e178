#!/usr/bin/env bash
# CTest's bench_smoke (issue 7): `bench/run.sh --smoke` against the ipctrace just built, its
# builds and results in the build directory (the source tree is not written). Passes only when
# the bench exits 0 — every tool ran and every ipctrace run verified — and wrote its results
# with no failure listed. No timing is judged. Not root: skipped (77), but failed under CI.
#   bench/ctest_smoke.sh IPCTRACE_BINARY OUT_DIR
set -uo pipefail

if [ $# -ne 2 ]; then
  echo "usage: bench/ctest_smoke.sh IPCTRACE_BINARY OUT_DIR" >&2
  exit 2
fi
ipctrace=$1 out=$2
bench=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -ne 0 ]; then
  if [ -n "${CI:-}" ]; then
    echo "bench_smoke: must run as root under CI" >&2
    exit 1
  fi
  echo "bench_smoke: needs root (BPF, strace, perf, bpftrace): skipped" >&2
  exit 77
fi

# No stale result may pass for this run's.
mkdir -p "$out"
rm -f "$out/smoke.json" "$out/smoke.md"

IPCTRACE=$ipctrace BENCH_BUILD=$out/build bash "$bench/run.sh" --smoke --out "$out"
status=$?
if [ $status -ne 0 ]; then
  echo "bench_smoke: bench/run.sh --smoke exited $status (failures: $out/smoke.md)" >&2
  exit 1
fi
# The bench's own record must agree: results written, smoke kind, no failure.
if ! /usr/bin/python3 - "$out/smoke.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))
assert res["run"]["kind"] == "smoke", res["run"]["kind"]
assert res["failures"] == [], res["failures"]
for section in ("worst", "throughput", "startup", "selfcost", "scale"):
    assert section in res, "no " + section + " section"
PY
then
  echo "bench_smoke: $out/smoke.json is missing or does not record a clean smoke run" >&2
  exit 1
fi
test -s "$out/smoke.md" || { echo "bench_smoke: no $out/smoke.md" >&2; exit 1; }
echo "bench_smoke: every tool ran and every ipctrace run verified ($out/smoke.md)"
