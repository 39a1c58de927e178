#include "collect/trace_signals.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "collect/stop_signals.h"

namespace ipctrace {
namespace {

// Written by the Forward handler, read by the loop (only while the signals are blocked).
volatile sig_atomic_t g_last_signal = 0;
volatile sig_atomic_t g_to_forward[NSIG] = {};

void on_forwarded_signal(int sig, siginfo_t* info, void*) {
    g_last_signal = sig;
    // SI_KERNEL: sent by the tty to the whole foreground process group, the command included.
    if (info == nullptr || info->si_code != SI_KERNEL) g_to_forward[sig] = 1;
}

}  // namespace

TraceSignals::TraceSignals(Mode mode) : mode_(mode) {
    signals_ = {SIGINT, SIGTERM, SIGHUP};
    if (mode == Mode::Forward) signals_.push_back(SIGQUIT);
    sigset_t blocked;
    sigemptyset(&blocked);
    for (int sig : signals_) sigaddset(&blocked, sig);
    sigprocmask(SIG_BLOCK, &blocked, &old_mask_);
    wait_mask_ = old_mask_;
    for (int sig : signals_) sigdelset(&wait_mask_, sig);

    for (size_t i = 0; i < signals_.size(); ++i) sigaction(signals_[i], nullptr, &old_actions_[i]);
    if (mode == Mode::Stop) {
        install_stop_handlers();
        return;
    }
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGCHLD, &dfl, &old_sigchld_);

    struct sigaction sa {};
    sa.sa_sigaction = on_forwarded_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int sig : signals_) sigaction(sig, &sa, nullptr);
}

TraceSignals::~TraceSignals() { restore_original(); }

void TraceSignals::wait(std::vector<pollfd>& fds, std::optional<long long> timeout_ns) const {
    timespec ts{};
    if (timeout_ns) {
        const long long ns = *timeout_ns > 0 ? *timeout_ns : 0;
        ts.tv_sec = ns / 1000000000LL;
        ts.tv_nsec = ns % 1000000000LL;
    }
    for (auto& p : fds) p.revents = 0;
    if (ppoll(fds.data(), fds.size(), timeout_ns ? &ts : nullptr, &wait_mask_) < 0 && errno != EINTR)
        throw std::runtime_error(std::string("wait for the traced processes: ") + std::strerror(errno));
}

std::vector<int> TraceSignals::take_signals_to_forward() {
    std::vector<int> out;
    for (int sig : signals_)
        if (g_to_forward[sig]) {
            g_to_forward[sig] = 0;
            out.push_back(sig);
        }
    return out;
}

void TraceSignals::command_started() const {
    if (mode_ != Mode::Forward) return;
    sigset_t pending;
    if (sigpending(&pending) != 0) return;
    for (int sig : signals_)
        if (sigismember(&pending, sig) == 1) g_to_forward[sig] = 1;
}

int TraceSignals::last_signal() const { return mode_ == Mode::Stop ? stop_signal() : g_last_signal; }

void TraceSignals::restore_original() const noexcept {
    for (size_t i = 0; i < signals_.size(); ++i) sigaction(signals_[i], &old_actions_[i], nullptr);
    if (mode_ == Mode::Forward) sigaction(SIGCHLD, &old_sigchld_, nullptr);
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
}

}  // namespace ipctrace
