// `ipctrace trace`: the IPC of software ipctrace did not write — running processes (-p), a
// command it runs (-- CMD), a cgroup, or the whole system — reported per mechanism and per
// process. See docs/trace.md.
#include <unistd.h>

#include <cstring>
#include <optional>

#include "cli/command.h"
#include "cli/metrics_flags.h"
#include "ipctrace.h"  // IPC_DEFAULT_*: the kernel tables' built-in sizes
#include "render/comm_map_render.h"
#include "render/html_page.h"
#include "render/output.h"
#include "collect/stop_signals.h"
#include "collect/system_checks.h"
#include "render/trace_json.h"
#include "cli/trace_options.h"
#include "model/trace_report.h"
#include "collect/trace_session.h"
#include "render/trace_text.h"

namespace ipctrace {
namespace {

class TraceCommand : public Command {
public:
    CLI::App* add_to(CLI::App& app) override {
        cmd_ = app.add_subcommand("trace", "Trace the IPC of running processes, of a command, of a cgroup or of the whole system");
        cmd_->add_option("-p,--pid", text_.pids,
                         "Trace these processes (PID[,PID...]), all their threads, and the children they fork from now on; "
                         "stops when all of them have exited")
            ->allow_extra_args(false)
            ->type_name("PID[,PID...]");
        cmd_->add_flag("--all", text_.all, "Trace every process on the system but ipctrace itself");
        cmd_->add_option("--cgroup", text_.cgroup,
                         "Trace the processes of this cgroup v2 (a directory on cgroup2, or a path relative to its mount)")
            ->type_name("PATH");
        cmd_->add_option("command", text_.command,
                         "The command to run and trace with all its descendants until it exits (ipctrace then exits with "
                         "its status); every word from the command's name on is the command's, '--' before it is optional")
            ->type_name("CMD [ARGS...]");
        cmd_->add_option("-d,--duration", text_.duration, "Stop tracing after SEC seconds (a command runs on)")->type_name("SEC");
        cmd_->add_option("-i,--interval", text_.interval,
                         "Also print a report every SEC seconds with that interval's figures (with --json: one line each)")
            ->type_name("SEC");
        cmd_->add_option("--top", text_.top, "List only the N processes with the most IPC syscalls")->type_name("N");
        cmd_->add_option("--comm", text_.comm, "Report only the processes whose command name (comm) is NAME")->type_name("NAME");
        cmd_->add_option("--max-procs", text_.max_procs,
                         "Size the kernel's per-process tables for N processes (default: " + std::to_string(IPC_DEFAULT_TARGETS) +
                             " followed, " + std::to_string(IPC_DEFAULT_PROCS) +
                             " recorded); processes past that are counted as lost, never silently")
            ->type_name("N");
        cmd_->add_option("--keep-exited", text_.keep_exited,
                         "Keep a report row of its own for up to N exited processes (default 1024); older ones are "
                         "folded into one row per command name")
            ->type_name("N");
        cmd_->add_flag("--json", json_, "Print the report as JSON (docs/trace.md)");
        cmd_->add_option("-o,--output", output_, "Write the reports to FILE instead of stdout (stderr for a command)")->type_name("FILE");
        cmd_->add_flag("--include-file-io", include_file_io_, "Count regular-file reads and writes as IPC, each file an object of the map (off: reported apart, no file in the map)");
        cmd_->add_option("--html", html_, "Also write a self-contained HTML page to FILE: the tables, the map drawn as a graph, the latency histograms (docs/html.md)")
            ->type_name("FILE");
        cmd_->add_option("--dot", dot_, "Also write the communication map (who talks to whom) as Graphviz DOT to FILE")
            ->type_name("FILE");
        metrics_.add_to(*cmd_, false);
        cmd_->footer(
            "Exactly one of -p, --all, --cgroup or [--] CMD. The report goes to stdout (or -o FILE) when the trace ends;\n"
            "for a command it goes to stderr (or -o FILE), as strace -c does, so the command's stdout stays its own.\n"
            "A command's report comes after it exited, and ipctrace exits with its status (128+N if killed by signal N).\n"
            "Ctrl-C ends a -p/--all/--cgroup trace (exit 0); for a command it is the command's, which ipctrace waits for.");
        return cmd_;
    }

    int execute(const GlobalOptions& global) override {
        // From here on SIGINT, SIGTERM and SIGHUP only set the stop flag, until ipctrace exits
        // (stop_signals.h): one while the options are checked or the -o file is opened ends
        // ipctrace with one line; one while tracing ends the trace; more only hurry it.
        install_stop_handlers();
        auto checked = check_trace_options(text_, getpid());
        if (!checked) return report_error(ExitCode::BadInput, checked.error());
        TraceSettings settings = std::move(checked).value();
        settings.include_file_io = include_file_io_;
        if (auto st = metrics_.check(); !st) return report_error(ExitCode::BadInput, st.error());
        const bool command = settings.target.kind == TraceTarget::Kind::Command;
        if (!html_.empty() && (html_ == output_ || html_ == dot_ || html_ == "-"))
            return report_error(ExitCode::BadInput, "give --html a file of its own, not stdout or the -o/--dot file");
        std::optional<Output> out, dot, html;
        try {
            // As strace -c: a command's stdout is its own, the report goes to stderr (or -o).
            out.emplace(output_, command ? stderr : stdout, settings.interval_s ? Output::Kind::Lines : Output::Kind::Document);
            if (!dot_.empty()) dot.emplace(dot_);
            if (!html_.empty()) html.emplace(html_);
        } catch (const std::exception& e) {
            return report_error(ExitCode::BadInput, e.what());
        }
        if (!check_bpf_privileges()) return report_error(ExitCode::BadInput, "ipctrace trace needs root, or CAP_BPF and CAP_PERFMON: run it with sudo");
        if (auto st = check_kernel_btf(); !st) return report_error(ExitCode::Failure, st.error());
        // A command's stderr is its own: ipctrace's notes go into the report only.
        if (!command)
            for (const auto& note : settings.notes) std::fprintf(stderr, "ipctrace: %s\n", note.c_str());
        if (auto note = tracefs_note()) settings.notes.push_back(*note);
        std::optional<MetricsServing> metrics;  // listening before the probes load: a port in use fails first
        try {
            metrics.emplace(metrics_, !command);
        } catch (const MetricsError& e) {
            return report_error(ExitCode::BadInput, e.what());
        }
        if (command && !metrics->url().empty()) settings.notes.push_back("metrics served on " + metrics->url());

        TraceReportOptions options{settings.comm, settings.top, include_file_io_, settings.notes};
        const bool lines = settings.interval_s.has_value();  // JSON lines: one object per line
        auto print = [&](const TraceReport& t) {
            // A comm is whatever bytes a program set (prctl, exec of any file name): never let
            // one that is not UTF-8 make the JSON throw.
            out->write(json_ ? trace_to_json(t).dump(lines ? -1 : 2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n"
                             : trace_to_text(t) + (t.interval ? "\n" : ""));
        };
        auto on_interval = [&](const Snapshot& delta, unsigned index, uint64_t start_ns, uint64_t end_ns) {
            TraceReport t = base(settings);
            t.report = build_trace_report(delta, options, t.processes_traced);
            t.kernel_maps = delta.kernel_maps;
            t.report.mode = "interval";
            t.interval = IntervalBounds{index, start_ns, end_ns};
            t.duration_ns = end_ns - start_ns;
            print(t);
        };

        if (stop_requested())
            return report_error(signal_exit_code(stop_signal()), command ? "interrupted before tracing began: the command was not started"
                                                             : "interrupted before tracing began: nothing was traced");

        TraceOutcome outcome;
        try {
            outcome = run_trace(settings, global.verbose, on_interval, metrics->live());
        } catch (const TargetGone& e) {
            return report_error(ExitCode::BadInput, e.what());
        } catch (const std::exception& e) {
            return report_error(ExitCode::Failure, e.what());
        }
        if (outcome.exec_errno) {
            const int code = outcome.command_status ? outcome.command_status->shell_code() : 127;
            return report_error(code, "cannot run '" + settings.target.command[0] + "': " + std::strerror(outcome.exec_errno));
        }

        TraceReport t = base(settings);
        t.report = build_trace_report(outcome.final, options, t.processes_traced, &t.processes_folded);
        t.kernel_maps = outcome.final.kernel_maps;
        t.duration_ns = outcome.duration_ns;
        t.reason = outcome.reason;
        t.signal = outcome.signal;
        t.command_status = outcome.command_status;
        t.map = build_comm_map(outcome.final);
        try {
            print(t);
            if (dot) dot->write(comm_map_dot(*t.map));
            if (html) html->write(trace_html(t));
        } catch (const std::exception& e) {
            return report_error(ExitCode::Failure, e.what());
        }
        if (command && !outcome.command_status) return signal_exit_code(stop_signal());  // repeated signals: not waited for
        return command && outcome.command_status ? outcome.command_status->shell_code() : 0;
    }

private:
    static TraceReport base(const TraceSettings& s) {
        TraceReport t;
        t.target = s.target;
        t.comm = s.comm;
        t.top = s.top;
        t.max_procs = s.max_procs;
        return t;
    }

    CLI::App* cmd_ = nullptr;
    TraceOptionText text_;
    MetricsOptionText metrics_;
    std::string output_;
    std::string dot_, html_;
    bool json_ = false, include_file_io_ = false;
};

}  // namespace

std::unique_ptr<Command> make_trace_command() { return std::make_unique<TraceCommand>(); }

}  // namespace ipctrace
