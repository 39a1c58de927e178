#include "measure.h"

#include <cstdio>

#include "command.h"
#include "stop_signals.h"
#include "system_checks.h"
#include "tracer.h"

namespace ipctrace {

std::optional<int> preflight(bool trace, std::vector<std::string>& notes) {
    if (!trace) return std::nullopt;
    if (auto err = missing_bpf_privileges()) return report_error(2, *err);
    if (auto err = missing_btf()) return report_error(1, *err);
    if (auto note = tracefs_note()) {
        std::fprintf(stderr, "ipctrace: %s\n", note->c_str());
        notes.push_back(*note);
    }
    return std::nullopt;
}

Measurement measure(const workloads::Workload& w, const workloads::Params& params, bool trace, bool verbose) {
    std::optional<Tracer> tracer;
    if (trace) {
        tracer.emplace(Tracer::Scope::Targets, verbose);
        tracer->attach();  // nothing is counted until a target is added
    }
    workloads::Run run(w, params);
    run.start();
    if (tracer)
        for (pid_t pid : run.pids()) tracer->add_target(pid);
    run.go();
    workloads::Result result = run.wait(stop_requested);

    Measurement m;
    if (tracer) {
        tracer->detach();
        m.report = build_report(tracer->snapshot());
    }
    m.report.traced = trace;
    m.report.include_file_io = w.name == "file";
    m.report.workload = std::move(result);
    m.interrupted = stop_requested();
    return m;
}

}  // namespace ipctrace
