// The per-message figures `compare` sets side by side, derived from one run's report,
// and their medians over repeated runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/report.h"

namespace ipctrace {

struct RunFigures {
    std::string workload;
    uint64_t message_size = 0;
    uint64_t messages = 0;
    double throughput_mib_s = 0;
    double messages_per_s = 0;
    uint64_t rtt_p50_ns = 0, rtt_p99_ns = 0;  // ping-pong only
    double syscalls_per_message = 0;          // IPC syscalls
    double copies_per_byte = 0;               // bytes through syscalls (in + out) per payload byte
    double page_faults_per_mib = 0;           // every fault of the roles, per MiB of payload
    double context_switches_per_message = 0;  // voluntary + involuntary
    double syscall_time_share = 0;            // time inside IPC calls / (roles x wall time)
    double ns_per_call = 0;                   // average time inside one IPC call
    double user_s = 0, sys_s = 0;             // CPU time of the roles
    std::string sync;                         // how a shared-memory workload waited
    std::string top_syscall;                  // the IPC syscall it made most often
    bool ok = false;
};

RunFigures derive_figures(const Report& report);
// What `compare` ranks by: MiB/s for payload workloads, messages/s for pure synchronisation.
double speed(const RunFigures& f);
bool is_shared_memory(const std::string& workload);

// Repeated runs of one workload at one size: the median run's figures and the spread.
struct ComparedRow {
    RunFigures median;            // the figures of the run with the median throughput
    double throughput_min = 0, throughput_max = 0;
    int runs = 0;
    bool wide_spread() const;     // (max - min) / median above 25 %
};

ComparedRow summarise(std::vector<RunFigures> runs);

}  // namespace ipctrace
