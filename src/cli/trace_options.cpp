#include "cli/trace_options.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "cli/cgroup_path.h"
#include "cli/pid_args.h"

extern "C" {
#include "ipctrace.h"
}

namespace ipctrace {
namespace {

// argv as a shell would read it back: words with spaces or quotes in single quotes.
std::string quote_command(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& arg : argv) {
        if (!out.empty()) out += ' ';
        if (!arg.empty() && arg.find_first_of(" \t\n'\"\\$`;&|<>*?()") == std::string::npos) {
            out += arg;
            continue;
        }
        out += '\'';
        for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
        out += '\'';
    }
    return out;
}

std::string pid_list(const std::vector<pid_t>& pids) {
    std::string out;
    for (size_t i = 0; i < pids.size(); ++i)
        out += (i == 0 ? "" : i + 1 == pids.size() ? " and " : ", ") + std::to_string(pids[i]);
    return out;
}

std::variant<size_t, std::string> parse_top(const std::string& text) {
    size_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n == 0)
        return "--top takes a number of processes (1 or more), not '" + text + "'";
    return n;
}

// A whole number in [low, high], or the error line naming `option` and what it takes.
std::variant<uint64_t, std::string> parse_bounded(const std::string& text, const char* option, uint64_t low, uint64_t high,
                                                  const char* what) {
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < low || n > high)
        return std::string(option) + " takes " + what + " from " + std::to_string(low) + " to " + std::to_string(high) + ", not '" +
               text + "'";
    return n;
}

}  // namespace

std::string_view target_key(TraceTarget::Kind kind) {
    switch (kind) {
        case TraceTarget::Kind::Command: return "command";
        case TraceTarget::Kind::Pids: return "pids";
        case TraceTarget::Kind::All: return "all";
        case TraceTarget::Kind::Cgroup: return "cgroup";
    }
    return "unknown";
}

std::string describe(const TraceTarget& t) {
    switch (t.kind) {
        case TraceTarget::Kind::Command: return "command " + quote_command(t.command) + " and its descendants";
        case TraceTarget::Kind::Pids:
            return (t.pids.size() == 1 ? "pid " : "pids ") + pid_list(t.pids) +
                   (t.pids.size() == 1 ? " and the children it forks" : " and the children they fork");
        case TraceTarget::Kind::All: return "all processes (but ipctrace)";
        case TraceTarget::Kind::Cgroup: return "cgroup " + t.cgroup_path + " (id " + std::to_string(t.cgroup_id) + ")";
    }
    return "";
}

std::variant<double, std::string> parse_seconds(std::string_view text, std::string_view option) {
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) || value <= 0)
        return std::string(option) + " takes a number of seconds greater than 0, like 2 or 0.5, not '" + std::string(text) + "'";
    return value;
}

std::variant<TraceSettings, std::string> check_trace_options(const TraceOptionText& text, pid_t self) {
    std::vector<std::string> given;
    if (!text.pids.empty()) given.push_back("-p");
    if (text.all) given.push_back("--all");
    if (!text.cgroup.empty()) given.push_back("--cgroup");
    if (!text.command.empty()) given.push_back("a command after --");
    if (given.empty()) return std::string("trace needs what to trace: -p PID, --all, --cgroup PATH or -- COMMAND [ARGS…]");
    if (given.size() > 1) {
        std::string list;
        for (size_t i = 0; i < given.size(); ++i) list += (i == 0 ? "" : i + 1 == given.size() ? " and " : ", ") + given[i];
        return list + " exclude each other: trace one of -p, --all, --cgroup or a command";
    }

    TraceSettings s;
    if (!text.duration.empty()) {
        auto d = parse_seconds(text.duration, "--duration");
        if (auto* err = std::get_if<std::string>(&d)) return *err;
        s.duration_s = std::get<double>(d);
    }
    if (!text.interval.empty()) {
        auto i = parse_seconds(text.interval, "--interval");
        if (auto* err = std::get_if<std::string>(&i)) return *err;
        // Each interval reads every map: more often than this would be mostly reading maps.
        if (std::get<double>(i) < kMinIntervalS) return "--interval must be at least 0.01 seconds, not '" + text.interval + "'";
        s.interval_s = std::get<double>(i);
    }
    if (!text.top.empty()) {
        auto n = parse_top(text.top);
        if (auto* err = std::get_if<std::string>(&n)) return *err;
        s.top = std::get<size_t>(n);
    }
    if (!text.max_procs.empty()) {
        auto n = parse_bounded(text.max_procs, "--max-procs", 1, kMaxProcsLimit, "a number of processes");
        if (auto* err = std::get_if<std::string>(&n)) return *err;
        s.max_procs = static_cast<uint32_t>(std::get<uint64_t>(n));
    }
    if (!text.keep_exited.empty()) {
        auto n = parse_bounded(text.keep_exited, "--keep-exited", 0, kMaxProcsLimit, "a number of processes");
        if (auto* err = std::get_if<std::string>(&n)) return *err;
        s.keep_exited = static_cast<size_t>(std::get<uint64_t>(n));
    }
    s.comm = text.comm;
    if (s.comm.size() >= IPC_COMM_LEN) {
        s.comm.resize(IPC_COMM_LEN - 1);
        s.notes.push_back("--comm: the kernel keeps 15 characters of a command name; matching '" + s.comm + "'");
    }

    TraceTarget& t = s.target;
    if (!text.command.empty()) {
        t.kind = TraceTarget::Kind::Command;
        t.command = text.command;
    } else if (text.all) {
        t.kind = TraceTarget::Kind::All;
    } else if (!text.cgroup.empty()) {
        t.kind = TraceTarget::Kind::Cgroup;
        auto cg = resolve_cgroup(text.cgroup);
        if (auto* err = std::get_if<std::string>(&cg)) return *err;
        t.cgroup_path = std::get<CgroupTarget>(cg).path;
        t.cgroup_id = std::get<CgroupTarget>(cg).id;
    } else {
        t.kind = TraceTarget::Kind::Pids;
        auto parsed = parse_pid_list(text.pids);
        if (auto* err = std::get_if<std::string>(&parsed)) return *err;
        auto checked = check_pids(std::get<std::vector<pid_t>>(parsed), self);
        if (auto* err = std::get_if<std::string>(&checked)) return *err;
        t.pids = std::get<CheckedPids>(checked).tgids;
        for (auto& note : std::get<CheckedPids>(checked).notes) s.notes.push_back(std::move(note));
    }
    return s;
}

}  // namespace ipctrace
