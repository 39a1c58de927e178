// `--html FILE`: one self-contained page per run, trace or comparison (docs/html.md). Each is
// drawn from the same JSON document `--json` prints, which the page also embeds, so the page
// is the data too; the map is laid out from the model's communication map.
#pragma once

#include <optional>
#include <string>

#include "model/comm_map.h"
#include "model/comparison.h"
#include "model/report.h"
#include "model/trace_report.h"

namespace ipctrace {

std::string run_html(const Report& report, const std::optional<CommMap>& map);
std::string trace_html(const TraceReport& trace);
std::string compare_html(const Comparison& comparison);

}  // namespace ipctrace
