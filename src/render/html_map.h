// The communication map as a graph, laid out here (no Graphviz at view time): processes as
// boxes in layers from the processes that only send (left) to those that only receive
// (right), one arrow per link of comm_map's folding, its width by the bytes (or calls) on it,
// its colour the mechanism's, labelled by mechanism and object.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "model/comm_map.h"

namespace ipctrace::html {

// `processes`: every traced process (pid, comm); those on no link are drawn apart, when few.
std::string comm_map_svg(const CommMap& map, const std::vector<std::pair<pid_t, std::string>>& processes);

}  // namespace ipctrace::html
