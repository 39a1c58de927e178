#include "model/report.h"

#include <algorithm>
#include <cmath>

namespace ipctrace {

MechanismFigures& MechanismFigures::operator+=(const MechanismFigures& o) {
    for (const auto& [nr, stats] : o.syscalls) syscalls[nr] += stats;
    calls += o.calls;
    events += o.events;
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
    for (auto& [pid, proc] : by_pid) {
        proc.pid = pid;
        if (auto it = snap.procs.find(pid); it != snap.procs.end()) proc.info = it->second;
        for (const auto& [mech, figures] : proc.mechanisms) report.mechanisms[mech] += figures;
        report.processes.push_back(std::move(proc));
    }
    report.drops = snap.drops;
    return report;
}

uint64_t hist_lo_ns(size_t slot) { return ipc_hist_slot_lo(static_cast<unsigned>(slot)); }
uint64_t hist_hi_ns(size_t slot) { return ipc_hist_slot_lo(static_cast<unsigned>(slot) + 1); }

QuantileEstimate quantile(const Histogram& hist, double q) {
    uint64_t total = 0;
    for (uint64_t n : hist) total += n;
    if (total == 0) return {};
    // The smallest bucket holding the ceil(q * total)-th call (at least the first).
    const double rank = std::max(1.0, std::ceil(q * static_cast<double>(total) - 1e-9));
    double seen = 0;
    for (size_t slot = 0; slot < hist.size(); ++slot) {
        if (hist[slot] == 0) continue;
        seen += static_cast<double>(hist[slot]);
        if (seen >= rank) {
            const uint64_t lo = hist_lo_ns(slot), hi = hist_hi_ns(slot);
            // The midpoint halves the worst error.
            return {lo + (hi - lo) / 2, lo, hi};
        }
    }
    return {};
}

std::array<uint64_t, IPC_HIST_LOG2_SLOTS> log2_histogram(const Histogram& hist) {
    std::array<uint64_t, IPC_HIST_LOG2_SLOTS> out{};
    for (size_t slot = 0; slot < hist.size(); ++slot) out[ipc_hist_log2_slot(static_cast<unsigned>(slot))] += hist[slot];
    return out;
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
