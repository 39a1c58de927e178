// ipctrace's exit codes, and the one line it prints for an error.
#pragma once

#include <cstdio>
#include <string>

#include "common/format.h"

namespace ipctrace {

enum class ExitCode : int {
    Ok = 0,
    Failure = 1,   // the workload or the trace failed, or a system call did
    BadInput = 2,  // bad input or missing privileges: one line on stderr
};

// What a shell reports for a process stopped by `signal`: 128 + N.
inline int signal_exit_code(int signal) { return 128 + signal; }
inline int code(ExitCode c) { return static_cast<int>(c); }

// One line on stderr, "ipctrace: …" (control characters escaped); returns the exit code.
// An int code is a signal's 128 + N or a command's own status.
inline int report_error(int exit_code, const std::string& message) {
    std::fprintf(stderr, "ipctrace: %s\n", one_line(message).c_str());
    return exit_code;
}
inline int report_error(ExitCode c, const std::string& message) { return report_error(code(c), message); }

}  // namespace ipctrace
