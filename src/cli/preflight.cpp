#include "cli/preflight.h"

#include <cstdio>

#include "collect/system_checks.h"

namespace ipctrace {

ExitCode preflight(bool trace, std::vector<std::string>& notes) {
    if (!trace) return ExitCode::Ok;
    if (auto st = check_bpf_privileges(); !st) return report_error(ExitCode::BadInput, st.error()), ExitCode::BadInput;
    if (auto st = check_kernel_btf(); !st) return report_error(ExitCode::Failure, st.error()), ExitCode::Failure;
    if (auto note = tracefs_note()) {
        std::fprintf(stderr, "ipctrace: %s\n", note->c_str());
        notes.push_back(*note);
    }
    return ExitCode::Ok;
}

}  // namespace ipctrace
