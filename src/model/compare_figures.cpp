#include "model/compare_figures.h"

#include <algorithm>

#include "common/mechanisms.h"

namespace ipctrace {

RunFigures derive_figures(const Report& report) {
    RunFigures f;
    const workloads::Result& w = *report.workload;
    f.workload = w.workload;
    f.message_size = w.params.size;
    f.messages = w.messages;
    f.sync = std::string(workloads::to_string(w.params.sync));
    f.ok = w.ok;
    const double seconds = static_cast<double>(w.elapsed_ns) / 1e9;
    const double mib = static_cast<double>(w.bytes) / 1048576.0;
    if (seconds > 0) {
        f.throughput_mib_s = mib / seconds;
        f.messages_per_s = static_cast<double>(w.messages) / seconds;
    }
    f.rtt_p50_ns = w.rtt_p50_ns;
    f.rtt_p99_ns = w.rtt_p99_ns;
    f.user_s = static_cast<double>(w.user_ns) / 1e9;
    f.sys_s = static_cast<double>(w.sys_ns) / 1e9;

    uint64_t syscalls = 0, copied = 0, faults = 0, switches = 0, call_ns = 0, top = 0;
    for (const auto& [mech, m] : report.mechanisms) {
        faults += m.events.page_faults + m.events.copy_faults;
        switches += m.events.voluntary_switches + m.events.involuntary_switches;
        if (!is_ipc(mech) && !(mech == MECH_FILE && report.include_file_io)) continue;
        syscalls += m.calls.count;
        copied += m.calls.bytes_in + m.calls.bytes_out;
        call_ns += m.calls.total_ns;
        for (const auto& [nr, c] : m.syscalls)
            if (c.count > top) top = c.count, f.top_syscall = std::string(syscall_name(nr));
    }
    const double messages = static_cast<double>(std::max<uint64_t>(w.messages, 1));
    f.syscalls_per_message = static_cast<double>(syscalls) / messages;
    f.context_switches_per_message = static_cast<double>(switches) / messages;
    f.copies_per_byte = w.bytes ? static_cast<double>(copied) / static_cast<double>(w.bytes) : 0;
    f.page_faults_per_mib = mib > 0 ? static_cast<double>(faults) / mib : 0;
    const double role_wall_ns = static_cast<double>(w.elapsed_ns) * static_cast<double>(std::max<size_t>(w.pids.size(), 1));
    f.ns_per_call = syscalls ? static_cast<double>(call_ns) / static_cast<double>(syscalls) : 0;
    f.syscall_time_share = role_wall_ns > 0 ? std::min(1.0, static_cast<double>(call_ns) / role_wall_ns) : 0;
    return f;
}

double speed(const RunFigures& f) { return f.message_size ? f.throughput_mib_s : f.messages_per_s; }

bool is_shared_memory(const std::string& workload) { return workload == "shm" || workload == "posix-shm" || workload == "mmap"; }

bool ComparedRow::wide_spread() const {
    const double mid = speed(median);
    return mid > 0 && (throughput_max - throughput_min) / mid > 0.25;
}

ComparedRow summarise(std::vector<RunFigures> runs) {
    ComparedRow row;
    row.runs = static_cast<int>(runs.size());
    if (runs.empty()) return row;
    std::sort(runs.begin(), runs.end(), [&](const RunFigures& a, const RunFigures& b) { return speed(a) < speed(b); });
    row.median = runs[(runs.size() - 1) / 2];
    row.throughput_min = speed(runs.front());
    row.throughput_max = speed(runs.back());
    for (const auto& r : runs) row.median.ok = row.median.ok && r.ok;
    return row;
}

}  // namespace ipctrace
