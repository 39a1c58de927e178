#!/usr/bin/env bash
# One command from a fresh Debian 12 clone to a working ipctrace (run as root):
#   scripts/setup.sh          install what is missing, build, install to /usr/local, run `ipctrace run shm`
#   scripts/setup.sh --test   install what is missing, build, run the whole test suite
# Idempotent: installed packages and an existing build are reused.
set -euo pipefail

cd "$(dirname "$0")/.."
mode=${1:-run}
case "$mode" in run|--run) mode=run ;; test|--test) mode=test ;;
  *) echo "usage: scripts/setup.sh [--test]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it installs packages and loads BPF programs): sudo $0 $*" >&2
  exit 2
fi

# Build and runtime dependencies, all from Debian 12; clang with libclang-rt-14-dev builds the
# libFuzzer target (tests/fuzz); util-linux's setpriv and unshare drop privileges and hide BTF
# in the reliability tests; strace and procps are test oracles,
# python3-jsonschema validates the JSON against docs/schema, prometheus scrapes --metrics;
# linux-perf, bpftrace and time are the bench's (the bench_smoke test runs bench/run.sh --smoke);
# redis-server and redis-tools (redis-benchmark, redis-cli) are the real server `trace -p` is
# checked against (the test starts its own on a private unix socket; a system redis on port
# 6379, if the package started one, is never touched). help2man makes ipctrace(1) from --help,
# man-db renders it in a test, bash-completion is where the completion is installed and what
# loads it, dpkg-dev (dpkg-shlibdeps) and file let CPack derive the .deb's Depends. chromium
# (headless) opens the --html pages in their test, fonts-dejavu-core is the font they name.
# liburing-dev builds tests/programs/uring_peer, the io_uring test's program (its own counts are the oracle).
packages=(g++ cmake make pkg-config clang libclang-rt-14-dev bpftool libbpf-dev libelf-dev zlib1g-dev
          libcli11-dev nlohmann-json3-dev libgtest-dev strace procps util-linux libxml2-utils
          prometheus-cpp-dev python3 python3-jsonschema prometheus linux-perf bpftrace time
          redis-server redis-tools help2man man-db bash-completion dpkg-dev file chromium fonts-dejavu-core
          liburing-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$mode" = test ]; then
  # CI: warnings are errors, and the Release build a packager makes must build too.
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIPCTRACE_WERROR=ON >/dev/null
  cmake --build build -j "$(nproc)"
  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DIPCTRACE_WERROR=ON -DIPCTRACE_TESTS=OFF >/dev/null
  cmake --build build-release -j "$(nproc)" --target ipctrace
  cd build
  exec ctest --output-on-failure --timeout 600
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"

cmake --install build >/dev/null
echo "setup.sh: installed $(command -v ipctrace)"
exec ipctrace run shm
