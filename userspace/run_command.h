// `ipctrace run WORKLOAD`: run a bundled workload under tracing and report.
#pragma once

#include <string>

#include "workload.h"

namespace ipctrace {

struct RunOptions {
    std::string workload;
    workloads::Params params;
    bool json = false;
    std::string output;  // -o FILE; empty: stdout
    bool trace = true;   // false: --no-trace
    bool verbose = false;
};

// Returns the process exit code: 0 ok, 1 the workload or the trace failed, 2 bad input,
// 128+signal when interrupted (after printing what was measured).
int run_command(const RunOptions& options);

}  // namespace ipctrace
