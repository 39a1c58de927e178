// Shared checks of the BPF tests: run a workload under ipctrace, and compare what the
// probes counted with the workload's own counts, strace and getrusage.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace ipctrace::testing {

struct WorkloadCase {
    std::string workload;
    std::vector<std::string> args;        // e.g. {"--size", "64K", "--count", "2000"}
    std::set<std::string> mechanisms;     // exactly the mechanisms its IPC may be classified as
    std::string name() const;             // for test names
};
// Test names and failure messages show the case, not its bytes.
inline void PrintTo(const WorkloadCase& c, std::ostream* os) { *os << c.name(); }

// `ipctrace run W --json ARGS`, asserting exit 0; the parsed report.
nlohmann::json run_traced(const WorkloadCase& c);
// `strace -f -o LOG ipctrace run W --no-trace --json ARGS`: the report, and per syscall
// the calls strace saw made by the workload's role processes.
struct StraceRun {
    nlohmann::json report;
    std::map<std::string, unsigned long> calls;
};
StraceRun run_under_strace(const WorkloadCase& c, const std::set<std::string>& syscalls);

// Traced calls per syscall name, summed over the mechanisms of the report.
std::map<std::string, unsigned long> traced_calls(const nlohmann::json& report);
// The workload's own counts (workload.ops) and the syscalls it could not count.
std::map<std::string, unsigned long> workload_ops(const nlohmann::json& report);
std::set<std::string> uncounted_ops(const nlohmann::json& report);

// Every traced syscall equals the workload's own count, and every IPC syscall the workload
// counted was traced (path-classified ones excepted: only /dev/shm paths are IPC).
void expect_traced_equals_workload(const nlohmann::json& report);
// The report's mechanisms are exactly the expected ones, plus any of `optional` (futex
// calls of glibc semaphores happen only under contention).
void expect_mechanisms(const nlohmann::json& report, const std::set<std::string>& expected,
                       const std::set<std::string>& optional = {});

// SysV objects (ids) currently in the system, from `ipcs`.
std::set<std::string> sysv_ids();
// What a workload could leave behind: SysV ids, /dev/shm and /dev/mqueue entries, and
// the harness's private /tmp/ipctrace.* directories.
std::set<std::string> leftovers();

}  // namespace ipctrace::testing
