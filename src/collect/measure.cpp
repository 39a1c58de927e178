#include "collect/measure.h"

#include <cstdio>

#include "collect/live_snapshot.h"
#include "collect/stop_signals.h"
#include "probe/tracer.h"

namespace ipctrace {
namespace {

Measurement measure_run(const workloads::Workload& w, const workloads::Params& params, bool trace, bool verbose,
                        bool self_cost, LiveSnapshot* live, bool track_objects, bool budget) {
    // Loading the probes and starting the roles take a while: a stop signal that arrives
    // meanwhile ends the run before any message moves (RAII removes what was made). A
    // tracer error caused by the signal (an interrupted call) is reported as the interruption.
    auto check_stop = [] {
        if (stop_requested()) throw Interrupted();
    };
    check_stop();
    std::optional<Tracer> tracer;
    std::optional<LiveSnapshot::Following> following;  // declared after `tracer`: ends before it
    if (trace) {
        try {
            // A workload has a few roles, not thousands: small preallocated process tables
            // load ~4 ms faster. A role's child past them would be counted as dropped.
            constexpr uint32_t kRunMaxProcs = 1024;
            // run's workloads are a few processes: the `file` workload's file is their IPC object
            tracer.emplace(Tracer::Scope::Targets, verbose, 0, track_objects ? Tracer::Objects::IpcAndFiles : Tracer::Objects::None,
                           kRunMaxProcs, budget);
            if (self_cost) tracer->enable_self_cost();
            check_stop();
            tracer->attach();  // nothing is counted until a target is added
            if (live) following.emplace(*live, *tracer);
        } catch (const TraceError&) {
            check_stop();
            throw;
        }
    }
    check_stop();
    workloads::Run run(w, params);
    try {
        run.start();
    } catch (const std::runtime_error&) {
        check_stop();  // Ctrl-C reached the waiting roles too: they died of it
        throw;
    }
    if (tracer)
        for (pid_t pid : run.pids()) tracer->add_target(pid);
    check_stop();
    // The roles' setup and their wait for the start lie outside the workload's clock (first
    // to last message): the time budget counts from here, as that clock does.
    TimeBudget before_go;
    if (tracer && budget)
        for (const auto& [pid, b] : tracer->budget()) before_go += b;
    run.go();
    workloads::Result result = run.wait(stop_requested);

    Measurement m;
    if (tracer) {
        tracer->detach();
        Snapshot final = tracer->snapshot();
        if (live) live->finish(final);  // the very numbers of the report
        m.report = build_report(final);
        if (track_objects) m.map = build_comm_map(final);
        m.report.budget -= before_go;
        if (self_cost) m.report.self_cost = tracer->self_cost();
    }
    m.report.traced = trace;
    m.report.include_file_io = w.name == "file";
    m.report.workload = std::move(result);
    m.interrupted = stop_requested();
    return m;
}

}  // namespace

Measurement measure(const workloads::Workload& w, const workloads::Params& params, bool trace, bool verbose,
                    bool self_cost, LiveSnapshot* live, bool track_objects) {
    return measure_run(w, params, trace, verbose, self_cost, live, track_objects, false);
}

Measurement measure_with_budget(const workloads::Workload& w, const workloads::Params& params, bool verbose) {
    return measure_run(w, params, true, verbose, true, nullptr, false, true);
}

}  // namespace ipctrace
