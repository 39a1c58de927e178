// Issue 18, part 1: waits attributed to what was waited on. A Python `selectors` server (epoll,
// poll and select, each in turn) answers a client over a unix socket; the client pauses a known
// time before each request, measured by its own clock. The oracle is the two programs' own
// bookkeeping: the client's pauses (what the server waited for its socket), the server's count
// of its selector calls and of the ready events they returned, and its clock around the idle
// selects that timed out with nothing ready.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "subprocess.h"
#include "temp_path.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;

// argv: selector kind, requests, pause (s), idle selects, idle timeout (s), socket path.
// Prints the oracle as one JSON line.
const char* const kSelectorsScript = R"PY(
import json, os, selectors, socket, sys, time
kind, n, pause, k, idle_timeout, path = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
cls = {'epoll': selectors.EpollSelector, 'poll': selectors.PollSelector, 'select': selectors.SelectSelector}[kind]
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(path)
listener.listen()
r, w = os.pipe()
child = os.fork()
if child == 0:
    os.close(r)
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    gaps = 0
    last = time.monotonic_ns()
    for i in range(n):
        time.sleep(pause)
        gaps += time.monotonic_ns() - last
        c.sendall(b'ping')
        assert c.recv(16) == b'pong'
        last = time.monotonic_ns()
    c.close()
    os.write(w, str(gaps).encode())
    os._exit(0)
os.close(w)
sel = cls()
sel.register(listener, selectors.EVENT_READ)
calls = ready = 0
done = False
while not done:
    events = sel.select()
    calls += 1
    ready += len(events)
    for key, _ in events:
        if key.fileobj is listener:
            conn, _ = listener.accept()
            sel.register(conn, selectors.EVENT_READ)
        elif key.fileobj.recv(16):
            key.fileobj.sendall(b'pong')
        else:
            sel.unregister(key.fileobj)
            key.fileobj.close()
            done = True
sel.unregister(listener)
idle = 0
for i in range(k):
    t0 = time.monotonic_ns()
    assert not sel.select(timeout=idle_timeout)
    idle += time.monotonic_ns() - t0
    calls += 1
gaps = int(os.read(r, 64))
os.waitpid(child, 0)
print(json.dumps({'server': os.getpid(), 'client': child, 'gaps_ns': gaps, 'calls': calls, 'ready': ready, 'idle_ns': idle, 'idle': k}))
)PY";

unsigned long u(const json& j, const char* key) { return j.contains(key) ? j[key].get<unsigned long>() : 0; }

class SelectorsWait : public ::testing::TestWithParam<std::string> {};

TEST_P(SelectorsWait, WaitTimeGoesToTheUnixSocketAndTimeoutsAreIdle) {
    IPCTRACE_REQUIRE_ROOT();
    if (access("/usr/bin/python3", X_OK) != 0) FAIL() << "python3 is missing (scripts/setup.sh installs it)";
    char dir[] = "/tmp/ipctrace-waits-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string sock = std::string(dir) + "/s.sock";
    const TempPath report("waits");
    const unsigned requests = 10, idle_selects = 3;
    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "-o", report.str(), "--", "/usr/bin/python3", "-c", kSelectorsScript,
                                 GetParam(), std::to_string(requests), "0.1", std::to_string(idle_selects), "0.1", sock});
    unlink(sock.c_str());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json oracle = parse(r.out);
    const json doc = parse(report.read());
    ASSERT_TRUE(oracle.is_object() && doc.is_object());
    EXPECT_EQ(u(doc, "lost_events"), 0u);
    const json* server = nullptr;
    for (const auto& p : doc["processes"])
        if (p["pid"] == oracle["server"]) server = &p;
    ASSERT_NE(server, nullptr) << doc["processes"].dump();
    const json& waits = (*server)["waits"];
    const json& unix_stream = (*server)["mechanisms"]["unix_stream"];

    // Every selector call is one wait syscall; every event it returned one ready descriptor.
    EXPECT_EQ(u(waits, "syscall_count"), u(oracle, "calls")) << waits.dump();
    EXPECT_EQ(u(unix_stream, "ready_fds"), u(oracle, "ready")) << unix_stream.dump();
    // The server waited for its socket while the client paused: within 10 %.
    const double gaps = static_cast<double>(u(oracle, "gaps_ns"));
    EXPECT_NEAR(static_cast<double>(u(unix_stream, "wait_ns")), gaps, 0.10 * gaps) << waits.dump() << " client paused " << gaps << " ns";
    EXPECT_EQ(u(waits["by_mechanism"], "unix_stream"), u(unix_stream, "wait_ns"));
    // The idle selects: each timed out, apart from the waits for the socket.
    EXPECT_EQ(u(waits, "idle_timeouts"), idle_selects) << waits.dump();
    const double idle = static_cast<double>(u(oracle, "idle_ns"));
    EXPECT_NEAR(static_cast<double>(u(waits, "idle_wait_ns")), idle, 0.10 * idle) << waits.dump();
    // The shares add up: every wait's time is ready time or idle time, nothing lost or doubled.
    EXPECT_EQ(u(waits, "ready_ns") + u(waits, "idle_wait_ns"), u(waits, "time_in_syscalls_ns")) << waits.dump();
    // The text report shows both columns.
    const CommandResult text = run({ipctrace_bin(), "trace", "--", "/usr/bin/python3", "-c", kSelectorsScript, GetParam(), "2", "0.01", "1",
                                    "0.01", sock});
    std::filesystem::remove_all(dir);
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.err.find("TIME WAITING FOR IT"), std::string::npos) << text.err;
    EXPECT_NE(text.err.find("1 timed out"), std::string::npos) << text.err;
}

INSTANTIATE_TEST_SUITE_P(Selectors, SelectorsWait, ::testing::Values("epoll", "poll", "select"));

}  // namespace
}  // namespace ipctrace::testing
