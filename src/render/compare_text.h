// `ipctrace compare` as text (the table and the verdict) and as its JSON document.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "model/comparison.h"

namespace ipctrace {

std::string comparison_text(const Comparison& comparison);
nlohmann::ordered_json comparison_json(const Comparison& comparison);
// The chart's title: "ipctrace compare: throughput at 4.0 KiB messages (stream)".
std::string comparison_title(const CompareSettings& settings);

}  // namespace ipctrace
