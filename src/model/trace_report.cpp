#include "model/trace_report.h"

#include <algorithm>
#include <set>

#include "common/snapshot_diff.h"

namespace ipctrace {

uint64_t ipc_syscalls(const ProcessFigures& p, bool include_file_io) {
    uint64_t n = 0;
    for (const auto& [mech, m] : p.mechanisms)
        if (is_ipc(mech) || (mech == MECH_FILE && include_file_io)) n += m.calls.count;
    return n;
}

Report build_trace_report(const Snapshot& snap, const TraceReportOptions& options, size_t& processes_traced,
                          uint64_t* processes_folded) {
    const Snapshot filtered = options.comm.empty() ? snap : filter_by_comm(snap, options.comm);
    Report report = build_report(filtered);
    report.mode = "trace";
    report.include_file_io = options.include_file_io;
    report.notes = options.notes;

    // A process forked and gone without one recorded event still was traced: it is in procs.
    // A folded row stands for `folded` processes.
    std::set<pid_t> seen;
    for (const auto& p : report.processes) seen.insert(p.pid);
    for (const auto& [pid, info] : filtered.procs) seen.insert(pid);
    uint64_t folded = 0;
    for (const auto& [pid, info] : filtered.procs) folded += info.folded;
    size_t folded_rows = 0;
    for (pid_t pid : seen) folded_rows += pid < 0;
    processes_traced = seen.size() - folded_rows + folded;
    if (processes_folded) *processes_folded = folded;

    std::stable_sort(report.processes.begin(), report.processes.end(), [&](const ProcessFigures& a, const ProcessFigures& b) {
        const uint64_t na = ipc_syscalls(a, options.include_file_io), nb = ipc_syscalls(b, options.include_file_io);
        return na != nb ? na > nb : a.pid < b.pid;
    });
    if (options.top && report.processes.size() > options.top) report.processes.resize(options.top);
    return report;
}

}  // namespace ipctrace
