#include "collect/stop_signals.h"

#include <csignal>

#include <array>

namespace ipctrace {
namespace {

constexpr std::array<int, 5> kSaved{SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD};

volatile sig_atomic_t g_stop_signal = 0;
volatile sig_atomic_t g_stop_count = 0;
volatile sig_atomic_t g_to_forward[NSIG] = {};

struct Original {
    bool saved = false;
    std::array<struct sigaction, kSaved.size()> actions{};
    sigset_t mask{};
};
Original g_original;

void on_stop(int sig, siginfo_t* info, void*) {
    if (sig != SIGQUIT) {
        g_stop_signal = sig;
        g_stop_count = g_stop_count + 1;
    }
    // SI_KERNEL: sent by the tty to the whole foreground process group, a command included.
    if (info == nullptr || info->si_code != SI_KERNEL) g_to_forward[sig] = 1;
}

void handle(int sig) {
    struct sigaction sa {};
    sa.sa_sigaction = on_stop;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);
}

}  // namespace

void install_stop_handlers() {
    if (g_original.saved) return;
    for (size_t i = 0; i < kSaved.size(); ++i) sigaction(kSaved[i], nullptr, &g_original.actions[i]);
    sigprocmask(SIG_SETMASK, nullptr, &g_original.mask);
    g_original.saved = true;
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) handle(sig);
}

void handle_quit_signal() {
    install_stop_handlers();
    handle(SIGQUIT);
}

bool stop_requested() { return g_stop_count != 0; }
int stop_signal() { return g_stop_signal; }
int stop_count() { return g_stop_count; }

bool take_to_forward(int sig) {
    if (sig <= 0 || sig >= NSIG || !g_to_forward[sig]) return false;
    g_to_forward[sig] = 0;
    return true;
}

void mark_to_forward(int sig) {
    if (sig > 0 && sig < NSIG) g_to_forward[sig] = 1;
}

void restore_original_signals() noexcept {
    if (!g_original.saved) return;
    for (size_t i = 0; i < kSaved.size(); ++i) sigaction(kSaved[i], &g_original.actions[i], nullptr);
    sigprocmask(SIG_SETMASK, &g_original.mask, nullptr);
}

}  // namespace ipctrace
