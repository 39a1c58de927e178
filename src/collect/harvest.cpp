#include "collect/harvest.h"

#include <signal.h>

#include <cerrno>
#include <set>

#include "probe/tracer.h"

namespace ipctrace {

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
    for (const auto& entry : live.uring_ops) pids.insert(std::get<0>(entry.first));
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
        live.kernel_maps["uring_ops"].entries = live.uring_ops.size();
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
