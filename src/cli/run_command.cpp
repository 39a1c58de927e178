// `ipctrace run WORKLOAD`: run a bundled workload under tracing and report.
#include <optional>

#include "cli/command.h"
#include "cli/preflight.h"
#include "collect/measure.h"
#include "cli/metrics_flags.h"
#include "render/html_page.h"
#include "render/output.h"
#include "render/report_json.h"
#include "render/report_text.h"
#include "collect/stop_signals.h"
#include "cli/workload_options.h"

namespace ipctrace {
namespace {

class RunCommand : public Command {
public:
    CLI::App* add_to(CLI::App& app) override {
        CLI::App* cmd = app.add_subcommand("run", "Run a bundled IPC workload under tracing and print the report");
        cmd->add_option("workload", workload_, "Workload name (see 'ipctrace list')")->required();
        options_.add_to(*cmd);
        cmd->add_flag("--json", json_, "Print the report as one JSON document (docs/json.md)");
        cmd->add_option("-o,--output", output_, "Write the report to FILE instead of stdout");
        cmd->add_option("--html", html_, "Also write a self-contained HTML page to FILE: the tables, the map and the latency histograms (docs/html.md)")
            ->type_name("FILE");
        cmd->add_flag("--no-trace", no_trace_, "Run the workload without probes (the baseline)");
        cmd->add_flag("--self-cost", self_cost_, "Also report what each probe cost (kernel BPF run-time statistics)");
        metrics_.add_to(*cmd, true);
        return cmd;
    }

    // 0 ok, 1 the workload or the trace failed, 2 bad input, 128+signal when interrupted
    // (after printing what was measured).
    int execute(const GlobalOptions& global) override {
        install_stop_handlers();  // from here on a stop signal ends the run cleanly, 128+signal
        const workloads::Workload* w = workloads::find(workload_);
        if (!w) return report_error(ExitCode::BadInput, "unknown workload " + quote(workload_) + " ('ipctrace list' shows them)");
        workloads::Params params;
        if (auto st = options_.apply(params); !st) return report_error(ExitCode::BadInput, st.error());
        if (auto st = workloads::resolve(*w, params); !st) return report_error(ExitCode::BadInput, st.error());
        if (self_cost_ && no_trace_) return report_error(ExitCode::BadInput, "--self-cost measures the probes: it cannot go with --no-trace");
        if (auto st = metrics_.check(); !st) return report_error(ExitCode::BadInput, st.error());
        if (!metrics_.address.empty() && no_trace_) return report_error(ExitCode::BadInput, "--metrics serves what the probes count: it cannot go with --no-trace");
        if (!html_.empty() && (html_ == output_ || (html_ == "-" && (output_.empty() || output_ == "-"))))
            return report_error(ExitCode::BadInput, "give --html a file of its own (" + quote(html_) + " is already written by -o)");
        std::optional<Output> out, html;
        try {
            out.emplace(output_);
            if (!html_.empty()) html.emplace(html_);
        } catch (const std::exception& e) {
            return report_error(ExitCode::BadInput, e.what());
        }
        std::vector<std::string> notes;
        if (ExitCode c = preflight(!no_trace_, notes); c != ExitCode::Ok) return code(c);
        std::optional<MetricsServing> metrics;  // listening before the run: a port in use fails first
        try {
            metrics.emplace(metrics_);
        } catch (const MetricsError& e) {
            return report_error(ExitCode::BadInput, e.what());
        }

        Measurement m;
        try {
            m = measure(*w, params, !no_trace_, global.verbose, self_cost_, metrics->live(), !html_.empty());
            m.report.notes = notes;
            out->write(json_ ? report_to_json(m.report).dump(2) + "\n" : report_to_text(m.report));
            if (html) html->write(run_html(m.report, m.map));
            metrics->hold();
        } catch (const Interrupted& e) {
            return report_error(signal_exit_code(stop_signal()), e.what());
        } catch (const std::exception& e) {
            return report_error(ExitCode::Failure, e.what());
        }
        if (m.interrupted) return report_error(signal_exit_code(stop_signal()), "interrupted: the report covers the run until the signal");
        if (!m.report.workload->ok) return report_error(ExitCode::Failure, "workload " + workload_ + " failed: " + m.report.workload->error);
        return 0;
    }

private:
    std::string workload_, output_, html_;
    WorkloadOptionText options_;
    MetricsOptionText metrics_;
    bool json_ = false, no_trace_ = false, self_cost_ = false;
};

class ListCommand : public Command {
public:
    CLI::App* add_to(CLI::App& app) override { return app.add_subcommand("list", "List the bundled workloads"); }
    int execute(const GlobalOptions&) override {
        std::printf("%-11s %-28s %s\n", "WORKLOAD", "MECHANISMS", "DESCRIPTION");
        for (const auto& w : workloads::all()) {
            std::string mechs;
            for (auto m : w.mechanisms) mechs += (mechs.empty() ? "" : ",") + std::string(m);
            std::printf("%-11s %-28s %s\n", std::string(w.name).c_str(), mechs.c_str(), std::string(w.description).c_str());
        }
        std::printf("\nshm, posix-shm and mmap take --sync ring (the default), sem, futex or spin. ring is how real\n"
                    "shared-memory transports wait: a lock-free SPSC ring whose cursors are published in batches,\n"
                    "a bounded spin, then sched_yield, then a futex park that the peer wakes only when it sleeps,\n"
                    "so a steady stream makes no syscall. sem (SysV semaphores in shm, sem_t otherwise), futex\n"
                    "(a wake per message) and spin (never sleeps) are the classic waits it is contrasted with.\n");
        return 0;
    }
};

}  // namespace

std::unique_ptr<Command> make_run_command() { return std::make_unique<RunCommand>(); }
std::unique_ptr<Command> make_list_command() { return std::make_unique<ListCommand>(); }

}  // namespace ipctrace
