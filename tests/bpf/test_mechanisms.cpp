// Issue 3: every fd-based, POSIX and mapping workload under the real probes. The oracle is
// the workload's own count of each IPC syscall (and strace on an untraced run, per role),
// the bytes it moved, and the pages it touched.
#include <gtest/gtest.h>

#include <functional>

#include "subprocess.h"
#include "workload_check.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;

struct MechanismCase {
    WorkloadCase run;
    std::set<std::string> optional;  // mechanisms that may appear (contended futexes)
    // Expected bytes to/from the kernel, given the report; nullopt: no copying mechanism.
    std::function<std::optional<std::pair<unsigned long, unsigned long>>(const json&)> bytes;
    unsigned long min_shared_pages = 0;  // faults on the shared mapping, at least
};
void PrintTo(const MechanismCase& c, std::ostream* os) { *os << c.run.name(); }

unsigned long count_of(const json& r) { return r["workload"]["messages"].get<unsigned long>(); }
unsigned long size_of(const json& r) { return r["workload"]["message_size"].get<unsigned long>(); }

// Stream: every message once into the kernel and once out. Ping-pong: twice each way.
auto stream_bytes = [](const json& r) { return std::optional(std::pair{count_of(r) * size_of(r), count_of(r) * size_of(r)}); };
auto pingpong_bytes = [](const json& r) { return std::optional(std::pair{2 * count_of(r) * size_of(r), 2 * count_of(r) * size_of(r)}); };
auto no_bytes = [](const json&) { return std::optional<std::pair<unsigned long, unsigned long>>(); };

class MechanismWorkload : public ::testing::TestWithParam<MechanismCase> {};

TEST_P(MechanismWorkload, CountsBytesFaultsAndCleanup) {
    IPCTRACE_REQUIRE_ROOT();
    const MechanismCase& c = GetParam();
    const auto before = leftovers();

    const json report = run_traced(c.run);
    ASSERT_TRUE(report.contains("workload"));
    EXPECT_TRUE(report["workload"]["ok"].get<bool>()) << report["workload"]["error"];
    EXPECT_EQ(report["lost_events"].get<unsigned long>(), 0u);
    expect_mechanisms(report, c.run.mechanisms, c.optional);
    expect_traced_equals_workload(report);

    unsigned long to = 0, from = 0, faults = 0;
    for (const auto& [mech, m] : report["mechanisms"].items()) {
        to += m["bytes_to_kernel"].get<unsigned long>();
        from += m["bytes_from_kernel"].get<unsigned long>();
        faults += m["page_faults"].get<unsigned long>();
    }
    if (auto expected = c.bytes(report)) {
        EXPECT_EQ(to, expected->first) << "bytes into the kernel";
        EXPECT_EQ(from, expected->second) << "bytes out of the kernel";
    } else {
        EXPECT_EQ(to + from, 0u) << "a mechanism that shares pages copied bytes";
    }
    EXPECT_GE(faults, c.min_shared_pages) << "faults on the shared mapping";

    // strace on an untraced run sees, for the role processes, what that run's roles counted.
    const auto traced = traced_calls(report);
    std::set<std::string> names;
    for (const auto& [name, n] : traced) names.insert(name);
    const StraceRun st = run_under_strace(c.run, names);
    const auto ops = workload_ops(st.report);
    const auto uncounted = uncounted_ops(st.report);
    for (const auto& name : names) {
        if (uncounted.count(name)) continue;
        EXPECT_EQ(st.calls.count(name) ? st.calls.at(name) : 0, ops.count(name) ? ops.at(name) : 0) << "strace vs the roles' count of " << name;
    }
    const auto after = leftovers();
    EXPECT_TRUE(std::includes(before.begin(), before.end(), after.begin(), after.end())) << "something was left behind";
}

// The ring of the shared-memory workloads: a header page, then the slots (2 in ping-pong):
// --sync ring max(256 KiB/size, 8 while 8 fit 1 MiB, else 2), the other syncs
// min(8, 64 MiB/size); the producer writes
// every page of it at least once.
unsigned long ring_pages(unsigned long size, bool pingpong, bool spsc = true) {
    const unsigned long slots = pingpong ? 2
                                : spsc   ? std::max(size * 8 <= (1ul << 20) ? 8ul : 2ul, (256ul << 10) / size)
                                         : std::min(8ul, std::max(1ul, (64ul << 20) / size));
    return 1 + (slots * size + 4095) / 4096;
}

INSTANTIATE_TEST_SUITE_P(
    Workloads, MechanismWorkload,
    ::testing::Values(
        MechanismCase{{"posix-shm", {"--count", "2000", "--size", "4K"}, {"posix_shm"}}, {"futex"}, no_bytes, ring_pages(4096, false)},
        MechanismCase{{"posix-shm", {"--count", "1000", "--size", "64K", "--mode", "pingpong"}, {"posix_shm"}}, {"futex"}, no_bytes, ring_pages(65536, true)},
        MechanismCase{{"posix-shm", {"--count", "2000", "--sync", "spin"}, {"posix_shm"}}, {}, no_bytes, ring_pages(4096, false, false)},
        MechanismCase{{"posix-shm", {"--count", "2000", "--sync", "sem"}, {"posix_shm"}}, {"futex"}, no_bytes, ring_pages(4096, false, false)},
        MechanismCase{{"posix-shm", {"--count", "2000", "--sync", "futex"}, {"posix_shm"}}, {"futex"}, no_bytes, ring_pages(4096, false, false)},
        MechanismCase{{"mmap", {"--count", "2000", "--size", "16K"}, {"mmap_file"}}, {"futex"}, no_bytes, ring_pages(16384, false) - 1},
        MechanismCase{{"posix-mq", {"--count", "2000", "--size", "100"}, {"posix_mq"}}, {}, stream_bytes, 0},
        MechanismCase{{"posix-mq", {"--count", "1000", "--size", "4K", "--mode", "pingpong"}, {"posix_mq"}}, {}, pingpong_bytes, 0},
        MechanismCase{{"pipe", {"--count", "2000", "--size", "100"}, {"pipe"}}, {}, stream_bytes, 0},
        MechanismCase{{"pipe", {"--count", "1000", "--size", "64K", "--mode", "pingpong"}, {"pipe"}}, {}, pingpong_bytes, 0},
        MechanismCase{{"fifo", {"--count", "2000", "--size", "8K"}, {"fifo"}}, {}, stream_bytes, 0},
        MechanismCase{{"fifo", {"--count", "1000", "--size", "16", "--mode", "pingpong"}, {"fifo"}}, {}, pingpong_bytes, 0},
        MechanismCase{{"unix", {"--count", "2000", "--size", "64K"}, {"unix_stream"}}, {}, stream_bytes, 0},
        MechanismCase{{"unix", {"--count", "1000", "--size", "32", "--mode", "pingpong"}, {"unix_stream"}}, {}, pingpong_bytes, 0},
        MechanismCase{{"unix-dgram", {"--count", "2000", "--size", "512"}, {"unix_dgram"}}, {}, stream_bytes, 0},
        MechanismCase{{"unix-dgram", {"--count", "1000", "--size", "2K", "--mode", "pingpong"}, {"unix_dgram"}}, {}, pingpong_bytes, 0},
        MechanismCase{{"tcp", {"--count", "2000", "--size", "16K"}, {"tcp"}}, {}, stream_bytes, 0},
        MechanismCase{{"tcp", {"--count", "1000", "--size", "100", "--mode", "pingpong"}, {"tcp"}}, {}, pingpong_bytes, 0},
        MechanismCase{{"udp", {"--count", "1000", "--size", "1K", "--mode", "pingpong"}, {"udp"}}, {}, pingpong_bytes, 0},
        MechanismCase{{"signal", {"--count", "2000"}, {"signal"}}, {}, no_bytes, 0},
        // eventfd: every message is one 8-byte counter, written and read in each direction
        MechanismCase{{"eventfd", {"--count", "2000"}, {"eventfd"}}, {}, [](const json& r) { return std::optional(std::pair{2 * count_of(r) * 8, 2 * count_of(r) * 8}); }, 0},
        MechanismCase{{"file", {"--count", "2000", "--size", "4K"}, {"file"}}, {}, stream_bytes, 0}),
    [](const ::testing::TestParamInfo<MechanismCase>& info) { return info.param.run.name(); });

// The bytes of a udp run against the roles' own datagram counts: every payload datagram is
// --size bytes, every control datagram (credit, end marker) 8, each way. Exact, not a bound.
void expect_udp_bytes(const json& report) {
    const unsigned long size = size_of(report);
    const json& d = report["workload"]["datagrams"];
    const json& udp = report["mechanisms"]["udp"];
    EXPECT_EQ(udp["bytes_to_kernel"].get<unsigned long>(),
              d["sent"].get<unsigned long>() * size + d["control_sent"].get<unsigned long>() * 8);
    EXPECT_EQ(udp["bytes_from_kernel"].get<unsigned long>(),
              d["delivered"].get<unsigned long>() * size + d["control_received"].get<unsigned long>() * 8);
}

// Issue 13: the default stream is flow-controlled by receiver credits, so it delivers what
// it sends at any size; the report says so, and the bytes agree with the counts.
TEST(UdpStream, DeliversEverythingItSendsAtSeveralSizes) {
    IPCTRACE_REQUIRE_ROOT();
    for (const char* size : {"64", "1K", "16K", "65507"}) {
        SCOPED_TRACE(size);
        const json report = run_traced({"udp", {"--count", "5000", "--size", size}, {"udp"}});
        const auto& w = report["workload"];
        EXPECT_TRUE(w["ok"].get<bool>()) << w["error"];
        EXPECT_EQ(w["mode"], "stream");
        const json& d = w["datagrams"];
        EXPECT_EQ(d["sent"].get<unsigned long>(), 5000u);
        EXPECT_EQ(d["delivered"].get<unsigned long>(), 5000u);
        EXPECT_EQ(d["lost"].get<unsigned long>(), 0u);
        EXPECT_EQ(w["lost_messages"].get<unsigned long>(), 0u);
        EXPECT_EQ(w["messages"].get<unsigned long>(), 5000u);
        EXPECT_GT(d["control_sent"].get<unsigned long>(), 3u) << "no credit was sent";
        expect_udp_bytes(report);
        expect_traced_equals_workload(report);
    }
}

// --mode lossy paces the sender with no flow control: loss is what it measures. What the
// report calls lost is sent minus what the receiver counted, and the kernel's bytes out of
// recv agree with the receiver's count datagram for datagram.
TEST(UdpLossy, LossIsWhatTheReceiverDidNotGet) {
    IPCTRACE_REQUIRE_ROOT();
    for (const char* rate : {"20k", "2M"}) {
        SCOPED_TRACE(rate);
        const json report = run_traced({"udp", {"--count", "20000", "--size", "1K", "--mode", "lossy", "--rate", rate}, {"udp"}});
        const auto& w = report["workload"];
        EXPECT_TRUE(w["verified"].get<bool>());
        EXPECT_EQ(w["mode"], "lossy");
        const json& d = w["datagrams"];
        const unsigned long sent = d["sent"].get<unsigned long>(), delivered = d["delivered"].get<unsigned long>();
        EXPECT_EQ(sent, 20000u);
        EXPECT_EQ(delivered, w["messages"].get<unsigned long>()) << "the receiver's own count";
        EXPECT_EQ(d["lost"].get<unsigned long>(), sent - delivered);
        EXPECT_EQ(w["lost_messages"].get<unsigned long>(), sent - delivered);
        expect_udp_bytes(report);
        expect_traced_equals_workload(report);
    }
}

TEST(Signal, SentSignalsAreCounted) {
    IPCTRACE_REQUIRE_ROOT();
    const json report = run_traced({"signal", {"--count", "1000"}, {"signal"}});
    // Each round trip: two sigqueue calls, two signals generated.
    EXPECT_EQ(report["mechanisms"]["signal"]["signals"]["sent"].get<unsigned long>(), 2000u);
    EXPECT_EQ(report["mechanisms"]["signal"]["syscalls"]["rt_sigqueueinfo"]["count"].get<unsigned long>(), 2000u);
}

}  // namespace
}  // namespace ipctrace::testing
