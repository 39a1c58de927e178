// Issue 15: shared mappings are objects of trace's communication map. Each test's oracle is
// outside ipctrace: the pages a program touched, the kernel's /proc/PID/smaps, a workload's
// own count of its futex calls.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "subprocess.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;

// The map's objects of one mechanism whose label matches `label`.
std::vector<json> objects_like(const json& doc, const std::string& mechanism, const std::regex& label) {
    std::vector<json> out;
    for (const auto& o : doc["map"]["objects"])
        if (o["mechanism"] == mechanism && std::regex_search(o["object"].get<std::string>(), label)) out.push_back(o);
    return out;
}

std::vector<json> edges_via(const json& doc, const std::string& label) {
    std::vector<json> out;
    for (const auto& e : doc["map"]["edges"])
        if (e["object"] == label) out.push_back(e);
    return out;
}

unsigned long faults_of(const json& object, long pid) {
    for (const auto& u : object["users"])
        if (u["pid"].get<long>() == pid) return u["page_faults"].get<unsigned long>();
    return 0;
}

void require_python() {
    if (access("/usr/bin/python3", X_OK) != 0) FAIL() << "python3 is missing (scripts/setup.sh installs it)";
}

// multiprocessing.shared_memory: the parent writes N pages, a forked child attaches by name
// and reads them, then prints its own Rss of the segment from /proc/self/smaps, sampled
// before it exits.
TEST(TraceMappings, PythonSharedMemoryIsOneEdgeWithFaultsPerSide) {
    IPCTRACE_REQUIRE_ROOT();
    require_python();
    constexpr unsigned long kPages = 512;
    const std::string script =
        "import multiprocessing as mp, os\n"
        "from multiprocessing import shared_memory\n"
        "N = " + std::to_string(kPages) + "\n"
        "def child(name, q):\n"
        "    shm = shared_memory.SharedMemory(name=name)\n"
        "    total = sum(shm.buf[i * 4096] for i in range(N))\n"
        "    rss = 0\n"  // over its mappings of the segment: the one inherited from fork() holds no pages
        "    with open('/proc/self/smaps') as f:\n"
        "        lines = f.read().split('\\n')\n"
        "    for i, l in enumerate(lines):\n"
        "        if l.endswith('/dev/shm/' + name):\n"
        "            for m in lines[i + 1:]:\n"
        "                if m.startswith('Rss:'):\n"
        "                    rss += int(m.split()[1]); break\n"
        "    q.put((os.getpid(), total, rss))\n"
        "    shm.close()\n"
        "if __name__ == '__main__':\n"
        "    mp.set_start_method('fork')\n"
        "    shm = shared_memory.SharedMemory(create=True, size=N * 4096)\n"
        "    for i in range(N): shm.buf[i * 4096] = 1\n"
        "    q = mp.Queue()\n"
        "    p = mp.Process(target=child, args=(shm.name, q))\n"
        "    p.start()\n"
        "    pid, total, rss = q.get()\n"
        "    p.join()\n"
        "    print(os.getpid(), pid, total, rss, shm.name)\n"
        "    shm.close(); shm.unlink()\n";
    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "--", "/usr/bin/python3", "-c", script});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    long parent = 0, child = 0;
    unsigned long total = 0, rss_kb = 0;
    char name[64] = {};
    ASSERT_EQ(std::sscanf(r.out.c_str(), "%ld %ld %lu %lu %63s", &parent, &child, &total, &rss_kb, name), 5) << r.out;
    ASSERT_EQ(total, kPages);
    EXPECT_EQ(rss_kb, kPages * 4) << "the kernel's Rss of the child's mapping";
    const json doc = json::parse(r.err);
    const std::string label = std::string("posix_shm:/") + name;
    const auto objects = objects_like(doc, "posix_shm", std::regex("^" + label + "$"));
    ASSERT_EQ(objects.size(), 1u) << doc["map"]["objects"].dump();
    EXPECT_GT(objects[0]["inode"].get<unsigned long>(), 0u);
    const auto edges = edges_via(doc, label);
    ASSERT_EQ(edges.size(), 1u) << doc["map"].dump();
    const std::set<long> ends{edges[0]["from"].get<long>(), edges[0]["to"].get<long>()};
    EXPECT_EQ(ends, (std::set<long>{parent, child}));
    EXPECT_GE(faults_of(objects[0], parent), kPages);  // one write fault per page
    const unsigned long child_faults = faults_of(objects[0], child);
    EXPECT_GE(child_faults, kPages / 16) << "read faults map at most 16 pages each";
    EXPECT_LE(child_faults, kPages);
    const unsigned long edge_child = edges[0]["from"].get<long>() == child ? edges[0]["from_faults"].get<unsigned long>()
                                                                           : edges[0]["to_faults"].get<unsigned long>();
    EXPECT_EQ(edge_child, child_faults);
}

// A shared anonymous region made before fork(): three children, one object, three edges, and
// each child's faults the pages it wrote.
TEST(TraceMappings, AnonymousSharedRegionInheritedByThreeChildren) {
    IPCTRACE_REQUIRE_ROOT();
    const std::vector<unsigned long> pages{40, 90, 160};
    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "--", ANON_SHARED_BIN, "40", "90", "160"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "3 children touched 290 pages\n");
    const json doc = json::parse(r.err);
    const auto objects = objects_like(doc, "mmap_anon", std::regex("^anon-shared@[0-9]+$"));
    ASSERT_EQ(objects.size(), 1u) << doc["map"]["objects"].dump();
    const json& o = objects[0];
    // The parent made it and never touched it: the children are its users, the parent its creator.
    ASSERT_EQ(o["users"].size(), 3u) << o.dump();
    std::multiset<unsigned long> faults;
    for (const auto& u : o["users"]) faults.insert(u["page_faults"].get<unsigned long>());
    EXPECT_EQ(faults, (std::multiset<unsigned long>(pages.begin(), pages.end()))) << o.dump();
    std::set<long> users;
    for (const auto& u : o["users"]) users.insert(u["pid"].get<long>());
    const auto edges = edges_via(doc, o["object"].get<std::string>());
    EXPECT_EQ(edges.size(), 3u) << doc["map"].dump();
    for (const auto& e : edges) {
        EXPECT_TRUE(users.count(e["from"].get<long>()) && users.count(e["to"].get<long>())) << e.dump();
        EXPECT_FALSE(e["directed"].get<bool>());
    }
    long creator = 0;
    ASSERT_EQ(std::sscanf(o["object"].get<std::string>().c_str(), "anon-shared@%ld", &creator), 1);
    EXPECT_EQ(users.count(creator), 0u) << "the creator is the children's parent";
}

// The bundled shared-memory workloads: the two roles are one edge via their segment, and the
// futex calls they count themselves are on that edge.
void workload_edge(const std::string& workload, const std::string& mechanism) {
    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "--", ipctrace_bin(), "run", workload, "--no-trace", "--json",
                                 "-c", "5000", "--sync", "futex"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json run_doc = json::parse(r.out);
    const json& w = run_doc["workload"];
    ASSERT_TRUE(w["ok"].get<bool>()) << w.dump();
    const std::set<long> roles{w["pids"][0].get<long>(), w["pids"][1].get<long>()};
    const unsigned long futexes = w["ops"].value("futex", 0ul);
    ASSERT_GT(futexes, 0u) << w.dump();
    const json doc = json::parse(r.err);
    std::vector<json> edges;
    for (const auto& e : doc["map"]["edges"])
        if (e["mechanism"] == mechanism && roles == std::set<long>{e["from"].get<long>(), e["to"].get<long>()}) edges.push_back(e);
    ASSERT_EQ(edges.size(), 1u) << doc["map"].dump();
    EXPECT_EQ(edges[0]["sync_calls"].get<unsigned long>(), futexes) << edges[0].dump();
    EXPECT_GT(edges[0]["from_faults"].get<unsigned long>(), 0u);
    EXPECT_GT(edges[0]["to_faults"].get<unsigned long>(), 0u);
}

TEST(TraceMappings, PosixShmWorkloadEdgeCarriesItsFutexes) {
    IPCTRACE_REQUIRE_ROOT();
    workload_edge("posix-shm", "posix_shm");
}

TEST(TraceMappings, MmapWorkloadEdgeCarriesItsFutexes) {
    IPCTRACE_REQUIRE_ROOT();
    workload_edge("mmap", "mmap_file");
}

TEST(TraceMappings, SysvShmWorkloadEdgeCarriesItsFutexes) {
    IPCTRACE_REQUIRE_ROOT();
    workload_edge("shm", "sysv_shm");
}

// A memfd made after fork(), passed over a unix socket (SCM_RIGHTS) and mapped by the
// receiver: one shared-mapping edge via memfd:NAME, and the passed fd edge beside it.
TEST(TraceMappings, MemfdPassedOverUnixSocket) {
    IPCTRACE_REQUIRE_ROOT();
    require_python();
    const std::string script =
        "import mmap, os, socket\n"
        "a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    msg, fds, _, _ = socket.recv_fds(b, 16, 1)\n"
        "    m = mmap.mmap(fds[0], 64 * 4096)\n"
        "    s = sum(m[i * 4096] for i in range(64))\n"
        "    os._exit(0 if s == 64 else 1)\n"
        "fd = os.memfd_create('ipctrace-ring')\n"
        "os.ftruncate(fd, 64 * 4096)\n"
        "m = mmap.mmap(fd, 64 * 4096)\n"
        "for i in range(64): m[i * 4096] = 1\n"
        "socket.send_fds(a, [b'fd'], [fd])\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print(os.getpid(), pid, status)\n";
    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "--", "/usr/bin/python3", "-c", script});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    long parent = 0, child = 0, status = -1;
    ASSERT_EQ(std::sscanf(r.out.c_str(), "%ld %ld %ld", &parent, &child, &status), 3) << r.out;
    ASSERT_EQ(status, 0) << "the receiver read the sender's pages";
    const json doc = json::parse(r.err);
    std::vector<json> edges, passed;
    for (const auto& e : edges_via(doc, "memfd:ipctrace-ring")) (e["passed_fd"].get<bool>() ? passed : edges).push_back(e);
    ASSERT_EQ(passed.size(), 1u) << doc["map"].dump();
    EXPECT_EQ(passed[0]["from"].get<long>(), parent);
    EXPECT_EQ(passed[0]["to"].get<long>(), child);
    EXPECT_EQ(passed[0]["fds_passed"].get<unsigned long>(), 1u);
    ASSERT_EQ(edges.size(), 1u) << doc["map"].dump();
    EXPECT_EQ((std::set<long>{edges[0]["from"].get<long>(), edges[0]["to"].get<long>()}), (std::set<long>{parent, child}));
    EXPECT_GE(edges[0]["from"].get<long>() == parent ? edges[0]["from_faults"].get<unsigned long>() : edges[0]["to_faults"].get<unsigned long>(), 64u);
}

// `trace -- ls -la /usr/lib`: every mapping call and every syscall as strace -f -c counts
// them, the loader's private mappings reported apart and none of them as IPC.
TEST(TraceMappings, LsEveryMmapAndEverySyscallAsStraceCounts) {
    IPCTRACE_REQUIRE_ROOT();
    const std::string log = "/tmp/ipctrace-mappings-strace.txt", calls = "/tmp/ipctrace-mappings-strace-calls.txt";
    const CommandResult s = run({"strace", "-f", "-c", "-o", log, "ls", "-la", "/usr/lib"});
    ASSERT_EQ(s.exit_code, 0) << s.err;
    // The same command's mmap flags: which are shared (the IPC ones).
    const CommandResult f = run({"strace", "-f", "-qq", "-o", calls, "-e", "trace=mmap", "ls", "-la", "/usr/lib"});
    ASSERT_EQ(f.exit_code, 0) << f.err;
    const auto read = [](const std::string& path) {
        std::ifstream in(path);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    const auto strace = parse_strace_counts(read(log));
    unsigned long strace_total = 0, shared = 0;
    {
        // "% time seconds usecs/call calls [errors] total": the calls column of the total row.
        std::istringstream table(read(log));
        for (std::string line; std::getline(table, line);) {
            std::istringstream fields(line);
            std::vector<std::string> f;
            for (std::string w; fields >> w;) f.push_back(w);
            if (f.size() >= 5 && f.back() == "total") strace_total = std::stoul(f[3]);
        }
        ASSERT_GT(strace_total, 0u) << read(log);
        std::istringstream in(read(calls));
        for (std::string line; std::getline(in, line);) shared += line.find("MAP_SHARED") != std::string::npos;
    }
    unlink(log.c_str());
    unlink(calls.c_str());

    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "--", "ls", "-la", "/usr/lib"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = json::parse(r.err);
    const json& mm = doc["memory_mappings"];
    const auto at = [&](const char* name) { return strace.count(name) ? strace.at(name) : 0ul; };
    EXPECT_EQ(mm["mmap"]["private_file"].get<unsigned long>() + mm["mmap"]["private_anon"].get<unsigned long>() +
                  mm["mmap"]["shared"].get<unsigned long>(),
              at("mmap"))
        << mm.dump();
    EXPECT_GE(mm["mmap"]["private_file"].get<unsigned long>(), 5u) << "the loader maps its libraries privately";
    EXPECT_EQ(mm["mmap"]["shared"].get<unsigned long>(), shared);
    EXPECT_EQ(mm["munmap"].get<unsigned long>(), at("munmap"));
    EXPECT_EQ(mm["mprotect"].get<unsigned long>(), at("mprotect"));
    EXPECT_EQ(mm["mremap"].get<unsigned long>(), at("mremap"));
    EXPECT_EQ(doc["all_syscalls"].get<unsigned long>(), strace_total);
    ASSERT_EQ(doc["processes"].size(), 1u);
    EXPECT_EQ(doc["processes"][0]["all_syscalls"], doc["all_syscalls"]);
    // Nothing private as IPC: the mmaps any IPC mechanism counts are the shared ones.
    unsigned long ipc_mmaps = 0;
    for (const auto& [mech, m] : doc["mechanisms"].items())
        if (m["syscalls"].contains("mmap")) ipc_mmaps += m["syscalls"]["mmap"]["count"].get<unsigned long>();
    EXPECT_EQ(ipc_mmaps, shared) << doc["mechanisms"].dump();
    for (const auto& [mech, m] : doc["mechanisms"].items()) {
        EXPECT_FALSE(m["syscalls"].contains("mprotect")) << mech;
        EXPECT_FALSE(m["syscalls"].contains("munmap")) << mech << ": ls unmaps only private memory";
    }
}

}  // namespace
}  // namespace ipctrace::testing
