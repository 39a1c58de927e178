// The human-readable report: header, one row per mechanism, then strace -c style detail.
#pragma once

#include <string>

#include "report.h"

namespace ipctrace {

std::string report_to_text(const Report& report);
// "1.23 s", "412 us", "87 ns"
std::string format_ns(double ns);

}  // namespace ipctrace
