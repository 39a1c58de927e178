// What happened between two snapshots of the same trace: the in-kernel aggregates only grow,
// so an interval's figures are the later snapshot minus the earlier one.
#pragma once

#include <string>

#include "common/snapshot.h"

namespace ipctrace {

// `later` - `earlier`, entry by entry (histogram slots too). Entries with nothing new are
// dropped, so an interval's report lists only what was active in it; `procs` keeps `later`'s
// entries of the processes still present.
// A counter that went backwards (cannot happen with one tracer) saturates at 0.
Snapshot snapshot_diff(const Snapshot& later, const Snapshot& earlier);

// Only the processes whose comm is `comm` (compared as the kernel stores it: 15 characters).
Snapshot filter_by_comm(const Snapshot& snap, const std::string& comm);

}  // namespace ipctrace
