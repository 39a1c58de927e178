// The report model: what one trace measured, per mechanism, per syscall and per process.
// Built from a Snapshot (and the workload's own figures for `run`); printed as text or JSON.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/snapshot.h"
#include "workload.h"

namespace ipctrace {

inline constexpr int kSchemaVersion = 1;

struct MechanismFigures {
    std::map<unsigned, CallStats> syscalls;  // by syscall number
    CallStats calls;                         // all its syscalls summed
    ProcMechStats events;                    // faults, context switches, signals
    MechanismFigures& operator+=(const MechanismFigures& o);
};

using MechanismTable = std::map<Mechanism, MechanismFigures>;

struct ProcessFigures {
    pid_t pid = 0;
    ProcInfo info;
    MechanismTable mechanisms;
};

struct Report {
    std::string mode = "run";
    std::optional<workloads::Result> workload;  // for `run`
    MechanismTable mechanisms;  // every mechanism seen, MECH_NONE ("other") and MECH_FILE included
    std::vector<ProcessFigures> processes;
    std::array<uint64_t, DROP_COUNT> drops{};
    bool traced = true;          // false for --no-trace
    bool include_file_io = false;  // regular-file I/O counted as IPC (the `file` workload)
    std::vector<std::string> notes;
    std::vector<ProgramCost> self_cost;  // --self-cost: what each probe cost, from the kernel

    uint64_t lost_events() const;
};

Report build_report(const Snapshot& snap);

using Histogram = std::array<uint64_t, IPC_HIST_SLOTS>;

// The q-quantile (0..1) of a latency histogram (bpf/histogram.h): the bucket it falls in,
// [lo_ns, hi_ns), and that bucket's midpoint as the estimate, within 6.25 % of any value in
// the bucket from 8 ns to 4.3 s (log2 buckets above). All 0 when empty. The last bucket is open-ended: its hi_ns is
// where the next one would start.
struct QuantileEstimate {
    uint64_t ns = 0, lo_ns = 0, hi_ns = 0;
};
QuantileEstimate quantile(const Histogram& hist, double q);
inline uint64_t quantile_ns(const Histogram& hist, double q) { return quantile(hist, q).ns; }
// Bucket bounds in ns: [hist_lo_ns(slot), hist_hi_ns(slot)).
uint64_t hist_lo_ns(size_t slot);
uint64_t hist_hi_ns(size_t slot);
// The same calls in log2 slots (k: [2^k, 2^(k+1)) ns, 0 also holding 0): the coarser view the
// JSON's latency_log2_ns and the Prometheus histogram keep.
std::array<uint64_t, IPC_HIST_LOG2_SLOTS> log2_histogram(const Histogram& hist);

std::string drop_key(unsigned reason);

}  // namespace ipctrace
