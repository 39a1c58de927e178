#include "collect/trace_signals.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "collect/stop_signals.h"

namespace ipctrace {

TraceSignals::TraceSignals(Mode mode) : mode_(mode) {
    install_stop_handlers();  // saves the original state first, if nothing did yet
    signals_ = {SIGINT, SIGTERM, SIGHUP};
    if (mode == Mode::Forward) signals_.push_back(SIGQUIT);
    sigset_t blocked;
    sigemptyset(&blocked);
    for (int sig : signals_) sigaddset(&blocked, sig);
    sigprocmask(SIG_BLOCK, &blocked, &old_mask_);
    wait_mask_ = old_mask_;
    for (int sig : signals_) sigdelset(&wait_mask_, sig);
    if (mode == Mode::Stop) return;

    handle_quit_signal();
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGCHLD, &dfl, &old_sigchld_);
}

TraceSignals::~TraceSignals() {
    if (mode_ == Mode::Forward) sigaction(SIGCHLD, &old_sigchld_, nullptr);
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);  // a pending stop signal now only meets its handler
}

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
        if (take_to_forward(sig)) out.push_back(sig);
    return out;
}

void TraceSignals::command_started() const {
    if (mode_ != Mode::Forward) return;
    sigset_t pending;
    if (sigpending(&pending) != 0) return;
    // The next wait delivers it to the handler (and the count); pass it on even if the
    // terminal sent it.
    for (int sig : signals_)
        if (sigismember(&pending, sig) == 1) mark_to_forward(sig);
}

int TraceSignals::last_signal() const { return stop_signal(); }

void TraceSignals::restore_original() const noexcept { restore_original_signals(); }

}  // namespace ipctrace
