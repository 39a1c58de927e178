#include "run_command.h"

#include <cstdio>
#include <optional>

#include "output.h"
#include "report_json.h"
#include "report_text.h"
#include "stop_signals.h"
#include "system_checks.h"
#include "tracer.h"

namespace ipctrace {
namespace {

int fail(int code, const std::string& message) {
    std::fprintf(stderr, "ipctrace: %s\n", message.c_str());
    return code;
}

}  // namespace

int run_command(const RunOptions& o) {
    const workloads::Workload* w = workloads::find(o.workload);
    if (!w) return fail(2, "unknown workload '" + o.workload + "' ('ipctrace list' shows them)");
    workloads::Params params = o.params;
    if (auto err = workloads::resolve(*w, params)) return fail(2, *err);
    if (o.trace) {
        if (auto err = missing_bpf_privileges()) return fail(2, *err);
        if (auto err = missing_btf()) return fail(1, *err);
    }
    std::optional<Output> out;
    try {
        out.emplace(o.output);
    } catch (const std::exception& e) {
        return fail(2, e.what());
    }

    install_stop_handlers();
    Report report;
    report.traced = o.trace;
    report.include_file_io = w->name == "file";
    try {
        std::optional<Tracer> tracer;
        if (o.trace) {
            if (auto note = tracefs_note()) {
                std::fprintf(stderr, "ipctrace: %s\n", note->c_str());
                report.notes.push_back(*note);
            }
            tracer.emplace(Tracer::Scope::Targets, o.verbose);
            tracer->attach();  // nothing is counted until a target is added
        }
        if (stop_requested()) return fail(128 + stop_signal(), "interrupted before the workload started");

        workloads::Run run(*w, params);
        run.start();
        if (tracer)
            for (pid_t pid : run.pids()) tracer->add_target(pid);
        run.go();
        workloads::Result result = run.wait(stop_requested);
        if (tracer) {
            tracer->detach();
            report = [&] {
                Report r = build_report(tracer->snapshot());
                r.notes = report.notes;
                r.include_file_io = report.include_file_io;
                return r;
            }();
        }
        report.workload = std::move(result);
    } catch (const std::exception& e) {
        return fail(1, e.what());
    }

    try {
        out->write(o.json ? report_to_json(report).dump(2) + "\n" : report_to_text(report));
    } catch (const std::exception& e) {
        return fail(1, e.what());
    }
    if (stop_requested()) return fail(128 + stop_signal(), "interrupted: the report covers the run until the signal");
    if (!report.workload->ok) return fail(1, "workload " + o.workload + " failed: " + report.workload->error);
    return 0;
}

}  // namespace ipctrace
