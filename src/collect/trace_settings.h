// What one `ipctrace trace` session is asked to do, checked (cli/trace_options builds it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/trace_facts.h"

namespace ipctrace {

// Exited processes that keep a row of their own in trace's report before the oldest are
// folded into one row per command name.
inline constexpr size_t kDefaultKeepExited = 1024;
// The largest --max-procs: the kernel's PID_MAX_LIMIT on 64-bit.
inline constexpr uint32_t kMaxProcsLimit = 4194304;

struct TraceSettings {
    TraceTarget target;
    std::optional<double> duration_s, interval_s;
    size_t top = 0;  // 0: every process
    std::string comm;
    uint32_t max_procs = 0;  // --max-procs: size of the per-process kernel tables, 0: built-in
    size_t keep_exited = kDefaultKeepExited;
    bool include_file_io = false;  // --include-file-io: regular files are IPC objects too (the map's edges)
    std::vector<std::string> notes;  // adjustments to tell the user (a thread id traced as its process)
};

}  // namespace ipctrace
