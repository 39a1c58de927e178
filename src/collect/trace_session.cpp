#include "collect/trace_session.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <limits>

#include "collect/harvest.h"
#include "collect/live_snapshot.h"
#include "common/snapshot_diff.h"
#include "collect/stop_signals.h"
#include "collect/trace_signals.h"
#include "probe/tracer.h"

namespace ipctrace {
namespace {

constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
// How often the traced children are looked at once every -p process has exited: they have
// no pidfd of ours, only an `exited` flag in the procs map.
constexpr uint64_t kRecheckNs = 100'000'000;
// How often exited processes are moved out of the kernel's maps (with or without -i), and how
// long after its exit was first seen a process's entries may go: its last thread is counted
// once more (its final context switch) after the exit tracepoint.
constexpr uint64_t kHarvestNs = 1'000'000'000;
constexpr uint64_t kReclaimAgeNs = 1'000'000'000;
// -- CMD: after a second stop signal, how long the command still has to end before ipctrace
// stops waiting for it and writes the report without its exit status (a third: at once).
constexpr uint64_t kHurryGraceNs = 1'000'000'000;

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// Capped at about 31 years, so a deadline never wraps around.
uint64_t seconds_to_ns(double s) { return s >= 1e9 ? 1'000'000'000'000'000'000ULL : static_cast<uint64_t>(s * 1e9); }

Tracer::Scope scope_of(TraceTarget::Kind kind) {
    switch (kind) {
        case TraceTarget::Kind::All: return Tracer::Scope::All;
        case TraceTarget::Kind::Cgroup: return Tracer::Scope::Cgroup;
        default: return Tracer::Scope::Targets;
    }
}

// -p: when is everything gone? The given processes end when their pidfds turn readable; the
// children they forked have no pidfd of ours, only the `exited` flag of the procs map, which
// is looked at every kRecheckNs once the given processes are gone.
class TracedPids {
public:
    explicit TracedPids(const std::vector<pid_t>& pids) {
        for (pid_t pid : pids) {
            UniqueFd fd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
            if (!fd) {
                if (errno == ESRCH) throw TargetGone("no process with pid " + std::to_string(pid) + " (it exited before tracing began)");
                throw TraceError("pidfd_open " + std::to_string(pid) + ": " + std::strerror(errno));
            }
            poll_.push_back({fd.get(), POLLIN, 0});
            pidfds_.push_back(std::move(fd));
        }
    }

    std::vector<pollfd>& poll_fds() { return poll_; }
    uint64_t next_check() const { return next_check_; }

    // After a wait: true once every given process and every traced child has exited.
    bool all_exited(const Tracer& tracer, uint64_t now) {
        std::erase_if(poll_, [](const pollfd& p) { return p.revents != 0; });
        if (!poll_.empty()) return false;
        if (next_check_ == kNever) next_check_ = now;  // the last given process just went
        if (now < next_check_) return false;
        next_check_ = now + kRecheckNs;
        for (const auto& [pid, info] : tracer.snapshot().procs)
            if (!info.exited && (kill(pid, 0) == 0 || errno == EPERM)) return false;
        return true;
    }

private:
    std::vector<UniqueFd> pidfds_;
    std::vector<pollfd> poll_;
    uint64_t next_check_ = kNever;
};

// Interval bookkeeping: each report covers [previous end, now).
class Intervals {
public:
    Intervals(const IntervalSink& sink, std::optional<double> period_s, uint64_t start)
        : sink_(sink), period_(period_s ? std::max<uint64_t>(1, seconds_to_ns(*period_s)) : 0), start_(start), prev_t_(start),
          next_(period_ ? start + period_ : kNever) {}

    uint64_t next_deadline() const { return next_; }
    // Processes folded since the previous report: rekey it the same way, so each is counted once.
    void refold(const std::vector<Fold>& folds) {
        if (period_ && !folds.empty()) apply_folds(prev_, folds);
    }
    // At or past the deadline: report the interval and schedule the next (skipping missed ones).
    void tick(const Snapshot& snap, uint64_t t) {
        emit(snap, t);
        if (next_ <= t) next_ += ((t - next_) / period_ + 1) * period_;
    }
    // The last, usually partial interval, so the intervals add up to the whole trace.
    void finish(const Snapshot& snap, uint64_t t) {
        if (period_ && t > prev_t_) emit(snap, t);
        next_ = kNever;
    }

private:
    void emit(const Snapshot& snap, uint64_t t) {
        sink_(snapshot_diff(snap, prev_), index_++, prev_t_ - start_, t - start_);
        prev_ = snap;
        prev_t_ = t;
    }
    const IntervalSink& sink_;
    uint64_t period_, start_, prev_t_, next_;
    Snapshot prev_;
    unsigned index_ = 0;
};

}  // namespace

TraceOutcome run_trace(const TraceSettings& settings, bool verbose, const IntervalSink& on_interval, LiveSnapshot* live) {
    const TraceTarget& target = settings.target;
    const bool command = target.kind == TraceTarget::Kind::Command;
    TraceSignals signals(command ? TraceSignals::Mode::Forward : TraceSignals::Mode::Stop);
    Tracer tracer(scope_of(target.kind), verbose, target.cgroup_id,
                  settings.include_file_io ? Tracer::Objects::IpcAndFiles : Tracer::Objects::Ipc, settings.max_procs,
                  /*track_budget=*/false, /*track_app_io=*/true);
    Harvester harvester(tracer, settings.keep_exited, kReclaimAgeNs);
    std::optional<LiveSnapshot::Following> following;  // after `harvester`: ends before it
    if (live) following.emplace(*live, [&harvester] { return harvester.peek(); });

    std::optional<SpawnedCommand> child;
    std::optional<TracedPids> pids;
    std::vector<pollfd> command_fd;
    if (command) {
        tracer.attach();  // counts nothing until the child is a target
        child.emplace(target.command, signals);
        tracer.add_target(child->pid());
        command_fd.push_back({child->exit_fd(), POLLIN, 0});
    } else {
        if (target.kind == TraceTarget::Kind::Pids) {
            pids.emplace(target.pids);
            for (pid_t pid : target.pids) tracer.add_target(pid);
        }
        tracer.attach();
    }
    std::vector<pollfd>& fds = pids ? pids->poll_fds() : command_fd;

    const uint64_t start = now_ns();
    const uint64_t deadline = settings.duration_s ? start + seconds_to_ns(*settings.duration_s) : kNever;
    if (command) {
        child->release();
    } else {
        std::fprintf(stderr, "ipctrace: tracing %s; %s\n", describe(target).c_str(),
                     settings.duration_s ? "stops after --duration or on Ctrl-C" : "Ctrl-C to stop");
        std::fflush(stderr);
    }

    TraceOutcome out;
    Intervals intervals(on_interval, settings.interval_s, start);
    uint64_t next_harvest = start + kHarvestNs;
    // Every reading goes through the harvester, so every snapshot is of the whole trace.
    auto harvest = [&](uint64_t t) {
        std::vector<Fold> folds;
        Snapshot snap = harvester.harvest(t, &folds);
        intervals.refold(folds);
        next_harvest = t + kHarvestNs;
        return snap;
    };
    bool attached = true;
    auto stop_tracing = [&](uint64_t t) {
        tracer.detach();
        out.final = harvest(t);
        if (live) live->finish(out.final);  // the very numbers of the report
        out.duration_ns = t - start;
        intervals.finish(out.final, t);
        attached = false;
    };

    const int signals_before = stop_count();  // trace_command stopped on any earlier one
    uint64_t give_up = kNever;                // -- CMD, hurried: stop waiting for the command then
    while (true) {
        uint64_t wake = attached ? std::min({deadline, intervals.next_deadline(), next_harvest}) : kNever;
        if (pids) wake = std::min(wake, pids->next_check());
        wake = std::min(wake, give_up);
        const uint64_t before = now_ns();
        signals.wait(fds, wake == kNever ? std::nullopt : std::optional<long long>(wake > before ? wake - before : 0));
        const uint64_t now = now_ns();

        if (command) {
            // Ctrl-C and friends are the command's: pass them on and wait for it to end.
            for (int sig : signals.take_signals_to_forward()) kill(child->pid(), sig);
            if (fds[0].revents) {
                if (auto status = child->try_reap()) {
                    out.command_status = status;
                    out.exec_errno = child->exec_errno();
                    if (attached) out.reason = StopReason::CommandExited;
                    break;
                }
            }
            // Repeated stop signals (timeout, systemd, kill -PGID): the user wants the report,
            // not the command's end. It is killed when the session ends (~SpawnedCommand).
            const int hurried = stop_count() - signals_before;
            if (hurried >= 2 && give_up == kNever) give_up = hurried >= 3 ? now : now + kHurryGraceNs;
            if (hurried >= 3) give_up = std::min(give_up, now);
            if (now >= give_up) {
                if (attached) {
                    out.reason = StopReason::Signal;
                    out.signal = signals.last_signal();
                }
                break;
            }
        } else if (stop_requested()) {
            out.reason = StopReason::Signal;
            out.signal = signals.last_signal();
            break;
        }
        if (pids && pids->all_exited(tracer, now)) {
            out.reason = StopReason::TargetsExited;
            break;
        }
        if (attached && now >= deadline) {
            out.reason = StopReason::Duration;
            if (!command) break;
            stop_tracing(now);  // the command runs on; its exit status is still ours to return
            continue;
        }
        if (attached && now >= intervals.next_deadline()) intervals.tick(harvest(now), now);
        else if (attached && now >= next_harvest) harvest(now);
    }
    if (attached) stop_tracing(now_ns());
    return out;
}

}  // namespace ipctrace
