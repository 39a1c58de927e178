// The human-readable report: header, one row per mechanism, then strace -c style detail.
#pragma once

#include <string>

#include "common/format.h"
#include "model/report.h"

namespace ipctrace {

std::string report_to_text(const Report& report);

}  // namespace ipctrace
