// The Prometheus view: Snapshot -> metric families (no server), the comm label rule, the
// --metrics address, and one real exporter on a loopback port.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "http_get.h"
#include "metrics/metrics_exporter.h"
#include "metrics/metrics_families.h"

namespace ipctrace {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

const unsigned kMsgsnd = *syscall_number("msgsnd");
const unsigned kMsgrcv = *syscall_number("msgrcv");

// Two "writer" processes and one "reader" on a SysV queue.
Snapshot queue_snapshot() {
    Snapshot s;
    CallStats snd;
    snd.count = 3;
    snd.errors = 1;
    snd.total_ns = 3000;
    snd.bytes_in = 200;
    snd.hist[latency_bucket(1ull << 0)] = 1;   // [0, 2) ns
    snd.hist[latency_bucket(1ull << 10)] = 2;  // [1024, 2048) ns
    s.calls[{100, MECH_SYSV_MSG, kMsgsnd}] = snd;
    s.calls[{101, MECH_SYSV_MSG, kMsgsnd}] = snd;
    CallStats rcv;
    rcv.count = 6;
    rcv.total_ns = 6000;
    rcv.bytes_out = 400;
    rcv.hist[latency_bucket(1ull << 39)] = 6;  // the open-ended slot
    s.calls[{200, MECH_SYSV_MSG, kMsgrcv}] = rcv;
    s.proc_mech[{100, MECH_SYSV_MSG}] = ProcMechStats{2, 1, 5, 1, 0, 0};
    s.proc_mech[{101, MECH_SYSV_MSG}] = ProcMechStats{3, 0, 7, 2, 0, 0};
    s.proc_mech[{200, MECH_NONE}] = ProcMechStats{11, 0, 1, 0, 0, 0};
    s.procs[100] = ProcInfo{1, false, "writer"};
    s.procs[101] = ProcInfo{1, true, "writer"};
    s.procs[200] = ProcInfo{1, false, "reader"};
    s.drops[DROP_STATS_FULL] = 4;
    s.drops[DROP_FAULT_UNRESOLVED] = 9;  // not lost: counted as `other`
    return s;
}

const MetricFamily& find_family(const std::vector<MetricFamily>& families, const std::string& name) {
    for (const auto& f : families)
        if (f.name == name) return f;
    throw std::runtime_error("no family " + name);
}

// The one series of `family` whose labels are exactly `labels`.
const ClientMetric& series(const MetricFamily& family, std::vector<ClientMetric::Label> labels) {
    std::sort(labels.begin(), labels.end());
    const ClientMetric* found = nullptr;
    for (const auto& m : family.metric) {
        auto have = m.label;
        std::sort(have.begin(), have.end());
        if (have == labels) {
            if (found) throw std::runtime_error("two series alike in " + family.name);
            found = &m;
        }
    }
    if (!found) throw std::runtime_error("no such series in " + family.name);
    return *found;
}

TEST(MetricFamilies, SumsProcessesOfOneCommIntoOneSeries) {
    CommLabeler labeler(kDefaultTopComms);
    const auto families = metric_families(queue_snapshot(), labeler);
    const auto& calls = find_family(families, "ipctrace_syscalls_total");
    EXPECT_EQ(calls.type, MetricType::Counter);
    ASSERT_EQ(calls.metric.size(), 2u);
    EXPECT_EQ(series(calls, {{"mechanism", "sysv_msg"}, {"syscall", "msgsnd"}, {"comm", "writer"}}).counter.value, 6);
    EXPECT_EQ(series(calls, {{"mechanism", "sysv_msg"}, {"syscall", "msgrcv"}, {"comm", "reader"}}).counter.value, 6);
    const auto& errors = find_family(families, "ipctrace_syscall_errors_total");
    EXPECT_EQ(series(errors, {{"mechanism", "sysv_msg"}, {"syscall", "msgsnd"}, {"comm", "writer"}}).counter.value, 2);
}

TEST(MetricFamilies, BytesByDirection) {
    CommLabeler labeler(kDefaultTopComms);
    const auto families = metric_families(queue_snapshot(), labeler);
    const auto& bytes = find_family(families, "ipctrace_bytes_total");
    EXPECT_EQ(series(bytes, {{"mechanism", "sysv_msg"}, {"direction", "to_kernel"}, {"comm", "writer"}}).counter.value, 400);
    EXPECT_EQ(series(bytes, {{"mechanism", "sysv_msg"}, {"direction", "from_kernel"}, {"comm", "reader"}}).counter.value, 400);
    EXPECT_EQ(series(bytes, {{"mechanism", "sysv_msg"}, {"direction", "zero_copy"}, {"comm", "writer"}}).counter.value, 0);
}

TEST(MetricFamilies, FaultsAndSwitchesPerMechanismAndOther) {
    CommLabeler labeler(kDefaultTopComms);
    const auto families = metric_families(queue_snapshot(), labeler);
    const auto& faults = find_family(families, "ipctrace_page_faults_total");
    EXPECT_EQ(series(faults, {{"mechanism", "sysv_msg"}, {"comm", "writer"}}).counter.value, 5);
    EXPECT_EQ(series(faults, {{"mechanism", "other"}, {"comm", "reader"}}).counter.value, 11);
    EXPECT_EQ(series(find_family(families, "ipctrace_copy_faults_total"), {{"mechanism", "sysv_msg"}, {"comm", "writer"}})
                  .counter.value,
              1);
    const auto& switches = find_family(families, "ipctrace_context_switches_total");
    EXPECT_EQ(series(switches, {{"mechanism", "sysv_msg"}, {"kind", "voluntary"}, {"comm", "writer"}}).counter.value, 12);
    EXPECT_EQ(series(switches, {{"mechanism", "sysv_msg"}, {"kind", "involuntary"}, {"comm", "writer"}}).counter.value, 3);
}

TEST(MetricFamilies, LatencyHistogramIsCumulativeInSeconds) {
    CommLabeler labeler(kDefaultTopComms);
    const auto families = metric_families(queue_snapshot(), labeler);
    const auto& hist = find_family(families, "ipctrace_syscall_duration_seconds");
    EXPECT_EQ(hist.type, MetricType::Histogram);
    ASSERT_EQ(hist.metric.size(), 2u);  // per mechanism and syscall: no comm label
    const auto& snd = series(hist, {{"mechanism", "sysv_msg"}, {"syscall", "msgsnd"}}).histogram;
    EXPECT_EQ(snd.sample_count, 6u);
    EXPECT_DOUBLE_EQ(snd.sample_sum, 6000e-9);
    ASSERT_EQ(snd.bucket.size(), static_cast<size_t>(IPC_HIST_SLOTS));  // 39 finite + +Inf
    EXPECT_DOUBLE_EQ(snd.bucket[0].upper_bound, 2e-9);
    EXPECT_EQ(snd.bucket[0].cumulative_count, 2u);
    EXPECT_EQ(snd.bucket[9].cumulative_count, 2u);   // le 1024 ns
    EXPECT_DOUBLE_EQ(snd.bucket[10].upper_bound, 2048e-9);
    EXPECT_EQ(snd.bucket[10].cumulative_count, 6u);  // le 2048 ns
    EXPECT_TRUE(std::isinf(snd.bucket.back().upper_bound));
    EXPECT_EQ(snd.bucket.back().cumulative_count, 6u);
    for (size_t i = 1; i < snd.bucket.size(); ++i) {
        EXPECT_GT(snd.bucket[i].upper_bound, snd.bucket[i - 1].upper_bound);
        EXPECT_GE(snd.bucket[i].cumulative_count, snd.bucket[i - 1].cumulative_count);
    }
    // The last kernel slot has no upper bound: its calls are in +Inf only.
    const auto& rcv = series(hist, {{"mechanism", "sysv_msg"}, {"syscall", "msgrcv"}}).histogram;
    EXPECT_EQ(rcv.bucket[rcv.bucket.size() - 2].cumulative_count, 0u);
    EXPECT_EQ(rcv.bucket.back().cumulative_count, 6u);
    EXPECT_EQ(rcv.sample_count, 6u);
}

// trace's application I/O: waits, passed descriptors and io_uring operations.
TEST(MetricFamilies, WaitsPassedFdsAndUringOperations) {
    Snapshot s = queue_snapshot();
    s.proc_mech[{100, MECH_UNIX_STREAM}].waits = WaitStats{3'000'000'000, 12, 0, 0};
    s.proc_mech[{101, MECH_UNIX_STREAM}].waits = WaitStats{500'000'000, 3, 0, 0};
    s.proc_mech[{100, MECH_NONE}].waits = WaitStats{0, 0, 2'000'000'000, 4};
    FdPassStats passed;
    passed.sent = 3;
    passed.sent_kinds[FD_KIND_MEMFD] = 2;
    passed.sent_kinds[FD_KIND_PIPE] = 1;
    s.proc_mech[{100, MECH_UNIX_STREAM}].fds_passed = passed;
    FdPassStats got;
    got.received = 3;
    got.received_kinds[FD_KIND_MEMFD] = 2;
    got.received_kinds[FD_KIND_PIPE] = 1;
    s.proc_mech[{200, MECH_UNIX_STREAM}].fds_passed = got;
    const unsigned kSend = 26, kRecv = 27;  // IORING_OP_SEND, IORING_OP_RECV
    s.uring_ops[{200, MECH_UNIX_STREAM, kSend}] = UringOpStats{10, 9, 1, 900, 0, 0};
    s.uring_ops[{200, MECH_UNIX_STREAM, kRecv}] = UringOpStats{10, 10, 0, 0, 1000, 0};
    CommLabeler labeler(kDefaultTopComms);
    const auto families = metric_families(s, labeler);

    const auto& wait = find_family(families, "ipctrace_wait_seconds_total");
    ASSERT_EQ(wait.metric.size(), 1u);
    EXPECT_DOUBLE_EQ(series(wait, {{"mechanism", "unix_stream"}, {"comm", "writer"}}).counter.value, 3.5);
    EXPECT_EQ(series(find_family(families, "ipctrace_wait_ready_fds_total"), {{"mechanism", "unix_stream"}, {"comm", "writer"}})
                  .counter.value,
              15);
    EXPECT_DOUBLE_EQ(series(find_family(families, "ipctrace_wait_idle_seconds_total"), {{"comm", "writer"}}).counter.value, 2.0);
    EXPECT_EQ(series(find_family(families, "ipctrace_wait_timeouts_total"), {{"comm", "writer"}}).counter.value, 4);

    const auto& fds = find_family(families, "ipctrace_fds_passed_total");
    EXPECT_EQ(fds.metric.size(), 4u);  // kinds never passed have no series
    EXPECT_EQ(series(fds, {{"mechanism", "unix_stream"}, {"direction", "sent"}, {"kind", "memfd"}, {"comm", "writer"}}).counter.value, 2);
    EXPECT_EQ(series(fds, {{"mechanism", "unix_stream"}, {"direction", "sent"}, {"kind", "pipe"}, {"comm", "writer"}}).counter.value, 1);
    EXPECT_EQ(series(fds, {{"mechanism", "unix_stream"}, {"direction", "received"}, {"kind", "memfd"}, {"comm", "reader"}}).counter.value,
              2);

    const std::vector<ClientMetric::Label> send = {{"mechanism", "unix_stream"}, {"opcode", "send"}, {"comm", "reader"}};
    EXPECT_EQ(series(find_family(families, "ipctrace_io_uring_submitted_total"), send).counter.value, 10);
    EXPECT_EQ(series(find_family(families, "ipctrace_io_uring_completed_total"), send).counter.value, 9);
    EXPECT_EQ(series(find_family(families, "ipctrace_io_uring_errors_total"), send).counter.value, 1);
    const auto& bytes = find_family(families, "ipctrace_io_uring_bytes_total");
    EXPECT_EQ(series(bytes, {{"mechanism", "unix_stream"}, {"direction", "to_kernel"}, {"comm", "reader"}}).counter.value, 900);
    EXPECT_EQ(series(bytes, {{"mechanism", "unix_stream"}, {"direction", "from_kernel"}, {"comm", "reader"}}).counter.value, 1000);
}

TEST(MetricFamilies, LostEventsAndBuildInfo) {
    CommLabeler labeler(kDefaultTopComms);
    const auto families = metric_families(queue_snapshot(), labeler);
    const auto& lost = find_family(families, "ipctrace_lost_events_total");
    ASSERT_EQ(lost.metric.size(), 1u);
    EXPECT_EQ(lost.metric[0].counter.value, 4);  // fault_unresolved is not lost
    const auto& info = find_family(families, "ipctrace_build_info");
    EXPECT_EQ(info.type, MetricType::Gauge);
    EXPECT_EQ(series(info, {{"version", IPCTRACE_VERSION}}).gauge.value, 1);
}

TEST(MetricFamilies, EmptySnapshotHasOnlyIpctracesOwnSeries) {
    CommLabeler labeler(kDefaultTopComms);
    for (const auto& f : metric_families(Snapshot{}, labeler)) {
        const bool own = f.name == "ipctrace_lost_events_total" || f.name == "ipctrace_build_info";
        EXPECT_EQ(f.metric.size(), own ? 1u : 0u) << f.name;
    }
}

TEST(CommLabeler, BusiestCommsKeepTheirNamesTheRestAreOther) {
    CommLabeler labeler(2);
    auto label = labeler.assign({{"quiet", 1}, {"busy", 100}, {"middle", 50}});
    EXPECT_EQ(label["busy"], "busy");
    EXPECT_EQ(label["middle"], "middle");
    EXPECT_EQ(label["quiet"], "other");
}

TEST(CommLabeler, ANamedCommStaysNamedAcrossScrapes) {
    CommLabeler labeler(2);
    labeler.assign({{"a", 10}, {"b", 5}, {"c", 1}});
    // c is now the busiest, but moving it would make a's and other's counters go down.
    auto label = labeler.assign({{"a", 10}, {"b", 5}, {"c", 1000}, {"d", 2000}});
    EXPECT_EQ(label["a"], "a");
    EXPECT_EQ(label["b"], "b");
    EXPECT_EQ(label["c"], "other");
    EXPECT_EQ(label["d"], "other");
}

TEST(CommLabeler, TopNAppliesToTheSnapshotSeries) {
    Snapshot s = queue_snapshot();  // writer: 6 calls, reader: 6 calls
    s.procs[300] = ProcInfo{1, false, "idle"};
    s.proc_mech[{300, MECH_NONE}] = ProcMechStats{1, 0, 0, 0, 0, 0};
    CommLabeler labeler(1);
    const auto families = metric_families(s, labeler);
    const auto& faults = find_family(families, "ipctrace_page_faults_total");
    // Equal counts rank by name: reader keeps its name; writer and idle fold into other.
    EXPECT_EQ(series(faults, {{"mechanism", "other"}, {"comm", "reader"}}).counter.value, 11);
    EXPECT_EQ(series(faults, {{"mechanism", "sysv_msg"}, {"comm", "other"}}).counter.value, 5);
    EXPECT_EQ(series(faults, {{"mechanism", "other"}, {"comm", "other"}}).counter.value, 1);
}

TEST(CommLabel, OnlyPrintableAscii) {
    EXPECT_EQ(comm_label("kworker/0:1"), "kworker/0:1");
    EXPECT_EQ(comm_label(std::string("a\nb\xff", 4)), "a_b_");
    EXPECT_EQ(comm_label(""), "other");
}

TEST(DurationBuckets, PowersOfTwoNanoseconds) {
    const auto bounds = duration_bucket_bounds();
    ASSERT_EQ(bounds.size(), static_cast<size_t>(IPC_HIST_SLOTS - 1));
    EXPECT_DOUBLE_EQ(bounds.front(), 2e-9);
    EXPECT_DOUBLE_EQ(bounds.back(), std::ldexp(1.0, IPC_HIST_SLOTS - 1) / 1e9);  // ~550 s
}

TEST(ListenAddress, LoopbackUnlessAHostIsGiven) {
    EXPECT_EQ(parse_listen_address("9464").civetweb(), "127.0.0.1:9464");
    EXPECT_EQ(parse_listen_address(":9464").civetweb(), "127.0.0.1:9464");
    EXPECT_EQ(parse_listen_address("localhost:9464").civetweb(), "127.0.0.1:9464");
    EXPECT_EQ(parse_listen_address("0.0.0.0:9464").civetweb(), "0.0.0.0:9464");
    EXPECT_EQ(parse_listen_address("10.1.2.3:0").civetweb(), "10.1.2.3:0");
}

TEST(ListenAddress, BadInputSaysWhat) {
    for (const char* bad : {"", "abc", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:94x", "example.com:9464", "[::1]:9464",
                            "1.2.3:9464", "-1"}) {
        try {
            parse_listen_address(bad);
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const MetricsError& e) {
            EXPECT_NE(std::string(e.what()).find("--metrics"), std::string::npos) << e.what();
        }
    }
}

uint16_t port_of(const std::string& url) {
    const auto colon = url.rfind(':');
    return static_cast<uint16_t>(std::stoi(url.substr(colon + 1)));
}

TEST(MetricsExporter, ServesTheProvidersSnapshotOnEveryScrape) {
    int scrapes = 0;
    MetricsExporter exporter("127.0.0.1:0", [&] {
        ++scrapes;
        return queue_snapshot();
    });
    ASSERT_EQ(exporter.url().rfind("http://127.0.0.1:", 0), 0u) << exporter.url();
    const auto r = testing::http_get("127.0.0.1", port_of(exporter.url()), "/metrics");
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(scrapes, 1);
    EXPECT_NE(r.body.find("# TYPE ipctrace_syscalls_total counter"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("ipctrace_syscalls_total{mechanism=\"sysv_msg\",syscall=\"msgsnd\",comm=\"writer\"} 6"),
              std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find("ipctrace_syscall_duration_seconds_bucket{mechanism=\"sysv_msg\",syscall=\"msgsnd\",le=\"+Inf\"} 6"),
              std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find("ipctrace_build_info{version=\"" IPCTRACE_VERSION "\"} 1"), std::string::npos) << r.body;
}

// A big snapshot: about 5000 series, a scrape answer of several hundred KiB.
Snapshot many_processes() {
    Snapshot s;
    CallStats c;
    c.count = 1;
    for (pid_t tgid = 1000; tgid < 1400; ++tgid) {
        s.procs[tgid] = ProcInfo{1, false, "p" + std::to_string(tgid)};
        for (const char* name : {"read", "write", "msgsnd", "msgrcv"}) s.calls[{tgid, MECH_PIPE, *syscall_number(name)}] = c;
    }
    return s;
}

TEST(MetricsExporter, LeavesSigpipeAsItWasAndSurvivesClientsThatHangUp) {
    struct sigaction before {};
    sigaction(SIGPIPE, nullptr, &before);
    ASSERT_EQ(before.sa_handler, SIG_DFL);
    MetricsExporter exporter("127.0.0.1:0", many_processes, 1000);
    struct sigaction during {};
    sigaction(SIGPIPE, nullptr, &during);
    EXPECT_EQ(during.sa_handler, SIG_DFL) << "children (workload roles, trace -- CMD) inherit an ignored SIGPIPE";
    // Clients that ask and reset the connection at once: the server's writes then fail
    // with EPIPE/ECONNRESET, which must not kill the process by SIGPIPE.
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_of(exporter.url()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 20; ++i) {
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        const std::string get = "GET /metrics HTTP/1.0\r\n\r\n";
        ASSERT_EQ(send(fd, get.data(), get.size(), MSG_NOSIGNAL), static_cast<ssize_t>(get.size()));
        linger reset{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        usleep(2000);  // the server has begun to answer
        close(fd);
    }
    const auto r = testing::http_get("127.0.0.1", port_of(exporter.url()), "/metrics");
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_GT(r.body.size(), 200000u);
    struct sigaction after {};
    sigaction(SIGPIPE, nullptr, &after);
    EXPECT_EQ(after.sa_handler, SIG_DFL) << "a server thread set SIGPIPE to ignored after the start";
}

// SigBlk of every thread of this process but the calling one, from /proc.
std::vector<uint64_t> other_threads_blocked_signals() {
    std::vector<uint64_t> masks;
    const std::string self = std::to_string(gettid());
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        if (task.path().filename() == self) continue;
        std::ifstream status(task.path() / "status");
        for (std::string line; std::getline(status, line);)
            if (line.rfind("SigBlk:", 0) == 0) masks.push_back(std::stoull(line.substr(7), nullptr, 16));
    }
    return masks;
}

TEST(MetricsExporter, ServerThreadsBlockTheStopSignals) {
    const size_t before = other_threads_blocked_signals().size();
    MetricsExporter exporter("127.0.0.1:0", [] { return Snapshot{}; });
    const auto masks = other_threads_blocked_signals();
    ASSERT_GT(masks.size(), before);  // civetweb's threads
    for (uint64_t mask : masks)
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD})
            EXPECT_TRUE(mask & (1ull << (sig - 1))) << "a server thread could take signal " << sig << " meant for the tracer";
}

TEST(MetricsExporter, APortInUseIsOneLineOfBadInput) {
    const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(s, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(s, 1), 0);
    ASSERT_EQ(getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    const std::string where = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    try {
        MetricsExporter exporter(where, [] { return Snapshot{}; });
        ADD_FAILURE() << "listened on a port in use";
    } catch (const MetricsError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("--metrics " + where + ": cannot listen"), std::string::npos) << what;
        EXPECT_NE(what.find("in use"), std::string::npos) << what;
        EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
    close(s);
}

}  // namespace
}  // namespace ipctrace
