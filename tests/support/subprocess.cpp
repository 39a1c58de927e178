#include "subprocess.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ipctrace::testing {
namespace {

std::string slurp_fd(int fd) {
    std::string out;
    char buf[65536];
    lseek(fd, 0, SEEK_SET);
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    return out;
}

int temp_fd() {
    char path[] = "/tmp/ipctrace-test-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    unlink(path);
    return fd;
}

}  // namespace

void exec_redirected(const std::vector<std::string>& argv, int out_fd, int err_fd) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    const int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
}

void expect_usage_error(const std::vector<std::string>& args, const std::string& needle) {
    std::vector<std::string> argv = {ipctrace_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = run(argv);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, 2) << joined << "stderr: " << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << joined << "stderr: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << joined << "stderr: " << r.err;
    EXPECT_EQ(r.out, "") << joined;
}

CommandResult run(const std::vector<std::string>& argv) {
    const int out_fd = temp_fd(), err_fd = temp_fd();
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) exec_redirected(argv, out_fd, err_fd);
    int status = 0;
    waitpid(pid, &status, 0);
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp_fd(out_fd);
    r.err = slurp_fd(err_fd);
    close(out_fd);
    close(err_fd);
    return r;
}

std::string ipctrace_bin() { return IPCTRACE_BIN; }

std::map<std::string, unsigned long> parse_strace_counts(const std::string& table) {
    std::map<std::string, unsigned long> counts;
    std::istringstream in(table);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::vector<std::string> f;
        for (std::string s; fields >> s;) f.push_back(s);
        // "% time seconds usecs/call calls [errors] syscall"; skip headers, rules and total
        if (f.size() < 5 || f.back() == "total" || f.back() == "syscall" || f[0].find('-') == 0) continue;
        try {
            counts[f.back()] = std::stoul(f[3]);
        } catch (const std::exception&) {
        }
    }
    return counts;
}

bool can_trace() { return geteuid() == 0; }

}  // namespace ipctrace::testing
