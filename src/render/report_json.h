// The JSON document of a report (schema in docs/json.md).
#pragma once

#include <nlohmann/json.hpp>

#include "model/report.h"

namespace ipctrace {

nlohmann::ordered_json report_to_json(const Report& report);
// Every document's `tool`: name, version, commit, libbpf and kernel (common/tool_info.h).
nlohmann::ordered_json tool_to_json();
nlohmann::ordered_json workload_to_json(const workloads::Result& result);
nlohmann::ordered_json mechanism_to_json(const MechanismFigures& figures);

}  // namespace ipctrace
