// Map reclaim for long traces. The kernel marks a process `exited` in `procs` and keeps its
// entries; left there, a `trace --all` on a busy machine fills the maps and then drops every
// new process. The collector moves the final figures of exited processes into user space and
// deletes their kernel entries, so the maps hold the live processes only. The figures it hands
// out stay those of the whole trace (kernel + retired): they only grow, so interval diffs and
// the final report still add up exactly.
//
// User space stays bounded too: up to `keep_exited` exited processes keep their own row; past
// that the oldest are folded into one row per command name (ProcInfo::folded > 0).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>

#include "common/retired_store.h"
#include "common/snapshot.h"

namespace ipctrace {

class Tracer;

class Harvester {
public:
    // keep_exited: exited processes kept as rows of their own. reclaim_age_ns: how long after
    // its exit was first seen a process's entries may be deleted (its last thread's final
    // context switch is counted after the exit tracepoint).
    Harvester(Tracer& tracer, size_t keep_exited, uint64_t reclaim_age_ns);

    // Reads the maps; retires and deletes from the kernel the processes whose exit was seen
    // in an earlier reading at least reclaim_age_ns ago. Returns the whole trace so far.
    // `folds` (if given) receives the folds this call made.
    Snapshot harvest(uint64_t now_ns, std::vector<Fold>* folds = nullptr);
    // The whole trace so far, changing nothing (metrics scrapes, from other threads).
    Snapshot peek() const;

private:
    Tracer& tracer_;
    uint64_t reclaim_age_ns_;
    mutable std::mutex mutex_;  // a scrape sees a process either in the kernel or retired
    RetiredStore retired_;
    std::map<pid_t, uint64_t> exit_seen_;  // pid -> when its exit was first seen
};

}  // namespace ipctrace
