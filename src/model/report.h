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
    std::map<unsigned, UringOpStats> io_uring;  // the operations io_uring carried on its files, by opcode
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
    TimeBudget budget;                   // where the traced processes' time went, summed (compare's budget)

    uint64_t lost_events() const;
};

Report build_report(const Snapshot& snap);

// The q-quantile (0..1) of a latency histogram, interpolated inside its bucket; 0 when empty.
uint64_t quantile_ns(const LatencyBuckets& hist, double q);

std::string drop_key(unsigned reason);

}  // namespace ipctrace
