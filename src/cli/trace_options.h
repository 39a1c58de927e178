// The options of `ipctrace trace` as typed, and their checked form. Every check gives one
// line for the user (exit code 2); nothing here touches the system but pid and cgroup lookups.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/trace_settings.h"
#include "common/expected.h"

namespace ipctrace {

struct TraceOptionText {
    std::vector<std::string> pids;  // each -p value
    bool all = false;
    std::string cgroup;
    std::vector<std::string> command;  // after --
    std::string duration, interval, top, comm;
    std::string max_procs, keep_exited;
};

inline constexpr double kMinIntervalS = 0.01;

// Seconds as typed for -d/-i: "2", "0.5"; a positive finite number. `option` names the flag in the error.
Expected<double> parse_seconds(std::string_view text, std::string_view option);

// Checks the option text: exactly one target, numbers that parse; then the pids against
// /proc (not ipctrace itself: `self`) and the cgroup against the cgroup2 mount.
Expected<TraceSettings> check_trace_options(const TraceOptionText& text, pid_t self);

}  // namespace ipctrace
