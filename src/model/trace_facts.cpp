#include "model/trace_facts.h"

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

std::string_view stop_reason_key(StopReason reason) {
    switch (reason) {
        case StopReason::CommandExited: return "command_exited";
        case StopReason::TargetsExited: return "targets_exited";
        case StopReason::Duration: return "duration";
        case StopReason::Signal: return "signal";
    }
    return "unknown";
}

}  // namespace ipctrace
