// The per-message figures `compare` sets side by side, derived from one run's report,
// and their medians over repeated runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/report.h"

namespace ipctrace {

// Where the traced run's time per message went, in ns of role time (the roles' wall time
// added up: two roles busy for a 1 us message make 2 us). Every part is timed on its own by
// the probes (bpf/budget.h); `unexplained` is what they did not see, and may be negative.
struct MessageBudget {
    int roles = 0;
    double wall_ns = 0;        // the traced run's wall time per message (per round trip in ping-pong)
    double role_ns = 0;        // each role from the start to its last message, added up: what the parts add up to
    double copy_calls_ns = 0;  // on CPU inside IPC calls that copy bytes (read, write, send, msgsnd…)
    double sync_calls_ns = 0;  // on CPU inside IPC calls that move none (futex, semop…)
    double off_cpu_in_calls_ns = 0;   // off CPU inside IPC calls: blocked on the peer, its wake-up, preemption
    double off_cpu_outside_ns = 0;    // off CPU outside IPC calls: preempted, or blocked elsewhere
    double user_ns = 0;        // on CPU outside IPC calls: producing and checking the payload, memory traffic
    double tracer_ns = 0;      // ipctrace's own programs, run for the roles
    double unexplained_ns = 0; // role_ns minus the parts above
    double page_faults = 0;    // faults per message; their time is in the part they hit (no exit event)
    double rusage_cpu_ns = 0;  // the roles' rusage (user + sys) per message: the kernel's check of the on-CPU parts
    double tracer_kernel_ns = 0;  // the kernel's BPF run-time statistics of ipctrace's programs, every process, per message
    bool measured() const { return role_ns > 0; }
    double explained_ns() const;
    double error() const;      // |unexplained| / role_ns
};

struct RunFigures {
    std::string workload;
    uint64_t message_size = 0;
    uint64_t messages = 0;
    double throughput_mib_s = 0;
    double messages_per_s = 0;                // untraced when compare measured both
    double traced_messages_per_s = 0;         // the traced run's: the difference is the tracer's cost
    double traced_throughput_mib_s = 0;
    double cpu_s_per_million = 0;             // the roles' CPU (user + sys) per million messages
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
    MessageBudget budget;                     // of the traced run
};

// From one traced report: speed, CPU and costs all of that run.
RunFigures derive_figures(const Report& report);
// Costs and budget from the traced run, speed, latency and CPU from the untraced run of the
// same workload and size: the ranking never includes the tracer.
RunFigures derive_figures(const Report& traced, const Report& untraced);
MessageBudget derive_budget(const Report& traced);
// What `compare` ranks by: MiB/s for payload workloads, messages/s for pure synchronisation,
// round trips per second at the median round trip (1 / RTT p50) in ping-pong.
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
