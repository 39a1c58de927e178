// read_latency READS SLEEP_NS OUT: a pipe read whose latency is known. A child writes one byte
// to a pipe READS times, sleeping SLEEP_NS before each write; the parent makes READS 1-byte
// read() calls, each waiting for the next byte, and times each with its own clock
// (CLOCK_MONOTONIC around the call). OUT gets the parent's p50_ns and p99_ns of those reads
// (the ceil(q*READS)-th shortest, the rank ipctrace's quantiles use), one per line: the oracle
// of the quantile test. The parent makes no other pipe read; the child makes none at all.
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

long long now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

long long rank_of(const std::vector<long long>& sorted, double q) {
    const auto rank = static_cast<size_t>(std::max(1.0, std::ceil(q * static_cast<double>(sorted.size()) - 1e-9)));
    return sorted[std::min(rank, sorted.size()) - 1];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: read_latency READS SLEEP_NS OUT\n");
        return 2;
    }
    const long reads = std::atol(argv[1]);
    const long long sleep_ns = std::atoll(argv[2]);
    if (reads <= 0 || sleep_ns <= 0 || sleep_ns >= 1'000'000'000LL) {
        std::fprintf(stderr, "read_latency: READS > 0 and 0 < SLEEP_NS < 1e9\n");
        return 2;
    }
    int p[2];
    if (pipe(p) != 0) return 3;
    const pid_t writer = fork();
    if (writer < 0) return 3;
    if (writer == 0) {
        close(p[0]);
        const timespec pause{0, static_cast<long>(sleep_ns)};
        for (long i = 0; i < reads; ++i) {
            nanosleep(&pause, nullptr);
            if (write(p[1], "x", 1) != 1) _exit(4);
        }
        _exit(0);
    }
    close(p[1]);
    std::vector<long long> took;
    took.reserve(static_cast<size_t>(reads));
    char c = 0;
    for (long i = 0; i < reads; ++i) {
        const long long start = now_ns();
        if (read(p[0], &c, 1) != 1) return 5;
        took.push_back(now_ns() - start);
    }
    int status = 0;
    if (waitpid(writer, &status, 0) != writer || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 6;
    std::sort(took.begin(), took.end());
    FILE* out = std::fopen(argv[3], "w");
    if (!out) return 7;
    std::fprintf(out, "%lld\n%lld\n", rank_of(took, 0.50), rank_of(took, 0.99));
    return std::fclose(out) == 0 ? 0 : 7;
}
