// `ipctrace trace` as text: a header (what was traced, how long, how many processes, how it
// ended), the common mechanism and syscall tables (report_text), then one row per process
// and mechanism.
#pragma once

#include <string>

#include "model/trace_report.h"

namespace ipctrace {

std::string trace_to_text(const TraceReport& trace);

// The process × mechanism matrix alone: PID, COMM, STATE, MECHANISM, SYSCALLS, bytes to and
// from the kernel, faults on its shared mappings, context switches inside its calls, signals
// sent/delivered. Exited processes keep their rows.
std::string process_matrix(const TraceReport& trace);

}  // namespace ipctrace
