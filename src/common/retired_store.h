// The final figures of processes whose kernel entries `trace` deleted (collect/harvest.h),
// and the folding that keeps them bounded: up to `keep_exited` exited processes keep their own
// row; past that the oldest are folded into one row per command name (ProcInfo::folded > 0).
// Pure data on snapshots: no kernel here.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "common/snapshot.h"

namespace ipctrace {

// One process's figures moved under a folded row's key.
struct Fold {
    pid_t pid;  // the exited process
    pid_t row;  // the folded row's key (negative)
    std::string comm;
};

// Rekeys a snapshot with folds made after it was read, so that snapshot_diff against a later
// cumulative snapshot counts a folded process's figures once, not again under its row.
void apply_folds(Snapshot& snap, const std::vector<Fold>& folds);

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

}  // namespace ipctrace
