// `ipctrace trace --json`: report_to_json's document with mode "trace" and a "trace" object
// (what was traced, how long, how it ended), or mode "interval" and an "interval" object.
// Decorates report_json.cpp's output; the schema is in docs/json.md and docs/trace.md.
#pragma once

#include <nlohmann/json.hpp>

#include "model/trace_report.h"

namespace ipctrace {

nlohmann::ordered_json trace_to_json(const TraceReport& trace);

}  // namespace ipctrace
