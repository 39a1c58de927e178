// The Prometheus view of a Snapshot: the in-kernel aggregates as metric families, with the
// per-process (tgid) keys folded into a bounded set of `comm` labels. Pure: no server, no
// BPF, so the conversion is unit-tested on its own (tests/unit/test_metrics.cpp).
#pragma once

#include <prometheus/metric_family.h>

#include <cstddef>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/snapshot.h"

namespace ipctrace {

inline constexpr size_t kDefaultTopComms = 20;
// The label of every comm beyond the first N, and of a tgid whose name was never read.
inline constexpr const char* kOtherComm = "other";

// Decides which comms keep their name as a label. The busiest comms (by syscall count) take
// the N slots as they appear; once a comm has a slot it keeps it, and once the slots are
// full every new comm is `other`. Sticky on purpose: a comm that moved between its own
// series and `other` from one scrape to the next would make both counters go down, which
// Prometheus reads as a counter reset (a spike in rate()). Thread-safe: scrapes may overlap.
class CommLabeler {
public:
    explicit CommLabeler(size_t top_comms) : top_(top_comms) {}
    // comm -> label, for every comm in `syscalls_by_comm` (its syscall count in this snapshot).
    std::map<std::string, std::string> assign(const std::map<std::string, uint64_t>& syscalls_by_comm);

private:
    size_t top_;
    std::mutex mutex_;
    std::set<std::string> named_;
};

// A comm as a valid label value: the kernel's comm is any 15 bytes, Prometheus wants UTF-8;
// bytes outside printable ASCII become '_'. An empty comm is `other`.
std::string comm_label(const std::string& comm);

// Upper bounds in seconds of the histogram buckets: slot k of the kernel's log2 histogram
// counts calls of [2^k, 2^(k+1)) ns, so its `le` is 2^(k+1) ns. The last slot also holds
// everything longer, so it has no finite bound and goes to +Inf only (IPC_HIST_SLOTS-1 bounds).
std::vector<double> duration_bucket_bounds();

// Every family ipctrace exports (docs/dashboards/README.md lists them), from one snapshot.
std::vector<prometheus::MetricFamily> metric_families(const Snapshot& snap, CommLabeler& labeler);

}  // namespace ipctrace
