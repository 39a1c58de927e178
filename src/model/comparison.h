// One `ipctrace compare`: what was asked (workloads, sizes, payload per run, repeats) and what
// came out (rows ranked per size, every run's report). Pure data: collect/ fills it,
// render/ prints it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/compare_figures.h"
#include "model/report.h"
#include "workload.h"

namespace ipctrace {

inline constexpr uint64_t kCompareDefaultBytes = 64ull << 20;  // two runs per round now: a default compare stays a few seconds
inline constexpr uint64_t kCompareMaxCountPerRun = 200000;  // tiny messages: bound each run's time
inline constexpr uint64_t kComparePingPongMaxCount = 20000;
// Large messages: at least this many, so that what a run pays once (the ring's first touch,
// teardown) stays a few percent of the time budget per message rather than a fifth.
inline constexpr uint64_t kCompareMinCountPerRun = 256;  // round trips: enough for a p99, a fraction of a second

// One entry of the comparison: a workload and, for the shared-memory ones, how it waits
// ("shm:sem"). Sync::Default is the workload's own default, whatever that is.
struct CompareEntry {
    const workloads::Workload* workload = nullptr;
    workloads::Sync sync = workloads::Sync::Default;
    std::string label;  // as the user wrote it: "shm", "shm:sem"
};

struct CompareSettings {
    std::vector<CompareEntry> entries;
    std::vector<uint64_t> sizes;           // increasing, distinct
    uint64_t bytes = kCompareDefaultBytes;  // per run, unless count is set
    uint64_t count = 0;
    workloads::Params base;                 // mode, sync
    int repeat = 3;
    bool pingpong() const { return base.mode == workloads::Mode::PingPong; }
};

// The params of one run of `entry` at `size`: the same payload for every workload.
workloads::Params compare_params(const CompareSettings& settings, const CompareEntry& entry, uint64_t size);

struct Comparison {
    CompareSettings settings;
    std::vector<std::vector<ComparedRow>> ranked_by_size;  // one ranking per size measured
    std::vector<Report> runs;                              // every counted traced run, in order
    std::vector<std::string> notes;
};

}  // namespace ipctrace
