// A process the trace tests run in the background: stdin from a pipe the test writes (or
// /dev/null), stdout to a temporary file, stderr to a pipe the test reads as it comes, so it
// can wait for "ipctrace: tracing …" before it starts the traced work.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "subprocess.h"

namespace ipctrace::testing {

class Background {
public:
    // own_group: the process leads a process group of its own, and the whole group is
    // killed at the end (a shell pipeline's members outlive a SIGKILL of the shell alone).
    explicit Background(const std::vector<std::string>& argv, bool stdin_pipe = false, bool own_group = false);
    ~Background();  // a process still running is killed (with its group, if own) and reaped
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    pid_t pid() const { return pid_; }
    // Reads stderr until it holds `needle`; false after `timeout`.
    bool wait_for_stderr(const std::string& needle, std::chrono::milliseconds timeout);
    void write_stdin(const std::string& text);
    void signal(int sig);
    // Waits for the exit (SIGKILL after `timeout`, then exit_code is 128+9): status, stdout, stderr.
    CommandResult wait(std::chrono::milliseconds timeout);

private:
    pid_t pid_ = -1;
    int in_ = -1, err_ = -1, out_ = -1;
    std::string err_text_;
    bool reaped_ = false;
    bool own_group_ = false;
};

}  // namespace ipctrace::testing
