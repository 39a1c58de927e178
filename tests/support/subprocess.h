// Runs a program as the tests' independent witness: its exit code, stdout and stderr.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ipctrace::testing {

struct CommandResult {
    int exit_code = -1;  // 128+signal when killed
    std::string out, err;
};

CommandResult run(const std::vector<std::string>& argv);

// In a forked child: stdin from /dev/null, stdout and stderr to the given fds, then exec argv
// (exit 127 if it cannot).
[[noreturn]] void exec_redirected(const std::vector<std::string>& argv, int out_fd, int err_fd);

// `ipctrace ARGS…` must fail as bad input: exit 2, exactly one line on stderr containing
// `needle`, nothing on stdout.
void expect_usage_error(const std::vector<std::string>& args, const std::string& needle);

// Path of the ipctrace binary under test.
std::string ipctrace_bin();

// Parses the table `strace -c` writes: syscall name -> calls.
std::map<std::string, unsigned long> parse_strace_counts(const std::string& table);

// True when this process may load BPF programs; under CI (CI=true) a BPF test that cannot
// run fails instead of skipping.
bool can_trace();

}  // namespace ipctrace::testing

// In a BPF test: skip when not root, but fail under CI, where a skipped BPF test is a failure.
#define IPCTRACE_REQUIRE_ROOT()                                                                \
    do {                                                                                       \
        if (!::ipctrace::testing::can_trace()) {                                               \
            if (std::getenv("CI")) FAIL() << "BPF tests must run as root under CI";            \
            GTEST_SKIP() << "needs root (BPF)";                                                \
        }                                                                                      \
    } while (0)
