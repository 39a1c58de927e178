// The communication map from fixed per-object counts.
#include <gtest/gtest.h>

#include <set>

#include "model/comm_map.h"
#include "render/comm_map_render.h"
#include "common/format.h"

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

// kill(-PGID), kill(0), kill(-1): the receiver is a group, not a process of the map.
TEST(CommMap, ASignalToAProcessGroupIsAnObjectButNoEdge) {
    Snapshot s = pipeline();
    s.objects[{11, MECH_SIGNAL, static_cast<uint64_t>(-4242)}] = {1, 0, 0};  // grep: kill(-4242, …)
    s.objects[{11, MECH_SIGNAL, 0}] = {1, 0, 0};                               // kill(0, …)
    const CommMap map = build_comm_map(s);
    EXPECT_EQ(map.edges.size(), 4u) << "only cut -> ps is a signal edge";
    std::set<std::string> labels;
    for (const auto& o : map.objects) labels.insert(o.label);
    EXPECT_TRUE(labels.count("signal:to process group 4242"));
    EXPECT_TRUE(labels.count("signal:to the sender's process group"));
    for (const auto& n : comm_map_json(map)["nodes"]) EXPECT_GT(n["pid"].get<int>(), 0);
}

TEST(CommMap, TextJsonAndDot) {
    const CommMap map = build_comm_map(pipeline());
    const std::string text = comm_map_text(map, 2);
    EXPECT_NE(text.find("ps[10] -> grep[11] via pipe:[5001], 11.7 KiB"), std::string::npos) << text;
    EXPECT_NE(text.find("2 more links"), std::string::npos) << text;
    const auto doc = comm_map_json(map);
    EXPECT_EQ(doc["edges"].size(), 4u);
    EXPECT_EQ(doc["nodes"].size(), 3u);
    EXPECT_EQ(doc["edges"][0]["object"], "pipe:[5001]");
    const std::string dot = comm_map_dot(map);
    EXPECT_EQ(dot.rfind("digraph ipctrace {", 0), 0u);
    EXPECT_NE(dot.find("p10 -> p11"), std::string::npos);
    EXPECT_NE(comm_map_text(build_comm_map(Snapshot{}), 5).find("no IPC object was used by two traced processes"), std::string::npos);
}

// Names recorded by the kernel: a FIFO by path, shm_open's name without /dev/shm, and a
// name a program chose (quotes included) stays inside its DOT string.
TEST(CommMap, NamedObjects) {
    Snapshot s;
    s.procs[1] = {0, false, "writer"};
    s.procs[2] = {0, false, "reader"};
    s.objects[{1, MECH_FIFO, 77}] = {1, 10, 0};
    s.objects[{2, MECH_FIFO, 77}] = {1, 0, 10};
    s.objects[{1, MECH_FIFO, 78}] = {1, 20, 0};  // another FIFO, recreated at the same path
    s.objects[{2, MECH_FIFO, 78}] = {1, 0, 20};
    s.objects[{1, MECH_POSIX_SHM, 90}] = {2, 0, 0};
    s.objects[{2, MECH_POSIX_SHM, 90}] = {2, 0, 0};
    s.object_names[{MECH_FIFO, 77}] = "/run/a \"q\"";
    s.object_names[{MECH_FIFO, 78}] = "/run/a \"q\"";
    s.object_names[{MECH_POSIX_SHM, 90}] = "/dev/shm/frames";
    const CommMap map = build_comm_map(s);
    std::set<std::string> labels;
    for (const auto& e : map.edges) labels.insert(e.via);
    EXPECT_EQ(labels, (std::set<std::string>{"fifo:/run/a \"q\"", "posix_shm:/frames"}));
    // Two FIFOs of one name are two objects of the link, not one.
    EXPECT_NE(comm_map_text(map, 5).find("via 2 "), std::string::npos) << comm_map_text(map, 5);
    EXPECT_NE(comm_map_dot(map).find("label=\"2 "), std::string::npos) << comm_map_dot(map);
    // One FIFO alone: its quoted name is escaped in the DOT label.
    s.objects.erase({1, MECH_FIFO, 78});
    s.objects.erase({2, MECH_FIFO, 78});
    const std::string dot = comm_map_dot(build_comm_map(s));
    EXPECT_NE(dot.find("label=\"fifo:/run/a \\\"q\\\"\\n"), std::string::npos) << dot;
}

TEST(CommMap, InetObjectsShowTheirPorts) {
    Snapshot s;
    const uint64_t conn = (41000ull << 48) | (5000ull << 32);
    s.objects[{1, MECH_TCP, conn}] = {10, 100, 0};
    s.objects[{2, MECH_TCP, conn}] = {10, 0, 100};
    EXPECT_EQ(build_comm_map(s).edges.at(0).via, "tcp:port 41000<->5000");
}

// A connected unix pair is named by both socket inodes (as `ss -x` shows them); a call made
// after the peer closed carries only its own socket's inode and joins the pair.
uint64_t unix_pair(uint64_t a, uint64_t b) { return a << 32 | b; }

// A server (pid 10) and ten client processes (21..30), one connection each; the server's
// last read on each (the EOF, after the client closed) is counted under its own inode.
Snapshot ten_clients() {
    Snapshot s;
    s.procs[10] = {1, false, "redis-server"};
    for (pid_t c = 21; c <= 30; ++c) {
        s.procs[c] = {1, true, "redis-cli"};
        const uint64_t server_ino = 1000 + 2 * static_cast<uint64_t>(c), client_ino = server_ino + 1;
        const uint64_t conn = unix_pair(server_ino, client_ino);
        s.objects[{c, MECH_UNIX_STREAM, conn}] = {2, 40, 5};    // the request out, the reply in
        s.objects[{10, MECH_UNIX_STREAM, conn}] = {2, 5, 40};   // the server reads it and replies
        s.objects[{10, MECH_UNIX_STREAM, server_ino}] = {1, 0, 0};  // EOF, the client gone
    }
    return s;
}

TEST(CommMap, UnixPairsByInodeAndCallsAfterThePeerClosedJoinTheirPair) {
    const CommMap map = build_comm_map(ten_clients());
    EXPECT_EQ(map.objects.size(), 10u);  // no object of its own for an EOF read
    EXPECT_EQ(map.edges.size(), 20u);    // JSON keeps every edge: each client to and from the server
    for (const auto& o : map.objects) {
        ASSERT_EQ(o.users.size(), 2u);
        EXPECT_EQ(o.users[0].pid, 10);
        EXPECT_EQ(o.users[0].use.calls, 3u);
    }
    EXPECT_EQ(map.objects.front().label.rfind("unix_stream:[10", 0), 0u) << map.objects.front().label;
    EXPECT_NE(map.objects.front().label.find("<->10"), std::string::npos) << map.objects.front().label;
    Snapshot lone;
    lone.objects[{1, MECH_UNIX_DGRAM, 4242}] = {1, 10, 0};
    lone.objects[{2, MECH_UNIX_DGRAM, 4243}] = {1, 0, 10};
    const CommMap unconnected = build_comm_map(lone);
    EXPECT_TRUE(unconnected.edges.empty());  // two sockets, no pair: nothing links them
    EXPECT_EQ(unconnected.objects.at(0).label, "unix_dgram:[4242]");
}

TEST(CommMap, ClientsOfOneNameFoldIntoOneLineWithTheirTotals) {
    const CommMap map = build_comm_map(ten_clients());
    const auto links = fold_comm_map(map, true);
    ASSERT_EQ(links.size(), 1u);
    const Link& l = links[0];
    EXPECT_EQ(l.left.size(), 10u);
    EXPECT_EQ(l.left_comm, "redis-cli");
    EXPECT_EQ(l.right, 10);
    EXPECT_EQ(l.objects.size(), 10u);
    EXPECT_EQ(l.bytes_right, 400u);  // the clients' requests
    EXPECT_EQ(l.bytes_left, 50u);    // the replies
    EXPECT_EQ(l.calls, 10u * 5);     // each connection: 2 client calls, 3 server calls
    const std::string text = comm_map_text(map, 20);
    EXPECT_NE(text.find("  redis-cli[21,22,23,… 10 processes] <-> redis-server[10] via 10 unix_stream connections, 400 B -> / 50 B <-\n"),
              std::string::npos)
        << text;
    // DOT folds per pair only: every client stays a node with its one arrow (both ways).
    EXPECT_EQ(fold_comm_map(map, false).size(), 10u);
    const std::string dot = comm_map_dot(map);
    EXPECT_NE(dot.find("p10 -> p21 [label=\""), std::string::npos) << dot;
    EXPECT_NE(dot.find("dir=both"), std::string::npos) << dot;
}

TEST(CommMap, ManyConnectionsBetweenTwoProcessesAreOneLine) {
    Snapshot s;
    s.procs[10] = {1, false, "redis-server"};
    s.procs[20] = {1, true, "redis-benchmark"};
    for (uint64_t i = 0; i < 21; ++i) {
        const uint64_t conn = unix_pair(500 + 2 * i, 501 + 2 * i);
        s.objects[{20, MECH_UNIX_STREAM, conn}] = {100, 7000, 4000};
        s.objects[{10, MECH_UNIX_STREAM, conn}] = {101, 4000, 7000};
    }
    const CommMap map = build_comm_map(s);
    EXPECT_EQ(map.edges.size(), 42u);
    const auto links = fold_comm_map(map, true);
    ASSERT_EQ(links.size(), 1u);
    const std::string text = comm_map_text(map, 20);
    const std::string line = "via 21 unix_stream connections, " + format_bytes(4000.0 * 21) + " -> / " + format_bytes(7000.0 * 21) + " <-";
    EXPECT_NE(text.find("  redis-server[10] <-> redis-benchmark[20] " + line), std::string::npos) << text;
    const std::string dot = comm_map_dot(map);
    EXPECT_NE(dot.find("p10 -> p20 [label=\"21 unix_stream connections\\n"), std::string::npos) << dot;
    EXPECT_EQ(dot.find("p20 -> p10"), std::string::npos) << dot;  // one arrow, both ways
}

TEST(CommMap, OneWriterManyReadersPointsAtTheReaders) {
    Snapshot s;
    s.procs[5] = {1, true, "producer"};
    for (pid_t c = 6; c <= 8; ++c) {
        s.procs[c] = {1, true, "cat"};
        s.objects[{5, MECH_PIPE, 900u + static_cast<uint64_t>(c)}] = {1, 1000, 0};
        s.objects[{c, MECH_PIPE, 900u + static_cast<uint64_t>(c)}] = {2, 0, 1000};
    }
    const std::string text = comm_map_text(build_comm_map(s), 20);
    EXPECT_NE(text.find("  cat[6,7,8] <- producer[5] via 3 pipes, 2.9 KiB\n"), std::string::npos) << text;
}

// process_vm_readv/writev: the object is the pid read or written; the edge runs the way the
// bytes went, from the process read to the reader, from the writer to the process written.
TEST(CommMap, CrossMemoryEdgesFollowTheBytes) {
    Snapshot s;
    s.procs[20] = {1, true, "strace"};
    s.procs[21] = {20, true, "ls"};
    s.procs[22] = {1, true, "mpi_rank"};
    s.objects[{20, MECH_CROSS_MEMORY, 21}] = {98, 0, 401408};  // strace read ls's memory
    s.objects[{22, MECH_CROSS_MEMORY, 21}] = {2, 8192, 0};     // another process wrote into it
    s.objects[{20, MECH_CROSS_MEMORY, 20}] = {1, 0, 64};       // its own memory: no edge
    const CommMap map = build_comm_map(s);
    ASSERT_EQ(map.edges.size(), 2u);
    EXPECT_EQ(map.edges[0].from, 21);
    EXPECT_EQ(map.edges[0].to, 20);
    EXPECT_EQ(map.edges[0].bytes, 401408u);
    EXPECT_EQ(map.edges[0].via, "cross_memory:pid 21");
    EXPECT_TRUE(map.edges[0].directed);
    EXPECT_EQ(map.edges[1].from, 22);
    EXPECT_EQ(map.edges[1].to, 21);
    EXPECT_EQ(map.edges[1].bytes, 8192u);
}

}  // namespace
}  // namespace ipctrace
