// A pipe read whose latency is known: a writer child sleeps a fixed time before each 1-byte
// write, so the parent's blocking read waits that long. The parent times every read with its
// own clock and prints the quantiles of those times, the oracle of the quantile test.
//
//   timed_reads SHORT_COUNT SHORT_US LONG_COUNT LONG_US
//   prints: {"reads": N, "p50_ns": P50, "p99_ns": P99}   (nearest rank)
// The long waits are spread among the short ones.
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

long arg(const char* s) {
    char* end = nullptr;
    const long v = std::strtol(s, &end, 10);
    if (!end || *end || v < 0 || v > 100'000'000) {
        std::fprintf(stderr, "timed_reads: bad number '%s'\n", s);
        std::exit(2);
    }
    return v;
}

unsigned long long now_ns() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<unsigned long long>(t.tv_sec) * 1'000'000'000ull + static_cast<unsigned long long>(t.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: timed_reads SHORT_COUNT SHORT_US LONG_COUNT LONG_US\n");
        return 2;
    }
    const long shorts = arg(argv[1]), short_us = arg(argv[2]), longs = arg(argv[3]), long_us = arg(argv[4]);
    const long n = shorts + longs;
    if (n == 0) return 2;
    std::vector<long> waits_us;
    for (long i = 0, placed = 0; i < n; ++i) {
        const bool is_long = placed < longs && (i + 1) * longs / n > placed;
        placed += is_long;
        waits_us.push_back(is_long ? long_us : short_us);
    }
    int fds[2];
    if (pipe(fds) != 0) return 1;
    const pid_t writer = fork();
    if (writer < 0) return 1;
    if (writer == 0) {
        close(fds[0]);
        for (long us : waits_us) {
            usleep(static_cast<useconds_t>(us));
            if (write(fds[1], "x", 1) != 1) _exit(1);
        }
        _exit(0);
    }
    close(fds[1]);
    std::vector<unsigned long long> took;
    char c;
    for (long i = 0; i < n; ++i) {
        const unsigned long long t0 = now_ns();
        if (read(fds[0], &c, 1) != 1) return 1;
        took.push_back(now_ns() - t0);
    }
    int status = 0;
    waitpid(writer, &status, 0);
    std::sort(took.begin(), took.end());
    const auto rank = [&](double q) { return took[static_cast<size_t>(std::max(1.0, q * static_cast<double>(n) + 0.999999)) - 1]; };
    std::printf("{\"reads\": %ld, \"p50_ns\": %llu, \"p99_ns\": %llu}\n", n, rank(0.50), rank(0.99));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
