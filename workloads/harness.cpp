// Run: forks the roles of a workload around a shared control block, releases them when
// tracing is attached, reaps them and merges what they measured.
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <new>
#include <optional>
#include <stdexcept>

#include "common.h"

namespace ipctrace::workloads {

namespace {

size_t page_size() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }
size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }
size_t control_bytes() { return round_up(sizeof(Control), page_size()); }

// What the role's signal handler needs; set in the child only.
Control* g_ctl = nullptr;
const Workload* g_workload = nullptr;

// SIGTERM (parent death, Ctrl-C of the ipctrace process group, kill): remove what the
// workload created, then die. Only raw syscalls happen in cleanup, so this is async-signal-safe.
void on_terminate(int sig) {
    if (g_ctl && g_workload && g_workload->cleanup) g_workload->cleanup(*g_ctl);
    if (g_ctl && g_ctl->dir[0]) ::rmdir(g_ctl->dir);  // fails harmlessly if not yet empty
    _exit(128 + sig);
}

[[noreturn]] void child_fail(RoleResult& out, const char* what) {
    set_error(out, "%s: %s", what, strerror(errno));
    _exit(2);
}

// The forked role process. Never returns.
[[noreturn]] void role_main(const Workload& w, Control* ctl, int role, pid_t parent) {
    RoleResult& out = ctl->roles[role];
    // Die with the parent (and clean up through the handler), unless it is already gone.
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) {
        ::rmdir(ctl->dir);  // nobody else will: the parent is gone
        _exit(1);
    }
    // A fork keeps every descriptor of ipctrace, O_CLOEXEC or not: the BPF programs, links
    // and maps, the -o file. A role holding a link would keep the probes attached after
    // ipctrace died, until the role itself went. Roles open their own IPC objects and need
    // none of them.
    if (close_range(3, ~0u, 0) != 0)
        for (int fd = 3, max = static_cast<int>(sysconf(_SC_OPEN_MAX)); fd < max; ++fd) ::close(fd);
    g_ctl = ctl;
    g_workload = &w;
    struct sigaction sa {};
    sa.sa_handler = on_terminate;
    sigfillset(&sa.sa_mask);
    // The parent may block these (signalfd) or catch them with its own handlers (inherited
    // across fork): a role must receive them and clean up.
    sigset_t unblock;
    sigemptyset(&unblock);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
        sigaction(sig, &sa, nullptr);
        sigaddset(&unblock, sig);
    }
    sigprocmask(SIG_UNBLOCK, &unblock, nullptr);

    // Shared mappings are not copied into the child's page tables at fork: write every
    // page now (an atomic OR of 0 changes nothing) so no fault on it lands in the trace.
    auto* base = reinterpret_cast<unsigned char*>(ctl);
    for (size_t off = 0; off < control_bytes(); off += page_size())
        __atomic_fetch_or(base + off, static_cast<unsigned char>(0), __ATOMIC_RELAXED);

    // Message buffer for the role, mapped and faulted in before tracing starts.
    if (w.scratch) {
        const size_t scratch_len = round_up(ctl->params.size + 64, page_size());
        void* s = mmap(nullptr, scratch_len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (s == MAP_FAILED) child_fail(out, "mmap scratch buffer");
        set_scratch({static_cast<std::byte*>(s), scratch_len});
    }

    // The first throw in a process runs libgcc's one-time unwinder setup (a futex wake):
    // do it now so that a role failing later adds no unexplained syscall to the trace.
    try {
        throw 0;
    } catch (int) {
    }

    out.verified = 1;  // "no mismatch seen"; verify() clears it
    ctl->armed.fetch_add(1, std::memory_order_release);
    spin_until([&] { return ctl->go.load(std::memory_order_acquire) != 0; });
    // A marker for witnesses that see every syscall of the role (strace): what follows is
    // the measured run. getppid is not traced by ipctrace and costs nothing.
    syscall(SYS_getppid);
    set_yield_counter(&out);  // from here every sched_yield of the role is counted

    try {
        w.role(*ctl, role, out);
        out.finished = 1;
    } catch (const std::exception& e) {
        set_error(out, "%s", e.what());
    } catch (...) {
        set_error(out, "role %d: unknown exception", role);
    }
    _exit(0);
}

std::string describe_role(const Params& p, int role) {
    return "role " + std::to_string(role) + " (" + role_name(p, role) + ")";
}

std::string signal_name(int sig) {
    const char* abbrev = sigabbrev_np(sig);
    return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

uint64_t tv_ns(const timeval& tv) {
    return uint64_t(tv.tv_sec) * 1'000'000'000u + uint64_t(tv.tv_usec) * 1000u;
}

void sleep_ms(long ms) {
    timespec ts{0, ms * 1'000'000};
    nanosleep(&ts, nullptr);
}

}  // namespace

Run::Run(const Workload& w, const Params& resolved) : w_(w), params_(resolved) {}

Run::~Run() {
    try {
        kill_roles();
        cleanup();
    } catch (...) {
    }
    if (ctl_) {
        ctl_->~Control();
        munmap(ctl_, control_bytes());
        ctl_ = nullptr;
    }
}

void Run::start() {
    if (ctl_) throw std::runtime_error("workload run already started");
    void* mem = mmap(nullptr, control_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                     -1, 0);
    if (mem == MAP_FAILED) throw std::runtime_error(std::string("mmap control block: ") + strerror(errno));
    std::memset(mem, 0, control_bytes());  // the parent writes every page first
    ctl_ = new (mem) Control;
    ctl_->params = params_;
    for (auto& id : ctl_->ids) id = -1;  // -1: nothing created yet, cleanup skips it

    std::strcpy(ctl_->dir, "/tmp/ipctrace.XXXXXX");
    if (!mkdtemp(ctl_->dir)) {
        ctl_->dir[0] = '\0';
        throw std::runtime_error(std::string("mkdtemp /tmp/ipctrace.XXXXXX: ") + strerror(errno));
    }

    const pid_t parent = getpid();
    for (int role = 0; role < kMaxRoles; ++role) {
        const pid_t pid = fork();
        if (pid < 0) throw std::runtime_error(std::string("fork: ") + strerror(errno));
        if (pid == 0) role_main(w_, ctl_, role, parent);
        pids_.push_back(pid);
        alive_.push_back(true);
    }

    // Return only once every role is prefaulted and spinning: tracing may start then.
    for (int waited_ms = 0; ctl_->armed.load(std::memory_order_acquire) < kMaxRoles; ++waited_ms) {
        for (size_t i = 0; i < pids_.size(); ++i) {
            int status;
            if (alive_[i] && waitpid(pids_[i], &status, WNOHANG) == pids_[i]) {
                alive_[i] = false;
                std::string why = ctl_->roles[i].error;
                throw std::runtime_error(describe_role(params_, int(i)) + " died before start" +
                                         (why.empty() ? "" : ": " + why));
            }
        }
        if (waited_ms > 10'000) throw std::runtime_error("roles did not get ready within 10 s");
        sleep_ms(1);
    }
}

void Run::go() {
    if (!ctl_) throw std::runtime_error("workload run not started");
    go_ns_ = now_ns();
    ctl_->go.store(1, std::memory_order_release);
}

Result Run::wait(const std::function<bool()>& stop_requested) {
    if (!ctl_) throw std::runtime_error("workload run not started");
    Result res;
    res.workload = std::string(w_.name);
    res.params = params_;
    res.pids = pids_;
    res.ops.assign(kMaxSyscallNr, 0);
    // The first role to fail, except that a role killed or stopped by a signal from outside
    // is the cause of whatever its peer then ran into (a SIGTERMed role removes the IPC objects
    // on its way out, so the peer fails with EIDRM, and may be reaped first).
    std::string failure;
    bool failure_is_signal = false;
    bool killed_by_us = false;
    bool interrupted = false;
    // After a role's error, the others get a moment to end by themselves (one may be dying of
    // the signal that caused it) before they are killed: they might wait for it forever.
    constexpr auto kGrace = std::chrono::milliseconds(200);
    std::optional<std::chrono::steady_clock::time_point> kill_at;

    auto any_alive = [&] {
        for (bool a : alive_)
            if (a) return true;
        return false;
    };
    // SIGKILL without reaping: the loop below still collects their rusage.
    auto kill_alive = [&] {
        killed_by_us = true;
        for (size_t i = 0; i < pids_.size(); ++i)
            if (alive_[i]) kill(pids_[i], SIGKILL);
    };
    while (any_alive()) {
        for (size_t i = 0; i < pids_.size(); ++i) {
            if (!alive_[i]) continue;
            int status = 0;
            rusage ru{};
            const pid_t r = wait4(pids_[i], &status, WNOHANG, &ru);
            if (r == 0 || (r < 0 && errno == EINTR)) continue;
            alive_[i] = false;
            if (r < 0) {  // not our child any more (someone else reaped it)
                if (failure.empty()) failure = describe_role(params_, int(i)) + " vanished";
                continue;
            }
            res.user_ns += tv_ns(ru.ru_utime);
            res.sys_ns += tv_ns(ru.ru_stime);
            res.minflt += uint64_t(ru.ru_minflt);
            res.majflt += uint64_t(ru.ru_majflt);
            res.nvcsw += uint64_t(ru.ru_nvcsw);
            res.nivcsw += uint64_t(ru.ru_nivcsw);

            const RoleResult& rr = ctl_->roles[i];
            std::string why;
            const int stop_sig = WIFEXITED(status) ? WEXITSTATUS(status) - 128 : 0;  // on_terminate's exit
            const bool by_signal = WIFSIGNALED(status) || stop_sig == SIGTERM || stop_sig == SIGINT || stop_sig == SIGHUP;
            if (WIFSIGNALED(status))
                why = describe_role(params_, int(i)) + " killed by " + signal_name(WTERMSIG(status));
            else if (by_signal)
                why = describe_role(params_, int(i)) + " stopped by " + signal_name(stop_sig);
            else if (WEXITSTATUS(status) != 0)
                why = describe_role(params_, int(i)) + " exited with status " +
                      std::to_string(WEXITSTATUS(status)) + (rr.error[0] ? std::string(": ") + rr.error : "");
            else if (rr.error[0])
                why = rr.error;
            else if (!rr.finished)
                why = describe_role(params_, int(i)) + " did not finish";
            if (why.empty()) continue;
            const bool from_outside = by_signal && !killed_by_us;
            if (failure.empty() || (from_outside && !failure_is_signal)) {
                failure = why;
                failure_is_signal = from_outside;
            }
            if (from_outside) kill_alive();  // the cause is known: the others would wait forever
            else if (!kill_at) kill_at = std::chrono::steady_clock::now() + kGrace;
        }
        if (!any_alive()) break;
        if (kill_at && !killed_by_us && std::chrono::steady_clock::now() >= *kill_at) kill_alive();
        if (!interrupted && stop_requested && stop_requested()) {
            interrupted = true;
            kill_alive();
        }
        sleep_ms(2);
    }

    const uint64_t ended_ns = now_ns();  // every role is gone

    // Merge. The receiving role is role 1 by convention (stream consumer, ping-pong
    // responder, which receives every request): its counts are what was delivered. A role
    // that did not finish (interrupted, killed) published how far it got as it went.
    RoleResult& rx = ctl_->roles[kMaxRoles - 1];
    res.messages = std::atomic_ref<uint64_t>(rx.messages).load(std::memory_order_relaxed);
    res.bytes = std::atomic_ref<uint64_t>(rx.bytes).load(std::memory_order_relaxed);
    res.rtt_p50_ns = ctl_->roles[0].rtt_p50_ns;
    res.rtt_p99_ns = ctl_->roles[0].rtt_p99_ns;
    bool all_finished = true;
    res.verified = true;
    for (int i = 0; i < kMaxRoles; ++i) {
        RoleResult& rr = ctl_->roles[i];
        // An unfinished role's elapsed time: from its first message until it was gone.
        const uint64_t started = std::atomic_ref<uint64_t>(rr.start_ns).load(std::memory_order_relaxed);
        const uint64_t elapsed = rr.elapsed_ns ? rr.elapsed_ns : started && ended_ns > started ? ended_ns - started : 0;
        res.elapsed_ns = std::max(res.elapsed_ns, elapsed);
        if (started && go_ns_ && started + elapsed > go_ns_) res.roles_ns += started + elapsed - go_ns_;
        res.lost += rr.lost;
        res.datagrams_sent += rr.sent;
        res.datagrams_delivered += rr.received;
        res.control_sent += rr.control_sent;
        res.control_received += rr.control_received;
        res.verified = res.verified && rr.verified == 1;
        all_finished = all_finished && rr.finished == 1;
        for (int nr = 0; nr < kMaxSyscallNr; ++nr) res.ops[nr] += rr.ops[nr];
        for (int nr : rr.uncounted)
            if (nr >= 0 && std::find(res.uncounted.begin(), res.uncounted.end(), nr) == res.uncounted.end())
                res.uncounted.push_back(nr);
        if (failure.empty() && rr.error[0]) failure = rr.error;
    }
    res.datagram = w_.datagrams;
    if (res.datagram) {
        res.datagrams_lost = res.datagrams_sent > res.datagrams_delivered ? res.datagrams_sent - res.datagrams_delivered : 0;
        res.lost = res.datagrams_lost;  // the same figure, from both roles' counts
    }
    res.error = interrupted ? "interrupted" : failure;
    res.ok = !interrupted && all_finished && res.verified && res.error.empty();
    cleanup();  // nothing is running any more: remove the IPC objects now
    return res;
}

void Run::kill_roles() {
    for (size_t i = 0; i < pids_.size(); ++i)
        if (alive_[i]) kill(pids_[i], SIGKILL);
    for (size_t i = 0; i < pids_.size(); ++i) {
        if (!alive_[i]) continue;
        while (waitpid(pids_[i], nullptr, 0) < 0 && errno == EINTR) {
        }
        alive_[i] = false;
    }
}

void Run::cleanup() {
    if (cleaned_ || !ctl_) return;
    cleaned_ = true;
    if (w_.cleanup) w_.cleanup(*ctl_);
    if (ctl_->dir[0]) ::rmdir(ctl_->dir);
}

}  // namespace ipctrace::workloads
