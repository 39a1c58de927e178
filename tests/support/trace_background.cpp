#include "trace_background.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>

namespace ipctrace::testing {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

}  // namespace

Background::Background(const std::vector<std::string>& argv, bool stdin_pipe, bool own_group) : own_group_(own_group) {
    char path[] = "/tmp/ipctrace-bg-XXXXXX";
    out_ = mkstemp(path);
    if (out_ < 0) throw std::runtime_error("mkstemp failed");
    unlink(path);
    int in[2] = {-1, -1}, err[2];
    if ((stdin_pipe && pipe2(in, O_CLOEXEC) != 0) || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        if (own_group) setpgid(0, 0);
        dup2(stdin_pipe ? in[0] : open("/dev/null", O_RDONLY), 0);
        dup2(out_, 1);
        dup2(err[1], 2);
        execvp(args[0], args.data());
        _exit(127);
    }
    if (own_group) setpgid(pid_, pid_);  // also here: the group exists before the constructor returns
    if (stdin_pipe) {
        close(in[0]);
        in_ = in[1];
    }
    close(err[1]);
    err_ = err[0];
}

Background::~Background() {
    if (own_group_ && pid_ > 0) kill(-pid_, SIGKILL);
    if (!reaped_ && pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    for (int fd : {in_, err_, out_})
        if (fd >= 0) close(fd);
}

bool Background::wait_for_stderr(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (err_text_.find(needle) == std::string::npos) {
        pollfd p{err_, POLLIN, 0};
        if (poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
        char buf[4096];
        const ssize_t n = read(err_, buf, sizeof buf);
        if (n <= 0) return false;  // the process closed stderr: it exited
        err_text_.append(buf, static_cast<size_t>(n));
    }
    return true;
}

void Background::write_stdin(const std::string& text) {
    if (in_ < 0 || write(in_, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        throw std::runtime_error("write to the background process failed");
}

void Background::signal(int sig) { kill(pid_, sig); }

CommandResult Background::wait(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    if (in_ >= 0) {
        close(in_);
        in_ = -1;
    }
    // Drain stderr to its end (the process and its children closed it), then reap.
    for (bool open = true; open;) {
        pollfd p{err_, POLLIN, 0};
        if (poll(&p, 1, remaining_ms(deadline)) <= 0) {
            kill(pid_, SIGKILL);
            break;
        }
        char buf[4096];
        const ssize_t n = read(err_, buf, sizeof buf);
        if (n > 0) err_text_.append(buf, static_cast<size_t>(n));
        open = n > 0;
    }
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.err = err_text_;
    lseek(out_, 0, SEEK_SET);
    char buf[65536];
    for (ssize_t n; (n = read(out_, buf, sizeof buf)) > 0;) r.out.append(buf, static_cast<size_t>(n));
    return r;
}

}  // namespace ipctrace::testing
