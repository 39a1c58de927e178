// The chart of `compare --svg`: bars per mechanism for one size, lines over a log size axis
// for a sweep. Plain SVG 1.1, no scripts, readable in any browser.
#pragma once

#include <string>
#include <vector>

#include "model/compare_figures.h"

namespace ipctrace {

// ranked_by_size: one vector of rows per message size, in increasing size order.
std::string compare_svg(const std::vector<std::vector<ComparedRow>>& ranked_by_size, const std::string& title);

}  // namespace ipctrace
