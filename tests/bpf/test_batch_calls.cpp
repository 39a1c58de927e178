// sendmmsg/recvmmsg: a batch of messages per call, whose return value is a message count. The
// bytes are each message's msg_len, and the descriptors a message passes with SCM_RIGHTS count
// like sendmsg's. The oracle is mmsg_peer's own tally of its calls, messages, bytes and fds.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "subprocess.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;

struct Tally {
    unsigned long calls = 0, messages = 0, bytes = 0, fds = 0;
};

// mmsg_peer's lines: "sendmmsg CALLS MESSAGES BYTES FDS", the same for recvmmsg.
std::map<std::string, Tally> tallies(const std::string& out) {
    std::map<std::string, Tally> t;
    std::istringstream in(out);
    for (std::string call; in >> call;) {
        Tally& v = t[call];
        in >> v.calls >> v.messages >> v.bytes >> v.fds;
    }
    return t;
}

unsigned long u(const json& j, const char* key) { return j.contains(key) ? j[key].get<unsigned long>() : 0; }

TEST(BatchCalls, SendmmsgAndRecvmmsgBytesAreTheirMessagesLengthsAndTheirDescriptorsCount) {
    IPCTRACE_REQUIRE_ROOT();
    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "--", MMSG_PEER_BIN, "30", "8"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto t = tallies(r.out);
    ASSERT_EQ(t["sendmmsg"].messages, 240u) << r.out;
    ASSERT_EQ(t["recvmmsg"].bytes, t["sendmmsg"].bytes) << r.out;
    const json doc = json::parse(r.err, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << r.err.substr(0, 400);
    const json& dgram = doc["mechanisms"]["unix_dgram"];
    const json& send = dgram["syscalls"]["sendmmsg"];
    const json& recv = dgram["syscalls"]["recvmmsg"];
    EXPECT_EQ(u(send, "count"), t["sendmmsg"].calls);
    EXPECT_EQ(u(send, "bytes_to_kernel"), t["sendmmsg"].bytes) << send.dump();
    EXPECT_EQ(u(send, "bytes_from_kernel"), 0u);
    EXPECT_EQ(u(recv, "count"), t["recvmmsg"].calls);
    EXPECT_EQ(u(recv, "bytes_from_kernel"), t["recvmmsg"].bytes) << recv.dump();
    EXPECT_EQ(u(recv, "bytes_to_kernel"), 0u);
    const json& passed = dgram["fds_passed"];
    EXPECT_EQ(u(passed, "sent"), t["sendmmsg"].fds) << passed.dump();
    EXPECT_EQ(u(passed, "received"), t["recvmmsg"].fds) << passed.dump();
    EXPECT_EQ(u(passed["sent_kinds"], "pipe"), t["sendmmsg"].fds) << passed.dump();
    EXPECT_EQ(u(passed["received_kinds"], "pipe"), t["recvmmsg"].fds) << passed.dump();
    EXPECT_EQ(u(doc, "lost_events"), 0u);
}

}  // namespace
}  // namespace ipctrace::testing
