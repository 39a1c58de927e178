// The communication map from fixed per-object counts.
#include <gtest/gtest.h>

#include "comm_map.h"

namespace ipctrace {
namespace {

Snapshot pipeline() {
    Snapshot s;
    s.procs[10] = {1, true, "ps"};
    s.procs[11] = {1, true, "grep"};
    s.procs[12] = {1, true, "cut"};
    s.objects[{10, MECH_PIPE, 5001}] = {40, 12000, 0};   // ps writes the first pipe
    s.objects[{11, MECH_PIPE, 5001}] = {41, 0, 12000};   // grep reads it
    s.objects[{11, MECH_PIPE, 5002}] = {3, 900, 0};      // grep writes the second
    s.objects[{12, MECH_PIPE, 5002}] = {4, 0, 900};      // cut reads it
    s.objects[{10, MECH_SYSV_SEM, 7}] = {100, 0, 0};     // ps and cut share a semaphore set
    s.objects[{12, MECH_SYSV_SEM, 7}] = {100, 0, 0};
    s.objects[{12, MECH_SIGNAL, 10}] = {1, 0, 0};        // cut signals ps
    s.objects[{10, MECH_FIFO, 77}] = {5, 50, 0};         // a FIFO nobody else used
    return s;
}

TEST(CommMap, EdgesFollowTheBytes) {
    const CommMap map = build_comm_map(pipeline());
    ASSERT_EQ(map.edges.size(), 4u);
    const Edge& first = map.edges[0];  // most bytes first
    EXPECT_EQ(first.from, 10);
    EXPECT_EQ(first.to, 11);
    EXPECT_EQ(first.from_comm, "ps");
    EXPECT_EQ(first.via, "pipe:[5001]");
    EXPECT_EQ(first.bytes, 12000u);
    EXPECT_TRUE(first.directed);
    EXPECT_EQ(map.edges[1].from, 11);
    EXPECT_EQ(map.edges[1].to, 12);
    EXPECT_EQ(map.edges[1].bytes, 900u);
    bool sem = false, sig = false;
    for (const auto& e : map.edges) {
        if (e.mechanism == MECH_SYSV_SEM) {
            sem = true;
            EXPECT_FALSE(e.directed);
            EXPECT_EQ(e.calls, 200u);
            EXPECT_EQ(e.via, "sysv_sem:id 7");
        }
        if (e.mechanism == MECH_SIGNAL) {
            sig = true;
            EXPECT_EQ(e.from, 12);
            EXPECT_EQ(e.to, 10);
            EXPECT_EQ(e.to_comm, "ps");
        }
    }
    EXPECT_TRUE(sem);
    EXPECT_TRUE(sig);
    EXPECT_EQ(map.objects.size(), 5u);  // the lone FIFO is an object, but no edge
}

TEST(CommMap, TextJsonAndDot) {
    const CommMap map = build_comm_map(pipeline());
    const std::string text = comm_map_text(map, 2);
    EXPECT_NE(text.find("ps[10] -> grep[11] via pipe:[5001], 11.7 KiB"), std::string::npos) << text;
    EXPECT_NE(text.find("2 more edges"), std::string::npos);
    const auto doc = comm_map_json(map);
    EXPECT_EQ(doc["edges"].size(), 4u);
    EXPECT_EQ(doc["nodes"].size(), 3u);
    EXPECT_EQ(doc["edges"][0]["object"], "pipe:[5001]");
    const std::string dot = comm_map_dot(map);
    EXPECT_EQ(dot.rfind("digraph ipctrace {", 0), 0u);
    EXPECT_NE(dot.find("p10 -> p11"), std::string::npos);
    EXPECT_NE(comm_map_text(build_comm_map(Snapshot{}), 5).find("no IPC object was used by two traced processes"), std::string::npos);
}

TEST(CommMap, InetObjectsShowTheirPorts) {
    Snapshot s;
    const uint64_t conn = (41000ull << 48) | (5000ull << 32);
    s.objects[{1, MECH_TCP, conn}] = {10, 100, 0};
    s.objects[{2, MECH_TCP, conn}] = {10, 0, 100};
    EXPECT_EQ(build_comm_map(s).edges.at(0).via, "tcp:port 41000<->5000");
}

}  // namespace
}  // namespace ipctrace
