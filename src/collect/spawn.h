// The command of `trace -- CMD`, forked and held before it executes anything, so the caller
// can make it a tracing target first: the trace then holds every IPC call of the command
// from its first instruction, and nothing of ipctrace.
//
// The child and ipctrace talk through one MAP_SHARED page mapped before fork, not a pipe: a
// pipe would itself be IPC in the trace. The child writes the page first (so it never faults
// on it once traced), then spins on a flag with only sched_yield() until released.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collect/trace_signals.h"
#include "model/trace_facts.h"
#include "common/unique_fd.h"

namespace ipctrace {

class SpawnedCommand {
public:
    // Forks. The child sets PR_SET_PDEATHSIG(SIGTERM) (it must not outlive ipctrace), restores
    // the signal state ipctrace started with (`signals`), and waits. Returns once the child is
    // waiting (or already dead). Throws std::runtime_error when fork fails.
    SpawnedCommand(const std::vector<std::string>& argv, const TraceSignals& signals);
    // A child that was never released or is still running (an exception unwound past it) is
    // killed and reaped: no stray process is left behind.
    ~SpawnedCommand();
    SpawnedCommand(const SpawnedCommand&) = delete;
    SpawnedCommand& operator=(const SpawnedCommand&) = delete;

    pid_t pid() const { return pid_; }
    // Readable once the child has ended (pidfd).
    int exit_fd() const { return pidfd_.get(); }
    // Lets the child execvp.
    void release();
    // Reaps the child if it has ended.
    std::optional<ExitStatus> try_reap();
    // After the child ended: the errno of its failed execvp, 0 if exec succeeded.
    int exec_errno() const;

private:
    struct Gate;
    struct Unmap {
        void operator()(Gate* gate) const;
    };
    std::unique_ptr<Gate, Unmap> gate_;
    pid_t pid_ = -1;
    UniqueFd pidfd_;
    bool reaped_ = false;
};

}  // namespace ipctrace
