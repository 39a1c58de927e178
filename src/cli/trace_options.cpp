#include "cli/trace_options.h"

#include <limits>

#include "cli/cgroup_path.h"
#include "cli/pid_args.h"
#include "common/number_parse.h"

extern "C" {
#include "ipctrace.h"
}

namespace ipctrace {

Expected<double> parse_seconds(std::string_view text, std::string_view option) {
    const auto value = parse_decimal(text, 0, std::numeric_limits<double>::max());
    if (!value || *value <= 0)
        return unexpected(std::string(option) + " takes a number of seconds greater than 0, like 2 or 0.5, not '" + std::string(text) + "'");
    return *value;
}

namespace {

// A whole number in [low, high], or the error line naming `option` and what it takes.
Expected<uint64_t> parse_bounded(const std::string& text, const char* option, uint64_t low, uint64_t high, const char* what) {
    if (auto n = parse_whole(text, low, high)) return *n;
    return unexpected(std::string(option) + " takes " + what + " from " + std::to_string(low) + " to " + std::to_string(high) +
                      ", not '" + text + "'");
}

}  // namespace

Expected<TraceSettings> check_trace_options(const TraceOptionText& text, pid_t self) {
    std::vector<std::string> given;
    if (!text.pids.empty()) given.push_back("-p");
    if (text.all) given.push_back("--all");
    if (!text.cgroup.empty()) given.push_back("--cgroup");
    if (!text.command.empty()) given.push_back("a command");
    if (given.empty()) return unexpected("trace needs what to trace: -p PID, --all, --cgroup PATH or [--] COMMAND [ARGS…]");
    if (given.size() > 1) {
        std::string list;
        for (size_t i = 0; i < given.size(); ++i) list += (i == 0 ? "" : i + 1 == given.size() ? " and " : ", ") + given[i];
        return unexpected(list + " exclude each other: trace one of -p, --all, --cgroup or a command");
    }

    TraceSettings s;
    if (!text.duration.empty()) {
        auto d = parse_seconds(text.duration, "--duration");
        if (!d) return unexpected(d.error());
        s.duration_s = *d;
    }
    if (!text.interval.empty()) {
        auto i = parse_seconds(text.interval, "--interval");
        if (!i) return unexpected(i.error());
        // Each interval reads every map: more often than this would be mostly reading maps.
        if (*i < kMinIntervalS) return unexpected("--interval must be at least 0.01 seconds, not '" + text.interval + "'");
        s.interval_s = *i;
    }
    if (!text.top.empty()) {
        auto n = parse_whole(text.top, 1);
        if (!n) return unexpected("--top takes a number of processes (1 or more), not '" + text.top + "'");
        s.top = static_cast<size_t>(*n);
    }
    if (!text.max_procs.empty()) {
        auto n = parse_bounded(text.max_procs, "--max-procs", 1, kMaxProcsLimit, "a number of processes");
        if (!n) return unexpected(n.error());
        s.max_procs = static_cast<uint32_t>(*n);
    }
    if (!text.keep_exited.empty()) {
        auto n = parse_bounded(text.keep_exited, "--keep-exited", 0, kMaxProcsLimit, "a number of processes");
        if (!n) return unexpected(n.error());
        s.keep_exited = static_cast<size_t>(*n);
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
        if (!cg) return unexpected(cg.error());
        t.cgroup_path = cg->path;
        t.cgroup_id = cg->id;
    } else {
        t.kind = TraceTarget::Kind::Pids;
        auto parsed = parse_pid_list(text.pids);
        if (!parsed) return unexpected(parsed.error());
        auto checked = check_pids(*parsed, self);
        if (!checked) return unexpected(checked.error());
        t.pids = checked->tgids;
        for (auto& note : checked->notes) s.notes.push_back(std::move(note));
    }
    return s;
}

}  // namespace ipctrace
