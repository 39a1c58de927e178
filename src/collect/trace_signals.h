// The signals of `ipctrace trace`, and the one place the trace loop sleeps.
//
// The stop signals are blocked except while waiting in ppoll(), so one that arrives between
// two checks is taken by the next wait instead of being lost before it.
// The handlers are those of stop_signals.h and stay installed after the trace: a signal that
// comes while the report is written is only counted.
//  - Stop (-p, --all, --cgroup): SIGINT, SIGTERM, SIGHUP end the trace (stop_signals.h).
//  - Forward (-- CMD): SIGINT, SIGTERM, SIGHUP, SIGQUIT belong to the command. ipctrace
//    passes on those sent to it alone and keeps waiting; those the terminal sent (Ctrl-C,
//    Ctrl-\, hangup) already reached the command, which is in the same foreground process
//    group, and are not sent twice. From the second stop signal on ipctrace waits only a
//    short grace for the command (trace_session.cpp), from the third not at all. SIGCHLD is set to its default while ipctrace waits: had
//    ipctrace been started with it ignored, the kernel would reap the command for it and its
//    exit status would be lost.
#pragma once

#include <poll.h>
#include <signal.h>

#include <optional>
#include <vector>

namespace ipctrace {

class TraceSignals {
public:
    enum class Mode { Stop, Forward };
    explicit TraceSignals(Mode mode);
    ~TraceSignals();  // the mask and SIGCHLD as before; the stop handlers stay
    TraceSignals(const TraceSignals&) = delete;
    TraceSignals& operator=(const TraceSignals&) = delete;

    // Sleeps until a descriptor is ready, a handled signal arrives, or `timeout_ns` passes
    // (none: no timeout). Throws on a poll error other than EINTR.
    void wait(std::vector<pollfd>& fds, std::optional<long long> timeout_ns) const;

    // Forward mode: the signals to send to the command since the last call.
    std::vector<int> take_signals_to_forward();
    // Forward mode, right after the command was forked: a signal still pending (blocked while
    // the probes loaded) came before the command existed, so even a terminal's Ctrl-C did not
    // reach it: forward it. (One that came after the fork may be sent twice: harmless.)
    void command_started() const;
    // The last handled signal, 0 if none.
    int last_signal() const;

    // The dispositions and mask ipctrace was started with, in a forked child before exec, so
    // the command starts as it would have without ipctrace. Async-signal-safe.
    void restore_original() const noexcept;

private:
    Mode mode_;
    std::vector<int> signals_;
    struct sigaction old_sigchld_ {};
    sigset_t old_mask_{};
    sigset_t wait_mask_{};
};

}  // namespace ipctrace
