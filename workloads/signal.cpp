// signal: real-time signal ping-pong. Role 0 sigqueue()s SIGRTMIN carrying the message
// number as the int si_value to role 1, which sigwaitinfo()s it, checks the number and
// answers with SIGRTMIN+1 carrying the same number.
#include <signal.h>

#include "catalog.h"
#include "common.h"

namespace ipctrace::workloads {

namespace {

// Control::ids slots: the two pids (role 1 writes its own before setting ready).
constexpr int kOwnerPid = 0, kPeerPid = 1;

// What sigqueue() does, minus its getpid()/getuid() per call: SYS_rt_sigqueueinfo with
// an SI_QUEUE siginfo.
struct Queuer {
    RoleResult& out;
    pid_t self;
    uid_t uid;

    void send(pid_t to, int sig, int value) {
        siginfo_t si{};
        si.si_signo = sig;
        si.si_code = SI_QUEUE;
        si.si_pid = self;
        si.si_uid = uid;
        si.si_value.sival_int = value;
        if (counted_retry(out, SYS_rt_sigqueueinfo, to, sig, &si) < 0) throw_errno("sigqueue");
    }
};

// sigwaitinfo(): SYS_rt_sigtimedwait without a timeout. The kernel's sigset is _NSIG bits.
void wait_for(RoleResult& out, const sigset_t& set, siginfo_t& si) {
    if (counted_retry(out, SYS_rt_sigtimedwait, &set, &si, nullptr, _NSIG / 8) < 0) throw_errno("sigwaitinfo");
}

// The value is the payload: a wrong one (or a signal from someone else) fails verification.
bool check_value(RoleResult& out, const siginfo_t& si, pid_t from, uint64_t m) {
    const int want = static_cast<int>(m);
    if (si.si_code == SI_QUEUE && si.si_pid == from && si.si_value.sival_int == want) return true;
    out.verified = 0;
    set_error(out, "signal %llu: expected value %d from pid %d, got %d from pid %d (si_code %d)",
              static_cast<unsigned long long>(m), want, static_cast<int>(from), si.si_value.sival_int,
              static_cast<int>(si.si_pid), si.si_code);
    return false;
}

void signal_role(Control& ctl, int role, RoleResult& out) {
    const Params& p = ctl.params;
    const int request = SIGRTMIN, reply = SIGRTMIN + 1;
    // Blocked before the other role may send it (ready/published order that), so it stays
    // queued for sigwaitinfo instead of running the default action (terminate).
    sigset_t waits;
    sigemptyset(&waits);
    sigaddset(&waits, role == 0 ? reply : request);
    if (sigprocmask(SIG_BLOCK, &waits, nullptr) != 0) throw_errno("sigprocmask");

    Queuer q{out, getpid(), getuid()};
    pid_t other;
    if (role == 0) {
        ctl.ids[kOwnerPid] = q.self;
        ctl.published.store(1, std::memory_order_release);
        spin_until_at_least(ctl.ready, 1);
        other = static_cast<pid_t>(ctl.ids[kPeerPid]);
    } else {
        spin_until_at_least(ctl.published, 1);
        ctl.ids[kPeerPid] = q.self;
        other = static_cast<pid_t>(ctl.ids[kOwnerPid]);
        ctl.ready.store(1, std::memory_order_release);
    }

    siginfo_t si{};
    message_loop(p, role, out, sizeof(int), [&](uint64_t m) {
        if (role == 0) {
            q.send(other, request, static_cast<int>(m));
            wait_for(out, waits, si);
            check_value(out, si, other, m);
        } else {
            wait_for(out, waits, si);
            check_value(out, si, other, m);
            q.send(other, reply, static_cast<int>(m));
        }
    });
}

}  // namespace

const Workload& workload_signal() {
    static const Workload w{
        .name = "signal",
        .description = "SIGRTMIN ping-pong via sigqueue/sigwaitinfo, each carrying a 4-byte int value",
        .mechanisms = {"signal"},
        .default_count = 20000,
        .default_size = sizeof(int),
        .syncs = {},
        .modes = {Mode::PingPong},
        .payload = false,
        .role = signal_role,
        .cleanup = nullptr,  // nothing named: pending signals go with the processes
    };
    return w;
}

}  // namespace ipctrace::workloads
