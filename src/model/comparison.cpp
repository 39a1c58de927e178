#include "model/comparison.h"

#include <algorithm>

namespace ipctrace {

workloads::Params compare_params(const CompareSettings& settings, const workloads::Workload& w, uint64_t size) {
    workloads::Params p = settings.base;
    p.size = size;
    p.count = settings.count ? settings.count : std::clamp<uint64_t>(settings.bytes / size, 1, kCompareMaxCountPerRun);
    // --sync is for the shared-memory workloads; the others have no choice to make.
    if (w.syncs.empty()) p.sync = workloads::Sync::Default;
    if (w.modes.empty()) p.mode = workloads::Mode::Default;
    return p;
}

}  // namespace ipctrace
