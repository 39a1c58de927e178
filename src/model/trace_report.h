// The report of `ipctrace trace`: the common Report (no workload) plus what was traced, for
// how long, why it stopped and, for one interval, which one. Printed by trace_text / trace_json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/comm_map.h"
#include "model/report.h"
#include "model/trace_facts.h"

namespace ipctrace {

struct IntervalBounds {
    unsigned index = 0;
    uint64_t start_ns = 0, end_ns = 0;  // since the trace began
};

struct TraceReport {
    Report report;  // mode "trace" or "interval"; processes ranked and cut by --top
    TraceTarget target;
    std::string comm;                // --comm filter, "" for none
    size_t top = 0;                  // --top, 0 for none
    size_t processes_traced = 0;     // every process seen (after --comm), before --top
    uint64_t processes_folded = 0;   // of which exited ones folded into per-comm rows (--keep-exited)
    std::map<std::string, MapOccupancy> kernel_maps;  // at the last reading
    uint32_t max_procs = 0;          // --max-procs, 0: built-in sizes
    uint64_t duration_ns = 0;
    std::optional<StopReason> reason;  // unset for an interval
    int signal = 0;
    std::optional<ExitStatus> command_status;
    std::optional<IntervalBounds> interval;
    std::optional<CommMap> map;      // who talked to whom: the whole trace only
};

struct TraceReportOptions {
    std::string comm;
    size_t top = 0;
    bool include_file_io = false;
    std::vector<std::string> notes;
};

// The IPC syscalls of one process: what --top ranks by (regular-file I/O only when it counts).
uint64_t ipc_syscalls(const ProcessFigures& p, bool include_file_io);

// From a snapshot (whole trace or one interval's diff): applies --comm, ranks processes by IPC
// syscalls (most first, then by pid) and keeps --top of them. Only report.processes is cut:
// the totals stay those of every process.
// processes_folded (if given) receives how many of them are in folded rows.
Report build_trace_report(const Snapshot& snap, const TraceReportOptions& options, size_t& processes_traced,
                          uint64_t* processes_folded = nullptr);

}  // namespace ipctrace
