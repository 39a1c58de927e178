// Issue 18, part 4: descriptors passed over a unix socket with SCM_RIGHTS. Python's
// socket.send_fds/recv_fds pass a memfd and a pipe's read end, each round, from a parent to
// its child, which maps the memfd and reads the pipe. The oracle is the program itself: how
// many of each it created and passed (and the child received and used).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "http_get.h"
#include "prometheus_server.h"
#include "subprocess.h"
#include "temp_path.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;

// argv: rounds. Prints the oracle as one JSON line.
const char* const kPassFdsScript = R"PY(
import json, mmap, os, socket, sys
rounds = int(sys.argv[1])
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
child = os.fork()
if child == 0:
    a.close()
    got = {'memfd': 0, 'pipe': 0}
    for i in range(rounds):
        msg, fds, flags, addr = socket.recv_fds(b, 16, 2)
        mfd, pr = fds
        with mmap.mmap(mfd, 4096) as m:  # the receiver maps the memfd it was passed
            assert m[:4] == b'page'
        assert os.read(pr, 4) == b'pipe'
        os.close(mfd); os.close(pr)
        got['memfd'] += 1; got['pipe'] += 1
    b.sendall(b'done')
    os._exit(0)
b.close()
for i in range(rounds):
    mfd = os.memfd_create('passed')
    os.ftruncate(mfd, 4096)
    os.pwrite(mfd, b'page', 0)
    r, w = os.pipe()
    os.write(w, b'pipe')
    socket.send_fds(a, [b'x'], [mfd, r])
    os.close(mfd); os.close(r); os.close(w)
assert a.recv(4) == b'done'
os.waitpid(child, 0)
print(json.dumps({'sender': os.getpid(), 'receiver': child, 'memfds': rounds, 'pipes': rounds}))
)PY";

unsigned long u(const json& j, const char* key) { return j.contains(key) ? j[key].get<unsigned long>() : 0; }

const json* process(const json& doc, const json& pid) {
    for (const auto& p : doc["processes"])
        if (p["pid"] == pid) return &p;
    return nullptr;
}

TEST(FdPassing, MemfdAndPipeCountedByKindWithAPassedFdEdge) {
    IPCTRACE_REQUIRE_ROOT();
    if (access("/usr/bin/python3", X_OK) != 0) FAIL() << "python3 is missing (scripts/setup.sh installs it)";
    const unsigned rounds = 5;
    const TempPath report("fds");
    const CommandResult r =
        run({ipctrace_bin(), "trace", "--json", "-o", report.str(), "--", "/usr/bin/python3", "-c", kPassFdsScript, std::to_string(rounds)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json oracle = parse(r.out);
    const json doc = parse(report.read());
    ASSERT_TRUE(oracle.is_object() && doc.is_object());
    EXPECT_EQ(u(doc, "lost_events"), 0u);
    const json* sender = process(doc, oracle["sender"]);
    const json* receiver = process(doc, oracle["receiver"]);
    ASSERT_TRUE(sender && receiver) << doc["processes"].dump();

    // Each side's own count, by kind: exactly what the program passed.
    const json& sent = (*sender)["mechanisms"]["unix_stream"]["fds_passed"];
    EXPECT_EQ(u(sent, "sent"), u(oracle, "memfds") + u(oracle, "pipes")) << sent.dump();
    EXPECT_EQ(u(sent["sent_kinds"], "memfd"), u(oracle, "memfds")) << sent.dump();
    EXPECT_EQ(u(sent["sent_kinds"], "pipe"), u(oracle, "pipes")) << sent.dump();
    EXPECT_EQ(u(sent, "received"), 0u);
    const json& got = (*receiver)["mechanisms"]["unix_stream"]["fds_passed"];
    EXPECT_EQ(u(got, "received"), u(oracle, "memfds") + u(oracle, "pipes")) << got.dump();
    EXPECT_EQ(u(got["received_kinds"], "memfd"), u(oracle, "memfds")) << got.dump();
    EXPECT_EQ(u(got["received_kinds"], "pipe"), u(oracle, "pipes")) << got.dump();
    EXPECT_EQ(u(got, "sent"), 0u);
    // The whole trace's mechanism sums both sides.
    const json& all = doc["mechanisms"]["unix_stream"]["fds_passed"];
    EXPECT_EQ(u(all, "sent"), u(all, "received"));
    for (const char* kind : {"socket", "eventfd", "other"}) EXPECT_EQ(u(sent["sent_kinds"], kind), 0u) << kind;

    // The map: a passed-fd edge sender -> receiver on their socket, carrying every descriptor,
    // and one on each memfd, whose object also holds the receiver's fault in its mapping.
    unsigned long socket_fds = 0, memfd_edges = 0, memfd_faulted = 0;
    for (const auto& e : doc["map"]["edges"]) {
        if (!e["passed_fd"].get<bool>()) continue;
        EXPECT_EQ(e["from"], oracle["sender"]) << e.dump();
        EXPECT_EQ(e["to"], oracle["receiver"]) << e.dump();
        if (e["mechanism"] == "unix_stream") socket_fds += u(e, "fds_passed");
        if (e["mechanism"] == "posix_shm") ++memfd_edges;
    }
    EXPECT_EQ(socket_fds, u(oracle, "memfds") + u(oracle, "pipes")) << doc["map"]["edges"].dump();
    EXPECT_EQ(memfd_edges, u(oracle, "memfds")) << doc["map"]["edges"].dump();
    for (const auto& o : doc["map"]["objects"]) {
        if (o["mechanism"] != "posix_shm") continue;
        bool sent_it = false, mapped_it = false;
        for (const auto& user : o["users"]) {
            sent_it = sent_it || (user["pid"] == oracle["sender"] && u(user, "fds_sent") == 1);
            mapped_it = mapped_it || (user["pid"] == oracle["receiver"] && u(user, "fds_received") == 1 && u(user, "page_faults") >= 1);
        }
        memfd_faulted += sent_it && mapped_it;
    }
    EXPECT_EQ(memfd_faulted, u(oracle, "memfds")) << doc["map"]["objects"].dump();

    // The text report's section and map line.
    const CommandResult text = run({ipctrace_bin(), "trace", "--", "/usr/bin/python3", "-c", kPassFdsScript, "1"});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.err.find("Descriptors passed (SCM_RIGHTS)"), std::string::npos) << text.err;
    EXPECT_NE(text.err.find("memfd 1, pipe 1"), std::string::npos) << text.err;
    EXPECT_NE(text.err.find("passed fd: 2 descriptors"), std::string::npos) << text.err;
}

// --metrics serves the same counts while the trace runs: ipctrace_fds_passed_total by
// direction and kind equals what the program passed.
TEST(FdPassing, MetricsServeThePassedDescriptorsByKind) {
    IPCTRACE_REQUIRE_ROOT();
    if (access("/usr/bin/python3", X_OK) != 0) FAIL() << "python3 is missing (scripts/setup.sh installs it)";
    using namespace std::chrono_literals;
    TempDir work;
    const std::string script = work.path() + "/pass_fds.py", report = work.path() + "/trace.json";
    std::ofstream(script) << kPassFdsScript;
    const unsigned rounds = 4;
    const uint16_t port = free_loopback_port();
    // The passing happens first; the scrapes come while the shell sleeps, before the trace ends.
    ChildProcess trace({ipctrace_bin(), "trace", "--metrics", "127.0.0.1:" + std::to_string(port), "--json", "-o", report, "--", "sh", "-c",
                        "/usr/bin/python3 " + script + " " + std::to_string(rounds) + " >/dev/null && sleep 3"},
                       work.path(), "trace");
    auto fds = [](const std::string& body, const char* direction, const char* kind) {
        return sum_metric_samples(body, "ipctrace_fds_passed_total",
                           {"mechanism=\"unix_stream\"", std::string("direction=\"") + direction + "\"", std::string("kind=\"") + kind + "\""});
    };
    std::string body;
    bool seen = false;
    for (auto deadline = std::chrono::steady_clock::now() + 20s; !seen && std::chrono::steady_clock::now() < deadline && trace.running();) {
        const auto r = http_get("127.0.0.1", port, "/metrics", 1s);
        if (r.status == 200) body = r.body;
        seen = fds(body, "received", "pipe") == rounds;
        if (!seen) std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(seen) << "no scrape saw the " << rounds << " pipes received\n" << body.substr(0, 2000) << trace.stderr_text();
    EXPECT_EQ(fds(body, "sent", "memfd"), rounds);
    EXPECT_EQ(fds(body, "sent", "pipe"), rounds);
    EXPECT_EQ(fds(body, "received", "memfd"), rounds);
    for (const char* kind : {"socket", "eventfd", "other"}) EXPECT_EQ(fds(body, "sent", kind) + fds(body, "received", kind), 0) << kind;
    for (auto deadline = std::chrono::steady_clock::now() + 20s; trace.running() && std::chrono::steady_clock::now() < deadline;)
        std::this_thread::sleep_for(100ms);
    EXPECT_EQ(trace.stop(), 0) << trace.stderr_text();  // ended with the command: its status
    std::ifstream in(report);
    const json doc = parse(std::string(std::istreambuf_iterator<char>(in), {}));
    ASSERT_TRUE(doc.is_object());
    EXPECT_EQ(u(doc["mechanisms"]["unix_stream"]["fds_passed"], "sent"), 2 * rounds);
}

}  // namespace
}  // namespace ipctrace::testing
