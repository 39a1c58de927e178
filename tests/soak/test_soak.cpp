// Issue 8, the soak: `ipctrace trace --all -i 1 --json` for IPCTRACE_SOAK_SECONDS (default
// 600, the 10 minutes) under a steady load with process churn. ipctrace's memory must
// stay flat, the kernel maps bounded (exited processes reclaimed), nothing dropped, and every
// write of the churning processes counted exactly, folded rows included.
//
// Load: a long-lived pipeline (a shell echoing into cat, every 50 ms); a churn loop running
// fork_storm (4 children, each exactly 20 pipe writes of 64 bytes) about 10 times a second;
// and a unix-socket workload (`ipctrace run unix --no-trace`, two short-lived roles) every 2 s.
// --keep-exited 64 so that folding starts within the first seconds: the flatness below is
// that of the steady state, where every exited process ends in a folded row.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "subprocess.h"
#include "trace_background.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kChildren = 4, kWrites = 20, kSize = 64;
constexpr long kRssSlackKiB = 2048;

long soak_seconds() {
    const char* env = std::getenv("IPCTRACE_SOAK_SECONDS");
    const long s = env ? std::atol(env) : 600;
    return s >= 30 ? s : 30;
}

// VmRSS of a process in KiB, 0 if it is gone.
long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return 0;
}

// Open descriptors of a process.
long fd_count(pid_t pid) {
    long n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

long max_of(const std::vector<long>& v, size_t from, size_t to) {
    long m = 0;
    for (size_t i = from; i < to && i < v.size(); ++i) m = std::max(m, v[i]);
    return m;
}

TEST(Soak, TraceAllForMinutesKeepsMemoryAndMapsFlatAndCountsExactly) {
    IPCTRACE_REQUIRE_ROOT();
    const long seconds = soak_seconds();
    char out_path[] = "/tmp/ipctrace-soak-XXXXXX";
    const int out_fd = mkstemp(out_path);
    ASSERT_GE(out_fd, 0);
    close(out_fd);

    Background trace({ipctrace_bin(), "trace", "--all", "-i", "1", "--json", "--keep-exited", "64", "-o", out_path});
    ASSERT_TRUE(trace.wait_for_stderr("ipctrace: tracing all processes", 10s));
    Background pipeline({"sh", "-c", "while :; do echo tick; sleep 0.05; done | cat > /dev/null"}, false, /*own_group=*/true);

    std::atomic<bool> stop{false};
    std::atomic<long> storms{0}, storm_failures{0};
    std::thread churn([&] {
        auto next_unix = Clock::now();
        while (!stop) {
            const CommandResult r = run({FORK_STORM_BIN, std::to_string(kChildren), std::to_string(kWrites), std::to_string(kSize)});
            (r.exit_code == 0 ? storms : storm_failures)++;
            if (Clock::now() >= next_unix) {
                run({ipctrace_bin(), "run", "unix", "--no-trace", "--count", "2000", "--size", "256"});
                next_unix += 2s;
            }
            std::this_thread::sleep_for(100ms);
        }
    });

    std::vector<long> rss, fds;
    const auto end = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < end) {
        std::this_thread::sleep_for(2s);
        rss.push_back(rss_kib(trace.pid()));
        fds.push_back(fd_count(trace.pid()));
    }
    stop = true;
    churn.join();
    pipeline.signal(SIGKILL);
    pipeline.wait(5s);
    std::this_thread::sleep_for(3s);  // the churn's last exits are harvested too
    trace.signal(SIGINT);
    const CommandResult r = trace.wait(30s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(storm_failures.load(), 0);

    std::ifstream in(out_path);
    std::vector<json> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(json::parse(line, nullptr, false));
        ASSERT_FALSE(lines.back().is_discarded()) << line.substr(0, 300);
    }
    unlink(out_path);
    ASSERT_GE(lines.size(), static_cast<size_t>(seconds * 3 / 4)) << "about one line a second";
    const json& final = lines.back();
    ASSERT_EQ(final["mode"], "trace");

    // Nothing dropped (an unresolved fault is still counted, as "other").
    EXPECT_EQ(final["lost_events"], 0u) << final["drops"].dump();

    // Exact: every write of every fork_storm child, whether its row was kept, folded or reclaimed.
    unsigned long storm_writes = 0;
    for (const auto& p : final["processes"])
        if (p["comm"] == "fork_storm") storm_writes += p.value(json::json_pointer("/mechanisms/pipe/syscalls/write/count"), 0ul);
    EXPECT_EQ(storm_writes, static_cast<unsigned long>(storms.load()) * kChildren * kWrites);
    EXPECT_GT(final["trace"]["processes_folded"].get<unsigned long>(), static_cast<unsigned long>(storms.load()))
        << "the churn's processes were folded";

    // RSS flat: after a warm-up of the first sixth, the largest sample of the last third is at
    // most the largest of the first third plus 2 MiB (allocator noise), not the growth of
    // thousands of exited processes.
    const size_t warm = rss.size() / 6, rest = rss.size() - warm;
    const long first = max_of(rss, warm, warm + rest / 3), last = max_of(rss, warm + rest - rest / 3, rss.size());
    EXPECT_GT(first, 0);
    EXPECT_LE(last, first + kRssSlackKiB) << "RSS KiB, every 2 s: " << ::testing::PrintToString(rss);
    EXPECT_LE(max_of(fds, warm + rest - rest / 3, fds.size()), max_of(fds, warm, warm + rest / 3))
        << "descriptors: " << ::testing::PrintToString(fds);

    // Kernel maps bounded: the procs map holds the live and the just-exited, never the whole
    // trace's processes; same rule as RSS over the interval lines.
    std::vector<long> procs_entries, stats_entries;
    for (size_t i = 0; i + 1 < lines.size(); ++i) {
        procs_entries.push_back(lines[i]["interval"]["kernel_maps"]["procs"]["entries"].get<long>());
        stats_entries.push_back(lines[i]["interval"]["kernel_maps"]["syscall_stats"]["entries"].get<long>());
    }
    const size_t n = procs_entries.size(), w = n / 6, m = n - w;
    const long procs_first = max_of(procs_entries, w, w + m / 3), procs_last = max_of(procs_entries, w + m - m / 3, n);
    const long stats_first = max_of(stats_entries, w, w + m / 3), stats_last = max_of(stats_entries, w + m - m / 3, n);
    EXPECT_LE(procs_last, procs_first + procs_first / 2 + 64) << ::testing::PrintToString(procs_entries);
    EXPECT_LE(stats_last, stats_first + stats_first / 2 + 256) << ::testing::PrintToString(stats_entries);
    const long traced = final["trace"]["processes_traced"].get<long>();
    // For the CI log: what the run amounted to.
    std::printf("soak: %ld s, %ld fork_storm runs, %ld processes traced, %lu folded; RSS KiB max %ld (first third) -> %ld (last); "
                "procs entries max %ld -> %ld, syscall_stats %ld -> %ld; fds max %ld\n",
                seconds, storms.load(), traced, final["trace"]["processes_folded"].get<unsigned long>(), first, last, procs_first,
                procs_last, stats_first, stats_last, max_of(fds, 0, fds.size()));
    EXPECT_GT(traced, 4 * max_of(procs_entries, 0, n)) << "far more processes came and went than the map ever held";
}

}  // namespace
}  // namespace ipctrace::testing
