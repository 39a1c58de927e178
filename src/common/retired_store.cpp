#include "common/retired_store.h"

#include <algorithm>

namespace ipctrace {
namespace {

// Moves the calls, events and objects of `from` in `src` to the key `to` in `dst`, summing;
// objects are moved only when `keep_objects` (a folded row is not a node of the map).
void move_process(Snapshot& src, pid_t from, Snapshot& dst, pid_t to, bool keep_objects) {
    for (auto it = src.calls.lower_bound({from, Mechanism{}, 0}); it != src.calls.end() && std::get<0>(it->first) == from;) {
        dst.calls[{to, std::get<1>(it->first), std::get<2>(it->first)}] += it->second;
        it = src.calls.erase(it);
    }
    for (auto it = src.proc_mech.lower_bound({from, Mechanism{}}); it != src.proc_mech.end() && it->first.first == from;) {
        dst.proc_mech[{to, it->first.second}] += it->second;
        it = src.proc_mech.erase(it);
    }
    for (auto it = src.uring_ops.lower_bound({from, Mechanism{}, 0}); it != src.uring_ops.end() && std::get<0>(it->first) == from;) {
        dst.uring_ops[{to, std::get<1>(it->first), std::get<2>(it->first)}] += it->second;
        it = src.uring_ops.erase(it);
    }
    for (auto it = src.objects.lower_bound({from, Mechanism{}, 0}); it != src.objects.end() && std::get<0>(it->first) == from;) {
        if (keep_objects) {
            dst.objects[{to, std::get<1>(it->first), std::get<2>(it->first)}] += it->second;
        }
        it = src.objects.erase(it);
    }
}

void add_to_fold_row(Snapshot& snap, pid_t row, const std::string& comm) {
    ProcInfo& info = snap.procs[row];
    info.ppid = 0;
    info.exited = true;
    info.comm = comm;
    ++info.folded;
}

}  // namespace

void apply_folds(Snapshot& snap, const std::vector<Fold>& folds) {
    for (const Fold& f : folds) {
        move_process(snap, f.pid, snap, f.row, false);
        snap.procs.erase(f.pid);
        add_to_fold_row(snap, f.row, f.comm);
    }
}

void RetiredStore::retire(pid_t pid, Snapshot& live) {
    const bool had_row = store_.procs.count(pid) != 0;  // a reused pid that exited twice
    move_process(live, pid, store_, pid, true);
    const auto info = live.procs.find(pid);
    ProcInfo& kept = store_.procs[pid];
    if (info != live.procs.end()) {
        kept = info->second;
        live.procs.erase(info);
    }
    kept.exited = true;
    if (!had_row) order_.push_back(pid);
}

std::vector<Fold> RetiredStore::enforce_cap() {
    std::vector<Fold> folds;
    while (order_.size() > keep_exited_) {
        const pid_t pid = order_.front();
        order_.pop_front();
        const auto info = store_.procs.find(pid);
        std::string comm = info != store_.procs.end() ? info->second.comm : std::string();
        auto row = fold_rows_.find(comm);
        if (row == fold_rows_.end()) {
            if (fold_rows_.size() >= kMaxFoldRows) comm = "(others)";
            row = fold_rows_.try_emplace(comm, next_row_).first;
            if (row->second == next_row_) --next_row_;
        }
        folds.push_back({pid, row->second, comm});
        ++folded_;
    }
    apply_folds(store_, folds);
    return folds;
}

Snapshot RetiredStore::merged(const Snapshot& live) const {
    Snapshot out = live;
    for (const auto& [key, stats] : store_.calls) out.calls[key] += stats;
    for (const auto& [key, stats] : store_.proc_mech) out.proc_mech[key] += stats;
    for (const auto& [key, stats] : store_.objects) out.objects[key] += stats;
    for (const auto& [key, stats] : store_.uring_ops) out.uring_ops[key] += stats;
    for (const auto& [pid, info] : store_.procs) out.procs.emplace(pid, info);  // a live reused pid keeps its own
    return out;
}

}  // namespace ipctrace
