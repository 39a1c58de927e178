// Issue 18, io_uring: uring_peer sends and receives over a unix socketpair and writes and
// reads a pipe through one ring; each operation must be counted by opcode under its file's
// mechanism, with the bytes its completion returned. The oracle is the program's own tally of
// the completions it reaped (and of its io_uring_enter calls, one per operation).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "http_get.h"
#include "prometheus_server.h"
#include "subprocess.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;

struct Tally {
    unsigned long ops = 0, bytes = 0;
};

// uring_peer's lines: "OPCODE OPS BYTES", and "enter CALLS"; a forked child's with "child ".
std::map<std::string, Tally> tallies(const std::string& out) {
    std::map<std::string, Tally> t;
    std::istringstream in(out);
    std::string op;
    while (in >> op) {
        if (op == "child") {
            in >> op;
            op = "child " + op;
        }
        Tally& v = t[op];
        in >> v.ops;
        if (op.find("enter") == std::string::npos) in >> v.bytes;
    }
    return t;
}

// `ipctrace trace --json -- uring_peer COUNT SIZE MODE`: the report is on stderr, the tally on stdout.
CommandResult trace_peer(unsigned long count, unsigned long size, const char* mode) {
    return run({ipctrace_bin(), "trace", "--json", "--", URING_PEER_BIN, std::to_string(count), std::to_string(size), mode});
}

void check_ring(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {ipctrace_bin(), "trace", "--json", "--", URING_PEER_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = run(argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto t = tallies(r.out);
    const unsigned long count = std::stoul(args[0]);
    ASSERT_EQ(t["send"].ops, count) << r.out;
    ASSERT_EQ(t["write"].ops, count) << r.out;
    const json doc = json::parse(r.err);
    const json* peer = nullptr;
    for (const auto& p : doc["processes"])
        if (p["comm"] == "uring_peer") peer = &p;
    ASSERT_NE(peer, nullptr) << r.err;

    // Where each opcode is expected, and which byte field its completions fill.
    const std::map<std::string, std::pair<std::string, std::string>> where = {
        {"send", {"unix_stream", "bytes_to_kernel"}},
        {"recv", {"unix_stream", "bytes_from_kernel"}},
        {"write", {"pipe", "bytes_to_kernel"}},
        {"read", {"pipe", "bytes_from_kernel"}},
    };
    for (const json* scope : {&doc, peer}) {  // the whole trace and the process alike
        std::set<std::string> seen;
        for (const auto& [mech, figures] : (*scope)["mechanisms"].items())
            for (const auto& [op, stats] : figures["io_uring"].items()) seen.insert(op + " on " + mech);
        EXPECT_EQ(seen, (std::set<std::string>{"send on unix_stream", "recv on unix_stream", "write on pipe", "read on pipe"}))
            << "no other operation, no other mechanism";
        for (const auto& [op, at] : where) {
            const json& s = (*scope)["mechanisms"][at.first]["io_uring"][op];
            EXPECT_EQ(s["submitted"].get<unsigned long>(), t[op].ops) << op;
            EXPECT_EQ(s["completed"].get<unsigned long>(), t[op].ops) << op;
            EXPECT_EQ(s["errors"].get<unsigned long>(), 0u) << op;
            EXPECT_EQ(s[at.second].get<unsigned long>(), t[op].bytes) << op;
            const std::string other = at.second == "bytes_to_kernel" ? "bytes_from_kernel" : "bytes_to_kernel";
            EXPECT_EQ(s[other].get<unsigned long>(), 0u) << op;
        }
        const json& ring = (*scope)["mechanisms"]["io_uring"]["syscalls"];
        EXPECT_EQ(ring["io_uring_setup"]["count"].get<unsigned long>(), 1u);
        EXPECT_EQ(ring["io_uring_enter"]["count"].get<unsigned long>(), t["enter"].ops);
        EXPECT_FALSE(ring.contains("io_uring_register"));
    }
    EXPECT_EQ(doc["drops"]["uring_unattributed"].get<unsigned long>(), 0u);
    EXPECT_EQ(doc["lost_events"].get<unsigned long>(), 0u);
}

TEST(IoUring, OperationsCountedByOpcodeUnderTheirFilesMechanismWithExactBytes) {
    IPCTRACE_REQUIRE_ROOT();
    check_ring({"200", "3000"});
}

// IOSQE_ASYNC: the operations run in io-wq worker threads and complete there; they still
// belong to the process that submitted them.
TEST(IoUring, OperationsRunInIoWqWorkersAreTheSubmittersToo) {
    IPCTRACE_REQUIRE_ROOT();
    check_ring({"100", "65536", "async"});
}

// A parent that only sends and writes, a child that only receives and reads, each with its own
// ring: each process's operations are its own, and the map links them through the socket pair
// and the pipe with the bytes that went through.
TEST(IoUring, TwoProcessesLinkedByTheirRingsTraffic) {
    IPCTRACE_REQUIRE_ROOT();
    const unsigned long count = 50, size = 65536;
    const CommandResult r = trace_peer(count, size, "fork");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto t = tallies(r.out);
    ASSERT_EQ(t["send"].bytes, count * size) << r.out;
    ASSERT_EQ(t["child read"].bytes, count * size) << r.out;
    const json doc = json::parse(r.err);
    std::vector<const json*> peers;
    for (const auto& p : doc["processes"])
        if (p["comm"] == "uring_peer") peers.push_back(&p);
    ASSERT_EQ(peers.size(), 2u) << r.err;
    const json* parent = (*peers[0])["ppid"] == (*peers[1])["pid"] ? peers[1] : peers[0];
    const json* child = parent == peers[0] ? peers[1] : peers[0];
    ASSERT_EQ((*child)["ppid"], (*parent)["pid"]);
    auto op = [](const json* p, const char* mech, const char* opcode) { return (*p)["mechanisms"][mech]["io_uring"][opcode]; };
    EXPECT_EQ(op(parent, "unix_stream", "send")["completed"].get<unsigned long>(), t["send"].ops);
    EXPECT_EQ(op(parent, "unix_stream", "send")["bytes_to_kernel"].get<unsigned long>(), t["send"].bytes);
    EXPECT_EQ(op(parent, "pipe", "write")["completed"].get<unsigned long>(), t["write"].ops);
    EXPECT_EQ(op(parent, "pipe", "write")["bytes_to_kernel"].get<unsigned long>(), t["write"].bytes);
    EXPECT_EQ(op(child, "unix_stream", "recv")["completed"].get<unsigned long>(), t["child recv"].ops);
    EXPECT_EQ(op(child, "unix_stream", "recv")["bytes_from_kernel"].get<unsigned long>(), t["child recv"].bytes);
    EXPECT_EQ(op(child, "pipe", "read")["completed"].get<unsigned long>(), t["child read"].ops);
    EXPECT_EQ(op(child, "pipe", "read")["bytes_from_kernel"].get<unsigned long>(), t["child read"].bytes);
    EXPECT_FALSE((*parent)["mechanisms"]["unix_stream"]["io_uring"].contains("recv")) << "the parent only sends";
    EXPECT_FALSE((*child)["mechanisms"]["unix_stream"]["io_uring"].contains("send")) << "the child only receives";
    EXPECT_EQ((*parent)["mechanisms"]["io_uring"]["syscalls"]["io_uring_enter"]["count"].get<unsigned long>(), t["enter"].ops);
    EXPECT_EQ((*child)["mechanisms"]["io_uring"]["syscalls"]["io_uring_enter"]["count"].get<unsigned long>(), t["child enter"].ops);

    std::map<std::string, unsigned long> edges;  // mechanism -> bytes parent -> child
    for (const auto& e : doc["map"]["edges"])
        if (e["from"] == (*parent)["pid"] && e["to"] == (*child)["pid"]) edges[e["mechanism"].get<std::string>()] += e["bytes"].get<unsigned long>();
    EXPECT_EQ(edges["unix_stream"], count * size) << doc["map"].dump();
    EXPECT_EQ(edges["pipe"], count * size) << doc["map"].dump();
}

const json& process_named(const json& doc, const char* comm) {
    for (const auto& p : doc["processes"])
        if (p["comm"] == comm) return p;
    static const json none;
    return none;
}

// A multishot recv is submitted once and posts a cqe per message; all but its last come
// without the request (io_uring_complete with NULL req), named only by ring and user_data.
// Each is the recv's, with its bytes; none is a drop.
TEST(IoUring, MultishotResultsPostedWithoutTheRequestAreItsOwn) {
    IPCTRACE_REQUIRE_ROOT();
    const unsigned long count = 50, size = 1000;
    const CommandResult r = trace_peer(count, size, "multishot");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto t = tallies(r.out);
    ASSERT_EQ(t["send"].bytes, count * size) << r.out;
    ASSERT_EQ(t["recv"].bytes, count * size) << r.out;
    ASSERT_GT(t["recv"].ops, 1u) << r.out;
    const json doc = json::parse(r.err);
    const json& peer = process_named(doc, "uring_peer");
    ASSERT_FALSE(peer.is_null()) << r.err;
    for (const json* scope : {&doc, &peer}) {
        const json& recv = (*scope)["mechanisms"]["unix_stream"]["io_uring"]["recv"];
        EXPECT_EQ(recv["submitted"].get<unsigned long>(), 1u);
        EXPECT_EQ(recv["completed"].get<unsigned long>(), t["recv"].ops) << "every cqe of the multishot";
        EXPECT_EQ(recv["errors"].get<unsigned long>(), 0u);
        EXPECT_EQ(recv["bytes_from_kernel"].get<unsigned long>(), t["recv"].bytes);
        EXPECT_EQ((*scope)["mechanisms"]["unix_stream"]["syscalls"]["sendto"]["count"].get<unsigned long>(), t["send"].ops);
    }
    EXPECT_EQ(doc["drops"]["uring_unattributed"].get<unsigned long>(), 0u);
    EXPECT_EQ(doc["lost_events"].get<unsigned long>(), 0u);
}

// A completion ring of 4 with 16 operations in flight: 12 cqes of each batch find it full and
// wait on the kernel's overflow list (io_uring_cqe_overflow), which later moves them into the
// ring with no io_uring_complete. Every operation still counts once, with its bytes.
TEST(IoUring, CompletionsThatOverflowTheRingAreCountedOnce) {
    IPCTRACE_REQUIRE_ROOT();
    const unsigned long count = 64, size = 1000;
    const CommandResult r = trace_peer(count, size, "overflow");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto t = tallies(r.out);
    ASSERT_EQ(t["write"].ops, count) << r.out;
    ASSERT_EQ(t["read"].ops, count) << r.out;
    const json doc = json::parse(r.err);
    const json& peer = process_named(doc, "uring_peer");
    ASSERT_FALSE(peer.is_null()) << r.err;
    for (const auto& [op, field] : std::map<std::string, std::string>{{"write", "bytes_to_kernel"}, {"read", "bytes_from_kernel"}}) {
        const json& s = peer["mechanisms"]["pipe"]["io_uring"][op];
        EXPECT_EQ(s["submitted"].get<unsigned long>(), t[op].ops) << op;
        EXPECT_EQ(s["completed"].get<unsigned long>(), t[op].ops) << op;
        EXPECT_EQ(s[field].get<unsigned long>(), t[op].bytes) << op;
    }
    EXPECT_EQ(doc["drops"]["uring_unattributed"].get<unsigned long>(), 0u);
}

TEST(IoUring, TextReportListsTheRingsOperations) {
    IPCTRACE_REQUIRE_ROOT();
    const CommandResult r = run({ipctrace_bin(), "trace", "--", URING_PEER_BIN, "10", "100"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("IO_URING OP"), std::string::npos) << r.err;
    for (const char* row : {R"(send\s+unix_stream\s+10\s+10\s+0\s+1000 B\s+0 B)", R"(recv\s+unix_stream\s+10\s+10\s+0\s+0 B\s+1000 B)",
                            R"(write\s+pipe\s+10\s+10\s+0\s+1000 B\s+0 B)", R"(read\s+pipe\s+10\s+10\s+0\s+0 B\s+1000 B)"})
        EXPECT_TRUE(std::regex_search(r.err, std::regex(row))) << row << "\n" << r.err;
}

// --metrics serves the ring's operations while the trace runs, by opcode under their file's
// mechanism, with the bytes of their completions: the program's own tally.
TEST(IoUring, MetricsServeTheRingsOperations) {
    IPCTRACE_REQUIRE_ROOT();
    using namespace std::chrono_literals;
    TempDir work;
    const std::string tally_path = work.path() + "/tally";
    const unsigned long count = 40, size = 500;
    const uint16_t port = free_loopback_port();
    // The ring's traffic happens first; the scrapes come while the shell sleeps.
    ChildProcess trace({ipctrace_bin(), "trace", "--metrics", "127.0.0.1:" + std::to_string(port), "-o", "/dev/null", "--", "sh", "-c",
                        std::string(URING_PEER_BIN) + " " + std::to_string(count) + " " + std::to_string(size) + " >" + tally_path +
                            " && sleep 3"},
                       work.path(), "trace");
    auto sample = [](const std::string& body, const char* metric, const char* mech, const std::string& label) {
        return sum_metric_samples(body, metric, {std::string("mechanism=\"") + mech + "\"", label});
    };
    std::string body;
    bool seen = false;
    for (auto deadline = std::chrono::steady_clock::now() + 20s; !seen && std::chrono::steady_clock::now() < deadline && trace.running();) {
        const auto r = http_get("127.0.0.1", port, "/metrics", 1s);
        if (r.status == 200) body = r.body;
        seen = sample(body, "ipctrace_io_uring_completed_total", "pipe", "opcode=\"read\"") == count;
        if (!seen) std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(seen) << "no scrape saw the " << count << " pipe reads\n" << body.substr(0, 2000) << trace.stderr_text();
    std::ifstream in(tally_path);
    auto t = tallies(std::string(std::istreambuf_iterator<char>(in), {}));
    ASSERT_EQ(t["send"].ops, count);
    for (const auto& [op, mech] : std::map<std::string, const char*>{{"send", "unix_stream"}, {"recv", "unix_stream"}, {"write", "pipe"}, {"read", "pipe"}}) {
        const std::string opcode = "opcode=\"" + op + "\"";
        EXPECT_EQ(sample(body, "ipctrace_io_uring_submitted_total", mech, opcode), t[op].ops) << op;
        EXPECT_EQ(sample(body, "ipctrace_io_uring_completed_total", mech, opcode), t[op].ops) << op;
        EXPECT_EQ(sample(body, "ipctrace_io_uring_errors_total", mech, opcode), 0) << op;
    }
    EXPECT_EQ(sample(body, "ipctrace_io_uring_bytes_total", "unix_stream", "direction=\"to_kernel\""), t["send"].bytes);
    EXPECT_EQ(sample(body, "ipctrace_io_uring_bytes_total", "unix_stream", "direction=\"from_kernel\""), t["recv"].bytes);
    EXPECT_EQ(sample(body, "ipctrace_io_uring_bytes_total", "pipe", "direction=\"to_kernel\""), t["write"].bytes);
    EXPECT_EQ(sample(body, "ipctrace_io_uring_bytes_total", "pipe", "direction=\"from_kernel\""), t["read"].bytes);
    for (auto deadline = std::chrono::steady_clock::now() + 20s; trace.running() && std::chrono::steady_clock::now() < deadline;)
        std::this_thread::sleep_for(100ms);
    EXPECT_EQ(trace.stop(), 0) << trace.stderr_text();
}

}  // namespace
}  // namespace ipctrace::testing
