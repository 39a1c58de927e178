// The driver of the `trace` stop-signal tests (test_reliability_trace_signals.cpp).
#pragma once

#include "reliability_fixture.h"

namespace ipctrace::testing {

// ---- stop signals to `trace` -------------------------------------------------------------
//
// `trace -- CMD`, `trace -p PID` and `trace --all`, stopped by SIGINT or SIGTERM at several
// moments: right after launch (parsing, checking the machine), while the probes load, while
// tracing, between -i intervals; text and --json (each document validated against the
// schema). The traced IPC comes from a bundled workload run untraced (`run pipe --no-trace`):
// for -p and --all a separate process whose roles are the targets, for a command the command
// itself (ipctrace run, which forks its roles and handles SIGINT/SIGTERM like any program).
//
// The contract (docs/trace.md): a -p/--all trace is stopped by the signal, prints the report
// of the trace until then and exits 0; a command's trace forwards the signal to the command,
// waits for it and exits with its status (128+N here), after the report. A signal that comes
// before ipctrace installed its handlers (the first milliseconds) kills it: nothing is on
// stdout, nothing was loaded. Either way nothing may remain: no program, no process of the
// command, no run directory, no -o file without a report.

enum class TraceKind { Command, Pids, All };
enum class TraceMoment { AtStart, DuringLoad, Tracing, Intervals };

struct TraceStop {
    TraceKind kind;
    int sig;
    TraceMoment when;
    bool json;
    bool group = false;  // Ctrl-C: to ipctrace's whole process group, the command included
};

inline std::string trace_kind_name(TraceKind k) { return k == TraceKind::Command ? "Command" : k == TraceKind::Pids ? "Pids" : "All"; }
inline std::string trace_moment_name(TraceMoment m) {
    return m == TraceMoment::AtStart ? "AtStart" : m == TraceMoment::DuringLoad ? "DuringLoad" : m == TraceMoment::Tracing ? "Tracing" : "Intervals";
}
inline std::string trace_case_name(const TraceStop& c) {
    return trace_kind_name(c.kind) + "_SIG" + sigabbrev_np(c.sig) + "_" + trace_moment_name(c.when) + (c.json ? "_Json" : "_Text") +
           (c.group ? "_ToTheGroup" : "");
}
inline void PrintTo(const TraceStop& c, std::ostream* os) { *os << trace_case_name(c); }
inline void PrintTo(TraceMoment m, std::ostream* os) { *os << trace_moment_name(m); }

// Every process below `root` (children, grandchildren, …), alive now.
inline std::vector<ProcId> descendants_of(pid_t root) {
    std::map<pid_t, std::vector<std::pair<pid_t, unsigned long long>>> kids;
    for (pid_t pid : all_pids())
        if (const auto st = proc_stat(pid); st && st->state != 'Z') kids[st->ppid].push_back({pid, st->start});
    std::vector<ProcId> out;
    std::vector<pid_t> todo = {root};
    while (!todo.empty()) {
        const pid_t p = todo.back();
        todo.pop_back();
        for (const auto& [pid, start] : kids[p]) {
            out.push_back({pid, start});
            todo.push_back(pid);
        }
    }
    return out;
}

// The pipe calls of a trace's JSON report (its mechanisms' totals).
inline unsigned long pipe_calls(const json& doc) {
    const json* m = doc.contains("mechanisms") && doc["mechanisms"].contains("pipe") ? &doc["mechanisms"]["pipe"] : nullptr;
    return m && m->contains("syscall_count") ? (*m)["syscall_count"].get<unsigned long>() : 0;
}

class TraceStopped : public Reliability {
protected:
    // Remembers every process below `b` (a traced command forks, and so do its children).
    void track_descendants(const Background& b) {
        for (const auto& r : descendants_of(b.pid()))
            if (std::find_if(roles_.begin(), roles_.end(), [&](const ProcId& x) { return x.pid == r.pid && x.start == r.start; }) ==
                roles_.end())
                roles_.push_back(r);
    }

    bool wait_for_descendants(Background& b, size_t n, Ms timeout = 15s) {
        return eventually(
                   [&] {
                       track_descendants(b);
                       return descendants_of(b.pid()).size() >= n || !b.running();
                   },
                   timeout, 2ms) &&
               b.running();
    }

    bool wait_for_end(Background& b, Ms timeout = 15s) {
        return eventually(
            [&] {
                track_descendants(b);
                return !b.running();
            },
            timeout, 2ms);
    }

    // A bundled workload doing pipe I/O for ~minutes, untraced: the IPC a -p/--all trace sees.
    Background& start_victim() {
        Background& v = start({"run", "pipe", "--no-trace", "--count", "500M", "--size", "64"});
        victim_ = &v;
        return v;
    }

    void stop_victim() {
        if (!victim_) return;
        victim_->signal(SIGINT);
        EXPECT_TRUE(wait_for_exit(*victim_)) << "the untraced workload did not stop";
        victim_ = nullptr;
    }

    // Runs one case; `delay`: signal after that long instead of at `c.when`'s event (the sweep).
    void run_case(const TraceStop& c, std::optional<Ms> delay = std::nullopt) {
        SCOPED_TRACE(trace_case_name(c) + (delay ? " after " + std::to_string(delay->count()) + " ms" : ""));
        at_moment_ = !delay;
        std::vector<std::string> args = {"trace"};
        std::vector<pid_t> targets;
        if (c.kind != TraceKind::Command) {
            Background& v = start_victim();
            ASSERT_TRUE(wait_for_roles(v, 2)) << v.err();
            for (const auto& r : children_of(v.pid())) targets.push_back(r.pid);
            ASSERT_EQ(targets.size(), 2u);
        }
        if (c.kind == TraceKind::Pids) args.insert(args.end(), {"-p", std::to_string(targets[0]) + "," + std::to_string(targets[1])});
        if (c.kind == TraceKind::All) args.push_back("--all");
        if (c.when == TraceMoment::Intervals) args.insert(args.end(), {"-i", "0.05"});
        char report_path[] = "/tmp/ipctrace-test-trace-XXXXXX";
        std::string report;
        if (c.json) {
            // A name that does not exist yet: ipctrace creates the file, and must not leave it
            // empty when no report came.
            const int fd = mkstemp(report_path);
            ASSERT_GE(fd, 0);
            close(fd);
            unlink(report_path);
            report = report_path;
            args.insert(args.end(), {"--json", "-o", report});
        }
        if (c.kind == TraceKind::Command)
            args.insert(args.end(), {"--", ipctrace_bin(), "run", "pipe", "--no-trace", "--count", "500M", "--size", "64"});

        char real[PATH_MAX];
        ASSERT_NE(realpath(ipctrace_bin().c_str(), real), nullptr);
        const std::string bin = real;
        Background& b = start(args);
        if (delay) {
            std::this_thread::sleep_for(*delay);
        } else {
            switch (c.when) {
                case TraceMoment::AtStart:
                    ASSERT_TRUE(b.wait_exec(bin));
                    break;
                case TraceMoment::DuringLoad:
                    ASSERT_TRUE(b.wait_loading());
                    ASSERT_TRUE(b.running()) << b.err();
                    break;
                case TraceMoment::Tracing:
                case TraceMoment::Intervals:
                    if (c.kind == TraceKind::Command) {
                        // The command (ipctrace run) and its two roles exchange messages.
                        ASSERT_TRUE(wait_for_descendants(b, 3)) << b.err();
                    } else {
                        ASSERT_TRUE(wait_for_stderr(b, "ipctrace: tracing")) << b.err();
                    }
                    std::this_thread::sleep_for(c.when == TraceMoment::Intervals ? 400ms : 300ms);
                    break;
            }
        }
        track_descendants(b);
        c.group ? b.signal_group(c.sig) : b.signal(c.sig);
        const auto signalled = Clock::now();
        ASSERT_TRUE(wait_for_end(b)) << "still running 15 s after the signal";
        EXPECT_LT(std::chrono::duration_cast<Ms>(Clock::now() - signalled), 5s) << "ipctrace took long to stop";

        const int status = b.status();
        const std::string err = b.err(), out = b.out();
        struct stat st {};
        const bool have_report_file = c.json && lstat(report.c_str(), &st) == 0;
        if (WIFSIGNALED(status)) {
            // Only before the handlers exist (parsing the command line): the default action.
            EXPECT_EQ(WTERMSIG(status), c.sig) << describe_status(status);
            EXPECT_TRUE(delay || c.when == TraceMoment::AtStart) << "killed by the signal at " << trace_moment_name(c.when) << "\n" << err;
            EXPECT_EQ(out, "");
            EXPECT_FALSE(have_report_file) << "an -o file without a report was left: " << report;
        } else if (starts_with(last_line(err), "ipctrace: interrupted before tracing began")) {
            // Checking the options and the machine: one line, nothing traced or started.
            EXPECT_TRUE(delay || c.when == TraceMoment::AtStart) << "at " << trace_moment_name(c.when) << "\n" << err;
            EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 128 + c.sig) << describe_status(status);
            EXPECT_EQ(last_line(err), c.kind == TraceKind::Command ? "ipctrace: interrupted before tracing began: the command was not started"
                                                                   : "ipctrace: interrupted before tracing began: nothing was traced");
            EXPECT_EQ(out, "");
            EXPECT_FALSE(have_report_file) << "an -o file without a report was left: " << report;
        } else {
            ASSERT_TRUE(WIFEXITED(status)) << describe_status(status);
            const int want = c.kind == TraceKind::Command ? 128 + c.sig : 0;
            EXPECT_EQ(WEXITSTATUS(status), want) << err;
            if (WEXITSTATUS(status) != want) {
                // not the trace's contract: say what it printed
            } else if (c.json) {
                EXPECT_TRUE(c.kind == TraceKind::Command || out.empty()) << "the report belongs in -o:\n" << out.substr(0, 300);
                check_json_report(c, report);
            } else {
                check_text_report(c, c.kind == TraceKind::Command ? err : out);  // a command's report is on stderr
            }
        }
        if (c.json) unlink(report.c_str());
        stop_victim();
        expect_nothing_left();
    }

    void check_text_report(const TraceStop& c, const std::string& out) {
        // A command's report is on stderr, after the command's own (the workload's interruption line).
        const auto at = out.find("ipctrace trace: ");
        ASSERT_NE(at, std::string::npos) << "no trace report:\n" << out.substr(0, 400);
        const std::string rep = out.substr(at);
        const std::string sig = std::string("SIG") + sigabbrev_np(c.sig);
        if (c.kind == TraceKind::Command) {
            const bool said = rep.find("the command exited with status " + std::to_string(128 + c.sig)) != std::string::npos ||
                              rep.find("the command was killed by " + sig) != std::string::npos;
            EXPECT_TRUE(said) << rep.substr(0, 400);
        } else {
            EXPECT_NE(rep.find("stopped by " + sig), std::string::npos) << rep.substr(0, 400);
        }
        if (at_moment_ && (c.when == TraceMoment::Tracing || c.when == TraceMoment::Intervals)) {
            EXPECT_NE(rep.find("\npipe "), std::string::npos) << "the workload's pipe calls were traced\n" << rep.substr(0, 800);
        }
    }

    void check_json_report(const TraceStop& c, const std::string& path) {
        const bool lines = c.when == TraceMoment::Intervals;
        const SchemaVerdict v = validate_file(path, lines);
        EXPECT_TRUE(v.valid) << v.message;
        std::vector<json> docs;
        if (lines) {
            for (const auto& line : lines_of(read_text(path)))
                if (!line.empty()) docs.push_back(json::parse(line, nullptr, false));
        } else {
            docs.push_back(json::parse(read_text(path), nullptr, false));
        }
        ASSERT_FALSE(docs.empty()) << "no report in " << path;
        for (const auto& d : docs) ASSERT_FALSE(d.is_discarded()) << read_text(path).substr(0, 300);
        const json& final = docs.back();
        ASSERT_EQ(final["mode"], "trace") << final.dump().substr(0, 300);
        const json& t = final["trace"];
        if (c.kind == TraceKind::Command) {
            EXPECT_EQ(t["stop_reason"], "command_exited");
            const json& ex = t["command_exit"];
            EXPECT_TRUE(ex["code"].get<int>() == 128 + c.sig || ex["signal"].get<int>() == c.sig) << ex.dump();
        } else {
            EXPECT_EQ(t["stop_reason"], "signal");
            EXPECT_EQ(t["signal"].get<int>(), c.sig);
        }
        if (at_moment_ && (c.when == TraceMoment::Tracing || c.when == TraceMoment::Intervals)) {
            EXPECT_GT(pipe_calls(final), 0u) << "the workload's pipe calls were traced";
        }
        if (lines) {
            // The intervals before the signal, then the last partial one: they add up.
            if (at_moment_) {
                EXPECT_GE(docs.size(), 3u) << "400 ms of 50-ms intervals";
            }
            unsigned long summed = 0;
            for (size_t i = 0; i + 1 < docs.size(); ++i) {
                EXPECT_EQ(docs[i]["mode"], "interval");
                summed += pipe_calls(docs[i]);
            }
            EXPECT_EQ(summed, pipe_calls(final)) << "the intervals add up to the final report";
        }
    }

    Background* victim_ = nullptr;
    bool at_moment_ = true;  // signalled at the case's moment (not after a random delay): its figures are known
};

}  // namespace ipctrace::testing
