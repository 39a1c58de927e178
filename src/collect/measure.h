// One traced (or untraced) run of a bundled workload: the building block of `run` and `compare`.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/comm_map.h"
#include "model/report.h"
#include "workload.h"

namespace ipctrace {

class LiveSnapshot;

struct Measurement {
    Report report;             // report.workload is always set
    std::optional<CommMap> map;  // with track_objects: which role talked to which (the --html page draws it)
    bool interrupted = false;  // Ctrl-C/SIGTERM arrived: the roles were killed, the report is partial
};

// A stop signal arrived before the workload was let go: nothing was measured. Everything
// made so far (probes, roles, IPC objects) is gone by the time this is caught.
struct Interrupted : std::runtime_error {
    Interrupted() : std::runtime_error("interrupted before the workload started: nothing was measured") {}
};

// Runs `w` with resolved params: attaches the probes, forks the roles, puts their pids in the
// target map, lets them go, waits, reads the maps. Throws on a tracer or harness failure, and
// Interrupted when a stop signal (stop_signals.h) came before the roles were let go.
// self_cost: also record what each probe cost (the kernel's BPF run-time statistics).
// live (--metrics): scrapes read the maps while the run goes on, then its final snapshot.
// track_objects: also count per IPC object, so that Measurement::map says which role talked to which.
Measurement measure(const workloads::Workload& w, const workloads::Params& params, bool trace, bool verbose,
                    bool self_cost = false, LiveSnapshot* live = nullptr, bool track_objects = false);

// compare's traced run: as measure(trace, self_cost), and the time budget (bpf/budget.h) from
// the moment the roles are let go, in report.budget.
Measurement measure_with_budget(const workloads::Workload& w, const workloads::Params& params, bool verbose);

}  // namespace ipctrace
