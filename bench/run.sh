#!/usr/bin/env bash
# ipctrace overhead benchmark against strace, perf trace and bpftrace (see bench/README.md).
#   sudo bench/run.sh            the full run (about 6 minutes; under 10): results in bench/results/
#   sudo bench/run.sh --smoke    a few seconds: every tool once, correctness only, no timing judged
# Further options go to bench/bench.py (--sections, --rounds, --count, --out; see --help).
# IPCTRACE=/path/to/ipctrace uses that binary instead of building the tree into bench/.build.
# BENCH_BUILD=DIR puts the bench's own builds (memcpy_bw, and ipctrace without IPCTRACE) in DIR
# instead of bench/.build: CTest's bench_smoke keeps everything in its build directory.
# Exit 0 when every tool ran and every ipctrace run verified; 1 otherwise; 2 on bad use.
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")
build="${BENCH_BUILD:-$bench/.build}"

if [ "$(id -u)" -ne 0 ]; then
  echo "bench/run.sh: run as root (it loads BPF programs and runs strace, perf and bpftrace): sudo $0 $*" >&2
  exit 2
fi

# The bench's own tools, from Debian 12. The ipctrace build needs what scripts/setup.sh installs.
packages=(strace linux-perf bpftrace time g++ python3 util-linux liburing-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/run.sh: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$build"
# Its own build directory and only the ipctrace target: the bench never races another
# build in build/ and needs no test dependencies.
if [ -z "${IPCTRACE:-}" ]; then
  if ! { cmake -S "$root" -B "$build/ipctrace" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIPCTRACE_TESTS=OFF >"$build/cmake.log" 2>&1 &&
         cmake --build "$build/ipctrace" --target ipctrace -j "$(nproc)" >>"$build/cmake.log" 2>&1; }; then
    tail -20 "$build/cmake.log" >&2
    echo "bench/run.sh: building ipctrace failed (log: $build/cmake.log; build dependencies: sudo scripts/setup.sh)" >&2
    exit 1
  fi
  IPCTRACE="$build/ipctrace/ipctrace"
fi
if [ ! -x "$IPCTRACE" ]; then
  echo "bench/run.sh: no ipctrace binary at $IPCTRACE" >&2
  exit 2
fi

if [ ! -x "$build/memcpy_bw" ] || [ "$bench/memcpy_bw.cpp" -nt "$build/memcpy_bw" ]; then
  g++ -O2 -std=c++17 -Wall -Wextra -o "$build/memcpy_bw" "$bench/memcpy_bw.cpp"
fi
# uring_peer (the io_uring test's program) is the self-cost section's io_uring workload.
if [ ! -x "$build/uring_peer" ] || [ "$root/tests/programs/uring_peer.cpp" -nt "$build/uring_peer" ]; then
  g++ -O2 -std=c++20 -Wall -Wextra -o "$build/uring_peer" "$root/tests/programs/uring_peer.cpp" -luring
fi
# The floor: what raw_tp sys_enter/sys_exit programs cost before they do anything.
if [ ! -x "$build/floor_probe" ] || [ "$bench/floor_probe.c" -nt "$build/floor_probe" ] ||
   [ "$bench/floor_probe.bpf.c" -nt "$build/floor_probe.bpf.o" ]; then
  clang -O2 -g -target bpf -I"/usr/include/$(gcc -dumpmachine)" -c "$bench/floor_probe.bpf.c" -o "$build/floor_probe.bpf.o"
  gcc -O2 -Wall -Wextra -o "$build/floor_probe" "$bench/floor_probe.c" -lbpf
fi

# A private mount namespace: when tracefs is missing (bpftrace and perf trace need it, ipctrace
# does not), the bench mounts it where only its own tools see it, and unmounts it at the end.
exec unshare --mount --propagation private env IPCTRACE_BENCH_NS=1 \
  /usr/bin/python3 "$bench/bench.py" --ipctrace "$IPCTRACE" --memcpy "$build/memcpy_bw" \
  --floor "$build/floor_probe" "$build/floor_probe.bpf.o" --uring-peer "$build/uring_peer" "$@"
