#include "collect/spawn.h"

#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace ipctrace {

struct SpawnedCommand::Gate {
    std::atomic<int> ready{0};       // child → ipctrace: prefaulted, signals restored, waiting
    std::atomic<int> go{0};          // ipctrace → child: you are traced, exec
    std::atomic<int> exec_errno{0};  // child → ipctrace: execvp failed with this
};
static_assert(std::atomic<int>::is_always_lock_free, "the gate is shared between processes");

void SpawnedCommand::Unmap::operator()(Gate* gate) const {
    gate->~Gate();
    munmap(gate, sizeof(Gate));
}

namespace {

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// The child, between fork and exec: no allocation, no stdio, no IPC syscall.
[[noreturn]] void child_main(std::atomic<int>& ready, std::atomic<int>& go, std::atomic<int>& exec_errno, char* const* argv,
                             pid_t parent, const TraceSignals& signals) {
    // Write the page before being traced: a fault on a shared page would count as IPC.
    exec_errno.store(0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // ipctrace died before the prctl took effect
    signals.restore_original();
    ready.store(1);
    while (go.load() == 0) {
        cpu_relax();
        sched_yield();
    }
    execvp(argv[0], argv);
    const int err = errno;
    exec_errno.store(err);
    // As the shell and env(1) do: 127 when not found, 126 when found but not runnable.
    _exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

// The first executable `name` in PATH, or `name` itself (a path, or not found: execvp then
// reports it as it always did).
std::string resolve_in_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    if (name.empty() || name.find('/') != std::string::npos || !path) return name;
    for (const char* dir = path;; ++dir) {
        const char* end = std::strchr(dir, ':');
        const std::string d(dir, end ? static_cast<size_t>(end - dir) : std::strlen(dir));
        const std::string candidate = (d.empty() ? "." : d) + "/" + name;
        struct stat st {};
        if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(candidate.c_str(), X_OK) == 0) return candidate;
        if (!end) return name;
        dir = end;
    }
}

}  // namespace

SpawnedCommand::SpawnedCommand(const std::vector<std::string>& argv, const TraceSignals& signals) {
    if (argv.empty()) throw std::runtime_error("no command to run");
    void* page = mmap(nullptr, sizeof(Gate), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) throw std::runtime_error(std::string("map the spawn gate: ") + std::strerror(errno));
    gate_.reset(new (page) Gate);  // placement new into the shared page; Unmap destroys it

    // The program's path, searched in PATH before fork as strace does: execvp's failed tries
    // would be traced syscalls of the command (all_syscalls) that are ipctrace's own.
    const std::string program = resolve_in_path(argv.front());
    std::vector<char*> args;  // built before fork: the child must not allocate
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    args.front() = const_cast<char*>(program.c_str());

    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) child_main(gate_->ready, gate_->go, gate_->exec_errno, args.data(), parent, signals);
    signals.command_started();  // a Ctrl-C that came while the probes loaded never reached it

    pidfd_.reset(static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)));
    if (!pidfd_) {
        const int err = errno;
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        reaped_ = true;
        throw std::runtime_error(std::string("pidfd_open of the command: ") + std::strerror(err));
    }
    // Wait until the child is ready; it may also die first (a signal): then there is nothing
    // to wait for, and try_reap() reports how it ended.
    const timespec pause{0, 20000};
    while (gate_->ready.load() == 0) {
        siginfo_t info{};
        if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_) break;
        nanosleep(&pause, nullptr);
    }
}

SpawnedCommand::~SpawnedCommand() {
    if (pid_ <= 0 || reaped_) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
}

void SpawnedCommand::release() { gate_->go.store(1); }

std::optional<ExitStatus> SpawnedCommand::try_reap() {
    if (reaped_) return std::nullopt;
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r < 0 && errno != EINTR) {
        reaped_ = true;  // someone else reaped it: its status is gone, and waiting would spin
        throw std::runtime_error(std::string("wait for the command: ") + std::strerror(errno));
    }
    if (r != pid_) return std::nullopt;
    reaped_ = true;
    if (WIFSIGNALED(status)) return ExitStatus{0, WTERMSIG(status)};
    return ExitStatus{WEXITSTATUS(status), 0};
}

int SpawnedCommand::exec_errno() const { return gate_->exec_errno.load(); }

}  // namespace ipctrace
