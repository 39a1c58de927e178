// fork_storm CHILDREN WRITES SIZE [PIDFILE]: forks CHILDREN processes that are all alive at
// once (each blocks on a shared pipe until the last one is forked), then lets them go. Each
// child creates its own pipe and makes exactly WRITES write() calls of SIZE bytes into it and
// reads each back, then exits. The counts are the oracle of the map-reclaim and fork-storm
// tests: every child that was traced must show exactly WRITES writes and WRITES*SIZE bytes.
// PIDFILE gets the children's pids, one per line, before they are let go.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

bool full_write(int fd, const char* buf, size_t n) { return write(fd, buf, n) == static_cast<ssize_t>(n); }

[[noreturn]] void child(int go, long writes, size_t size) {
    char c = 0;
    if (read(go, &c, 1) != 0) _exit(3);  // EOF: every child exists, the parent let go
    int p[2];
    if (pipe(p) != 0) _exit(4);
    std::vector<char> buf(size, 'x');
    for (long i = 0; i < writes; ++i) {
        if (!full_write(p[1], buf.data(), size)) _exit(5);
        size_t got = 0;
        while (got < size) {
            const ssize_t n = read(p[0], buf.data() + got, size - got);
            if (n <= 0) _exit(6);
            got += static_cast<size_t>(n);
        }
    }
    _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: fork_storm CHILDREN WRITES SIZE [PIDFILE]\n");
        return 2;
    }
    const long children = std::atol(argv[1]), writes = std::atol(argv[2]);
    const size_t size = static_cast<size_t>(std::atol(argv[3]));
    if (children < 1 || writes < 0 || size < 1 || size > 4096) {
        std::fprintf(stderr, "fork_storm: bad numbers\n");
        return 2;
    }
    int go[2];
    if (pipe(go) != 0) return 1;
    std::vector<pid_t> pids;
    for (long i = 0; i < children; ++i) {
        const pid_t pid = fork();
        if (pid < 0) {
            std::perror("fork");
            break;
        }
        if (pid == 0) {
            close(go[1]);
            child(go[0], writes, size);
        }
        pids.push_back(pid);
    }
    if (argc > 4) {
        std::string text;
        for (pid_t pid : pids) text += std::to_string(pid) + "\n";
        FILE* f = std::fopen(argv[4], "w");
        if (!f || std::fputs(text.c_str(), f) < 0 || std::fclose(f) != 0) return 1;
    }
    close(go[1]);  // the children read EOF and start
    int failed = static_cast<long>(pids.size()) != children;
    for (pid_t pid : pids) {
        int status = 0;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
    }
    return failed;
}
