// The options of `ipctrace trace` as typed, and their checked form. Every check gives one
// line for the user (exit code 2); nothing here touches the system but pid and cgroup lookups.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ipctrace {

// What one trace follows.
struct TraceTarget {
    enum class Kind { Command, Pids, All, Cgroup };
    Kind kind = Kind::All;
    std::vector<std::string> command;  // Command: argv
    std::vector<pid_t> pids;           // Pids: processes (tgids)
    std::string cgroup_path;           // Cgroup
    uint64_t cgroup_id = 0;
};

// "command", "pids", "all", "cgroup": the JSON's trace.target.
std::string_view target_key(TraceTarget::Kind kind);
// For people: "pid 12 and the children it forks", "all processes (but ipctrace)", …
std::string describe(const TraceTarget& target);

struct TraceOptionText {
    std::vector<std::string> pids;  // each -p value
    bool all = false;
    std::string cgroup;
    std::vector<std::string> command;  // after --
    std::string duration, interval, top, comm;
    std::string max_procs, keep_exited;
};

// Exited processes that keep a row of their own in trace's report before the oldest are
// folded into one row per command name.
inline constexpr size_t kDefaultKeepExited = 1024;
// The largest --max-procs: the kernel's PID_MAX_LIMIT on 64-bit.
inline constexpr uint32_t kMaxProcsLimit = 4194304;

struct TraceSettings {
    TraceTarget target;
    std::optional<double> duration_s, interval_s;
    size_t top = 0;  // 0: every process
    std::string comm;
    uint32_t max_procs = 0;  // --max-procs: size of the per-process kernel tables, 0: built-in
    size_t keep_exited = kDefaultKeepExited;
    std::vector<std::string> notes;  // adjustments to tell the user (a thread id traced as its process)
};

inline constexpr double kMinIntervalS = 0.01;

// Seconds as typed for -d/-i: "2", "0.5"; a positive finite number. `option` names the flag in the error.
std::variant<double, std::string> parse_seconds(std::string_view text, std::string_view option);

// Checks the option text: exactly one target, numbers that parse; then the pids against
// /proc (not ipctrace itself: `self`) and the cgroup against the cgroup2 mount.
std::variant<TraceSettings, std::string> check_trace_options(const TraceOptionText& text, pid_t self);

}  // namespace ipctrace
