#include "model/report.h"

#include <cmath>

namespace ipctrace {

MechanismFigures& MechanismFigures::operator+=(const MechanismFigures& o) {
    for (const auto& [nr, stats] : o.syscalls) syscalls[nr] += stats;
    calls += o.calls;
    events += o.events;
    for (const auto& [opcode, stats] : o.io_uring) io_uring[opcode] += stats;
    return *this;
}

uint64_t Report::lost_events() const {
    // An unresolved fault is still counted (as "other"); only its attribution is lost.
    uint64_t n = 0;
    for (unsigned reason = 0; reason < DROP_COUNT; ++reason)
        if (reason != DROP_FAULT_UNRESOLVED) n += drops[reason];
    return n;
}

Report build_report(const Snapshot& snap) {
    Report report;
    std::map<pid_t, ProcessFigures> by_pid;
    for (const auto& [key, stats] : snap.calls) {
        const auto& [pid, mech, nr] = key;
        MechanismFigures& m = by_pid[pid].mechanisms[mech];
        m.syscalls[nr] += stats;
        m.calls += stats;
    }
    for (const auto& [key, stats] : snap.proc_mech) by_pid[key.first].mechanisms[key.second].events += stats;
    for (const auto& [key, stats] : snap.uring_ops) {
        const auto& [pid, mech, opcode] = key;
        by_pid[pid].mechanisms[mech].io_uring[opcode] += stats;
    }
    for (auto& [pid, proc] : by_pid) {
        proc.pid = pid;
        if (auto it = snap.procs.find(pid); it != snap.procs.end()) proc.info = it->second;
        for (const auto& [mech, figures] : proc.mechanisms) report.mechanisms[mech] += figures;
        report.processes.push_back(std::move(proc));
    }
    report.drops = snap.drops;
    for (const auto& [pid, b] : snap.budget) report.budget += b;
    return report;
}

uint64_t quantile_ns(const LatencyBuckets& hist, double q) {
    uint64_t total = 0;
    for (uint64_t n : hist) total += n;
    if (total == 0) return 0;
    const double rank = q * static_cast<double>(total);
    double seen = 0;
    for (unsigned b = 0; b < hist.size(); ++b) {
        if (hist[b] == 0) continue;
        if (seen + static_cast<double>(hist[b]) >= rank) {
            // Spread evenly over the bucket: off by at most its width, 1/8 of its start.
            const double low = static_cast<double>(ipc_hist_lower_ns(b));
            const double high = static_cast<double>(ipc_hist_lower_ns(b + 1));
            const double within = (rank - seen) / static_cast<double>(hist[b]);
            return static_cast<uint64_t>(low + within * (high - low));
        }
        seen += static_cast<double>(hist[b]);
    }
    return 0;
}

std::string drop_key(unsigned reason) {
    // Indexed by enum ipc_drop: the same rows of bpf/drops.def generate it.
    static constexpr const char* keys[] = {
#define IPC_DROP(id, key, description) key,
#include "drops.def"
#undef IPC_DROP
    };
    static_assert(sizeof keys / sizeof keys[0] == DROP_COUNT);
    return reason < DROP_COUNT ? keys[reason] : "unknown";
}

}  // namespace ipctrace
