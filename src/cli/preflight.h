// What every tracing command checks first: privileges and BTF, with one line when tracing
// cannot work, and the tracefs note.
#pragma once

#include <string>
#include <vector>

#include "common/exit_code.h"

namespace ipctrace {

// ExitCode::Ok when `trace` is off or tracing can work (notes get what ipctrace did about
// tracefs); otherwise the line is printed and its exit code returned.
ExitCode preflight(bool trace, std::vector<std::string>& notes);

}  // namespace ipctrace
