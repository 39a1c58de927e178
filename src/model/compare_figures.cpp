#include "model/compare_figures.h"

#include <algorithm>
#include <cmath>

#include "common/mechanisms.h"

namespace ipctrace {
namespace {

// Speed, latency and CPU of one run, by the workload's own clocks and the roles' rusage.
void set_speed(RunFigures& f, const workloads::Result& w) {
    const double seconds = static_cast<double>(w.elapsed_ns) / 1e9;
    f.throughput_mib_s = f.messages_per_s = 0;
    if (seconds > 0) {
        f.throughput_mib_s = static_cast<double>(w.bytes) / 1048576.0 / seconds;
        f.messages_per_s = static_cast<double>(w.messages) / seconds;
    }
    f.rtt_p50_ns = w.rtt_p50_ns;
    f.rtt_p99_ns = w.rtt_p99_ns;
    f.user_s = static_cast<double>(w.user_ns) / 1e9;
    f.sys_s = static_cast<double>(w.sys_ns) / 1e9;
    f.cpu_s_per_million = w.messages ? (f.user_s + f.sys_s) * 1e6 / static_cast<double>(w.messages) : 0;
}

}  // namespace

RunFigures derive_figures(const Report& report) {
    RunFigures f;
    const workloads::Result& w = *report.workload;
    f.workload = w.workload;
    f.message_size = w.params.size;
    f.messages = w.messages;
    f.sync = std::string(workloads::to_string(w.params.sync));
    f.ok = w.ok;
    set_speed(f, w);
    f.traced_messages_per_s = f.messages_per_s;
    f.traced_throughput_mib_s = f.throughput_mib_s;
    const double mib = static_cast<double>(w.bytes) / 1048576.0;

    uint64_t syscalls = 0, copied = 0, faults = 0, switches = 0, call_ns = 0, top = 0;
    for (const auto& [mech, m] : report.mechanisms) {
        faults += m.events.page_faults + m.events.copy_faults;
        switches += m.events.voluntary_switches + m.events.involuntary_switches;
        if (!is_ipc(mech) && !(mech == MECH_FILE && report.include_file_io)) continue;
        syscalls += m.calls.count;
        copied += m.calls.bytes_in + m.calls.bytes_out + m.calls.bytes_direct;  // a direct copy is one copy
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
    if (report.traced) f.budget = derive_budget(report);
    return f;
}

RunFigures derive_figures(const Report& traced, const Report& untraced) {
    RunFigures f = derive_figures(traced);
    const workloads::Result& u = *untraced.workload;
    set_speed(f, u);
    f.ok = f.ok && u.ok;
    return f;
}

double MessageBudget::explained_ns() const {
    return copy_calls_ns + sync_calls_ns + off_cpu_in_calls_ns + off_cpu_outside_ns + user_ns + tracer_ns;
}

double MessageBudget::error() const { return role_ns > 0 ? std::abs(unexplained_ns) / role_ns : 0; }

MessageBudget derive_budget(const Report& report) {
    MessageBudget b;
    const workloads::Result& w = *report.workload;
    if (!w.messages || !w.elapsed_ns) return b;
    const double messages = static_cast<double>(w.messages);
    auto per = [&](uint64_t ns) { return static_cast<double>(ns) / messages; };
    b.roles = static_cast<int>(w.pids.size());
    b.wall_ns = per(w.elapsed_ns);
    // What the budget's window holds: each role from the start (go) to its last message, by
    // the roles' own clocks; roles x wall time when a run did not say (a hand-made report).
    b.role_ns = w.roles_ns ? per(w.roles_ns) : b.wall_ns * b.roles;
    const TimeBudget& t = report.budget;
    b.copy_calls_ns = per(t.copy_call_ns);
    b.sync_calls_ns = per(t.sync_call_ns);
    b.off_cpu_in_calls_ns = per(t.off_call_ns);
    b.off_cpu_outside_ns = per(t.off_other_ns);
    b.user_ns = per(t.outside_ns);
    b.tracer_ns = per(t.probe_ns);
    b.unexplained_ns = b.role_ns - b.explained_ns();
    uint64_t faults = 0;
    for (const auto& [mech, m] : report.mechanisms) faults += m.events.page_faults + m.events.copy_faults;
    b.page_faults = static_cast<double>(faults) / messages;
    b.rusage_cpu_ns = per(w.user_ns + w.sys_ns);
    uint64_t kernel = 0;
    for (const auto& c : report.self_cost) kernel += c.run_time_ns;
    b.tracer_kernel_ns = per(kernel);
    return b;
}

double speed(const RunFigures& f) {
    if (f.rtt_p50_ns) return 1e9 / static_cast<double>(f.rtt_p50_ns);  // ping-pong: the median round trip decides
    return f.message_size ? f.throughput_mib_s : f.messages_per_s;
}

bool is_shared_memory(const std::string& workload) {
    const std::string base = workload.substr(0, workload.find(':'));  // "shm:sem" is shm
    return base == "shm" || base == "posix-shm" || base == "mmap";
}

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
