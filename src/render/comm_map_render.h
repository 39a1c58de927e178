// The communication map as text (folded, busiest first), JSON and Graphviz DOT.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "model/comm_map.h"

namespace ipctrace {

std::string comm_map_text(const CommMap& map, size_t max_lines);
nlohmann::ordered_json comm_map_json(const CommMap& map);
std::string comm_map_dot(const CommMap& map);

}  // namespace ipctrace
