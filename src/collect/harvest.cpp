#include "collect/harvest.h"

#include <signal.h>

#include <cerrno>
#include <set>

#include "probe/tracer.h"

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
    for (auto it = src.objects.lower_bound({from, Mechanism{}, 0}); it != src.objects.end() && std::get<0>(it->first) == from;) {
        if (keep_objects) {
            ObjectStats& o = dst.objects[{to, std::get<1>(it->first), std::get<2>(it->first)}];
            o.calls += it->second.calls;
            o.bytes_in += it->second.bytes_in;
            o.bytes_out += it->second.bytes_out;
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
    for (const auto& [key, stats] : store_.objects) {
        ObjectStats& o = out.objects[key];
        o.calls += stats.calls;
        o.bytes_in += stats.bytes_in;
        o.bytes_out += stats.bytes_out;
    }
    for (const auto& [pid, info] : store_.procs) out.procs.emplace(pid, info);  // a live reused pid keeps its own
    return out;
}

Harvester::Harvester(Tracer& tracer, size_t keep_exited, uint64_t reclaim_age_ns)
    : tracer_(tracer), reclaim_age_ns_(reclaim_age_ns), retired_(keep_exited) {}

Snapshot Harvester::harvest(uint64_t now_ns, std::vector<Fold>* folds) {
    std::lock_guard lock(mutex_);
    Snapshot live = tracer_.snapshot();

    // Gone: marked exited by the kernel, or a pid that no longer exists (its exit was not
    // seen: the procs table was full when it came, or it left the traced cgroup first).
    std::set<pid_t> pids, gone;
    for (const auto& [pid, info] : live.procs) (info.exited ? gone : pids).insert(pid);
    for (const auto& entry : live.calls) pids.insert(std::get<0>(entry.first));
    for (const auto& entry : live.proc_mech) pids.insert(entry.first.first);
    for (pid_t pid : pids)
        if (!gone.count(pid) && kill(pid, 0) != 0 && errno == ESRCH) gone.insert(pid);

    std::vector<pid_t> reclaim;
    std::erase_if(exit_seen_, [&](const auto& seen) { return !gone.count(seen.first); });
    for (pid_t pid : gone) {
        const auto [it, first_time] = exit_seen_.emplace(pid, now_ns);
        if (!first_time && now_ns - it->second >= reclaim_age_ns_) reclaim.push_back(pid);
    }
    if (!reclaim.empty()) {
        tracer_.forget(reclaim, live);  // the figures read above are final: nothing updates them any more
        for (pid_t pid : reclaim) {
            retired_.retire(pid, live);
            exit_seen_.erase(pid);
        }
        live.kernel_maps["procs"].entries = live.procs.size();
        live.kernel_maps["syscall_stats"].entries = live.calls.size();
        live.kernel_maps["proc_mech_stats"].entries = live.proc_mech.size();
        live.kernel_maps["objects"].entries = live.objects.size();
    }
    std::vector<Fold> made = retired_.enforce_cap();
    if (folds) *folds = std::move(made);
    return retired_.merged(live);
}

Snapshot Harvester::peek() const {
    std::lock_guard lock(mutex_);
    return retired_.merged(tracer_.snapshot());
}

}  // namespace ipctrace
