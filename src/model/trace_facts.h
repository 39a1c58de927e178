// What a trace followed and how it ended: the facts a trace report states, as plain data.
// collect/ produces them, model/ and render/ describe them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
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

enum class StopReason { CommandExited, TargetsExited, Duration, Signal };
// "command_exited", "targets_exited", "duration", "signal"
std::string_view stop_reason_key(StopReason reason);

// How a traced command ended.
struct ExitStatus {
    int code = 0;    // exit code when it exited
    int signal = 0;  // the signal that killed it, else 0
    // What a shell would report: the code, or 128 + signal.
    int shell_code() const { return signal ? 128 + signal : code; }
};

}  // namespace ipctrace
