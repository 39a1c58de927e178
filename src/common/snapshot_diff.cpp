#include "common/snapshot_diff.h"

namespace ipctrace {
namespace {

uint64_t minus(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

CallStats minus(const CallStats& a, const CallStats& b) {
    CallStats d;
    d.count = minus(a.count, b.count);
    d.errors = minus(a.errors, b.errors);
    d.total_ns = minus(a.total_ns, b.total_ns);
    d.bytes_in = minus(a.bytes_in, b.bytes_in);
    d.bytes_out = minus(a.bytes_out, b.bytes_out);
    d.bytes_zero_copy = minus(a.bytes_zero_copy, b.bytes_zero_copy);
    d.bytes_direct = minus(a.bytes_direct, b.bytes_direct);
    for (size_t i = 0; i < d.hist.size(); ++i) d.hist[i] = minus(a.hist[i], b.hist[i]);
    return d;
}

WaitStats minus(const WaitStats& a, const WaitStats& b) {
    return {minus(a.wait_ns, b.wait_ns), minus(a.ready_fds, b.ready_fds), minus(a.idle_ns, b.idle_ns), minus(a.timeouts, b.timeouts)};
}

FdPassStats minus(const FdPassStats& a, const FdPassStats& b) {
    FdPassStats d;
    d.sent = minus(a.sent, b.sent);
    d.received = minus(a.received, b.received);
    for (size_t i = 0; i < d.sent_kinds.size(); ++i) {
        d.sent_kinds[i] = minus(a.sent_kinds[i], b.sent_kinds[i]);
        d.received_kinds[i] = minus(a.received_kinds[i], b.received_kinds[i]);
    }
    return d;
}

ProcMechStats minus(const ProcMechStats& a, const ProcMechStats& b) {
    ProcMechStats d{minus(a.page_faults, b.page_faults),
            minus(a.copy_faults, b.copy_faults),
            minus(a.voluntary_switches, b.voluntary_switches),
            minus(a.involuntary_switches, b.involuntary_switches),
            minus(a.signals_sent, b.signals_sent),
            minus(a.signals_delivered, b.signals_delivered),
            minus(a.all_syscalls, b.all_syscalls),
            minus(a.mmap_private_file, b.mmap_private_file),
            minus(a.mmap_private_anon, b.mmap_private_anon),
            minus(a.mmap_shared, b.mmap_shared),
            minus(a.munmaps, b.munmaps),
            minus(a.mprotects, b.mprotects),
            minus(a.mremaps, b.mremaps),
            minus(a.file_faults, b.file_faults)};
    d.waits = minus(a.waits, b.waits);
    d.fds_passed = minus(a.fds_passed, b.fds_passed);
    return d;
}

UringOpStats minus(const UringOpStats& a, const UringOpStats& b) {
    return {minus(a.submitted, b.submitted), minus(a.completed, b.completed), minus(a.errors, b.errors),
            minus(a.bytes_in, b.bytes_in),   minus(a.bytes_out, b.bytes_out), minus(a.bytes_zero_copy, b.bytes_zero_copy)};
}

bool empty(const UringOpStats& s) { return s.submitted == 0 && s.completed == 0; }

bool empty(const CallStats& c) {
    // Every call lands in one histogram slot, so count covers the rest.
    return c.count == 0 && c.bytes_in == 0 && c.bytes_out == 0 && c.bytes_zero_copy == 0 && c.bytes_direct == 0;
}

bool empty(const ProcMechStats& s) {
    return s.page_faults == 0 && s.copy_faults == 0 && s.voluntary_switches == 0 && s.involuntary_switches == 0 &&
           s.signals_sent == 0 && s.signals_delivered == 0 && s.all_syscalls == 0 &&
           s.mmap_private_file == 0 && s.mmap_private_anon == 0 && s.mmap_shared == 0 && s.munmaps == 0 && s.mprotects == 0 &&
           s.mremaps == 0 && s.waits.wait_ns == 0 && s.waits.idle_ns == 0 && s.waits.timeouts == 0 && s.fds_passed.sent == 0 &&
           s.fds_passed.received == 0;
}

// later - earlier over one map, keeping only entries that changed.
template <typename Map>
Map diff_map(const Map& later, const Map& earlier) {
    Map out;
    for (const auto& [key, value] : later) {
        const auto before = earlier.find(key);
        auto d = before == earlier.end() ? value : minus(value, before->second);
        if (!empty(d)) out.emplace(key, d);
    }
    return out;
}

}  // namespace

Snapshot snapshot_diff(const Snapshot& later, const Snapshot& earlier) {
    Snapshot d;
    d.calls = diff_map(later.calls, earlier.calls);
    d.proc_mech = diff_map(later.proc_mech, earlier.proc_mech);
    d.uring_ops = diff_map(later.uring_ops, earlier.uring_ops);
    auto keep_info = [&](pid_t pid) {
        if (const auto it = later.procs.find(pid); it != later.procs.end()) d.procs.emplace(pid, it->second);
    };
    for (const auto& entry : d.calls) keep_info(std::get<0>(entry.first));
    for (const auto& entry : d.proc_mech) keep_info(entry.first.first);
    for (const auto& entry : d.uring_ops) keep_info(std::get<0>(entry.first));
    for (size_t i = 0; i < d.drops.size(); ++i) d.drops[i] = minus(later.drops[i], earlier.drops[i]);
    d.kernel_maps = later.kernel_maps;  // a level, not a count: the later reading's
    return d;
}

Snapshot filter_by_comm(const Snapshot& snap, const std::string& comm) {
    const std::string want = comm.substr(0, IPC_COMM_LEN - 1);
    auto keep = [&](pid_t pid) {
        const auto it = snap.procs.find(pid);
        return it != snap.procs.end() && it->second.comm == want;
    };
    Snapshot out;
    for (const auto& [key, stats] : snap.calls)
        if (keep(std::get<0>(key))) out.calls.emplace(key, stats);
    for (const auto& [key, stats] : snap.proc_mech)
        if (keep(key.first)) out.proc_mech.emplace(key, stats);
    for (const auto& [key, stats] : snap.uring_ops)
        if (keep(std::get<0>(key))) out.uring_ops.emplace(key, stats);
    for (const auto& [pid, info] : snap.procs)
        if (info.comm == want) out.procs.emplace(pid, info);
    out.drops = snap.drops;  // what was lost cannot be attributed to a process: keep it all
    out.kernel_maps = snap.kernel_maps;
    return out;
}

}  // namespace ipctrace
