// One `ipctrace trace`: load and attach the probes on the target, wait for the end (the
// command exits, the traced processes are gone, the duration is up, or a stop signal), and
// hand back the final snapshot; every interval's snapshot on the way.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/snapshot.h"
#include "collect/spawn.h"
#include "collect/trace_settings.h"

namespace ipctrace {

class LiveSnapshot;

// A -p process vanished between the checks and the attach: bad input, like a wrong pid.
struct TargetGone : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct TraceOutcome {
    Snapshot final;            // the whole trace, read after the probes were detached
    uint64_t duration_ns = 0;  // attach to detach
    StopReason reason = StopReason::Signal;
    int signal = 0;                             // the stop signal (Signal), else 0
    std::optional<ExitStatus> command_status;   // Command: how it ended
    int exec_errno = 0;                         // Command: execvp failed with this (no trace worth reporting)
};

// Called per interval with that interval's figures (snapshot_diff) and its bounds in ns since
// the trace began.
using IntervalSink = std::function<void(const Snapshot& delta, unsigned index, uint64_t start_ns, uint64_t end_ns)>;

// Throws TraceError / std::runtime_error with context when the probes cannot load or attach,
// TargetGone for a -p process that is gone. Once tracing runs, "ipctrace: tracing …" goes to
// stderr (not for a command: its stderr is the command's).
// live (--metrics): scrapes read the maps while the trace runs, then its final snapshot.
TraceOutcome run_trace(const TraceSettings& settings, bool verbose, const IntervalSink& on_interval,
                       LiveSnapshot* live = nullptr);

}  // namespace ipctrace
