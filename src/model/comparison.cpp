#include "model/comparison.h"

#include <algorithm>

namespace ipctrace {

workloads::Params compare_params(const CompareSettings& settings, const CompareEntry& entry, uint64_t size) {
    const workloads::Workload& w = *entry.workload;
    workloads::Params p = settings.base;
    if (entry.sync != workloads::Sync::Default) p.sync = entry.sync;  // "shm:sem" beats --sync
    p.size = size;
    const uint64_t cap = settings.pingpong() ? kComparePingPongMaxCount : kCompareMaxCountPerRun;
    p.count = settings.count ? settings.count : std::clamp<uint64_t>(settings.bytes / size, kCompareMinCountPerRun, cap);
    // --sync is for the shared-memory workloads; the others have no choice to make.
    if (w.syncs.empty()) p.sync = workloads::Sync::Default;
    if (w.modes.empty()) p.mode = workloads::Mode::Default;
    return p;
}

}  // namespace ipctrace
