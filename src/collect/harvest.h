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
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/snapshot.h"

namespace ipctrace {

class Tracer;

// One process's figures moved under a folded row's key.
struct Fold {
    pid_t pid;  // the exited process
    pid_t row;  // the folded row's key (negative)
    std::string comm;
};

// Rekeys a snapshot with folds made after it was read, so that snapshot_diff against a later
// cumulative snapshot counts a folded process's figures once, not again under its row.
void apply_folds(Snapshot& snap, const std::vector<Fold>& folds);

// The final figures of processes whose kernel entries were deleted. No kernel here: unit-tested.
class RetiredStore {
public:
    // More distinct command names than this among folded processes share one row, "(others)".
    static constexpr size_t kMaxFoldRows = 256;

    explicit RetiredStore(size_t keep_exited) : keep_exited_(keep_exited) {}

    // Moves every entry of `pid` out of `live` into the store (the process exited).
    void retire(pid_t pid, Snapshot& live);
    // Folds the oldest individual rows past the cap; returns what it folded.
    std::vector<Fold> enforce_cap();
    // `live` plus the store: the figures of the whole trace.
    Snapshot merged(const Snapshot& live) const;

    size_t exited_rows() const { return order_.size(); }
    uint64_t folded_processes() const { return folded_; }

private:
    size_t keep_exited_;
    Snapshot store_;
    std::deque<pid_t> order_;                // processes with their own row, oldest first
    std::map<std::string, pid_t> fold_rows_;  // comm -> folded row key
    pid_t next_row_ = -1;
    uint64_t folded_ = 0;
};

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
