// The runs of `ipctrace compare`: per size, an untraced warm-up of each workload, then
// `repeat` rounds A B C … A B C, each workload run untraced (speed, latency, CPU) then traced
// (costs and time budget), so that drift hits every workload alike.
#pragma once

#include "model/comparison.h"

namespace ipctrace {

// Measures what `comparison.settings` asks, size by size, filling ranked_by_size and runs.
// A stop signal ends it after the run in progress; what was finished stays. Throws on a
// tracer or harness failure.
void run_comparison(Comparison& comparison, bool verbose);

}  // namespace ipctrace
