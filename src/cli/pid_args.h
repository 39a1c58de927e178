// `trace -p PID[,PID…]`: the pid list as typed, and the checks against /proc that turn it
// into processes worth tracing (they exist, make syscalls, and are not ipctrace itself).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include "common/expected.h"
#include <vector>

namespace ipctrace {

// Pids from every -p value ("12,34" and repeated -p), in order, duplicates dropped; or a
// one-line error for anything that is not a positive decimal number.
Expected<std::vector<pid_t>> parse_pid_list(const std::vector<std::string>& values);

// Fields of /proc/PID/stat ("pid (comm) state ppid pgrp … flags …"). The comm may hold
// spaces and parentheses, so fields are counted from the last ')'. nullopt when malformed.
struct ProcStat {
    char state = '?';
    pid_t ppid = 0;
    unsigned long flags = 0;
};
std::optional<ProcStat> parse_proc_stat(std::string_view stat);

// PF_KTHREAD of include/linux/sched.h, as /proc/PID/stat shows it in `flags`.
inline constexpr unsigned long kPfKthread = 0x00200000;

struct CheckedPids {
    std::vector<pid_t> tgids;        // processes to trace (a thread id becomes its process)
    std::vector<std::string> notes;  // what was changed, e.g. a thread id mapped to its process
};

// Checks each pid under `proc_root` (tests pass a fake tree): "no process with pid N",
// "pid N is a kernel thread: …", a zombie, ipctrace itself (`self`). A thread id stands for
// its whole process: the probes filter by process.
Expected<CheckedPids> check_pids(const std::vector<pid_t>& pids, pid_t self,
                                                  const std::string& proc_root = "/proc");

}  // namespace ipctrace
