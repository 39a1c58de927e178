// Issue 5: the communication map of `ipctrace trace` on programs it did not write: the seed's
// three-stage pipeline and a Python multiprocessing pool.
#include <gtest/gtest.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "prometheus_server.h"
#include "subprocess.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The edges of the map, as "from-comm -> to-comm via mechanism".
std::multiset<std::string> edges_by_comm(const json& doc) {
    std::map<long, std::string> comm;
    for (const auto& n : doc["map"]["nodes"]) comm[n["pid"].get<long>()] = n["comm"].get<std::string>();
    std::multiset<std::string> out;
    for (const auto& e : doc["map"]["edges"])
        out.insert(comm[e["from"].get<long>()] + " -> " + comm[e["to"].get<long>()] + " via " + e["mechanism"].get<std::string>());
    return out;
}

TEST(TraceMap, SeedPipelineShowsPsToGrepToCut) {
    IPCTRACE_REQUIRE_ROOT();
    const std::string dot = "/tmp/ipctrace-map-test.dot";
    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "--dot", dot, "--", "sh", "-c",
                                 "ps -ef | grep root | cut -b 1-20 > /dev/null"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = json::parse(r.err);  // a command's report goes to stderr
    const auto edges = edges_by_comm(doc);
    EXPECT_EQ(edges.count("ps -> grep via pipe"), 1u) << doc["map"].dump();
    EXPECT_EQ(edges.count("grep -> cut via pipe"), 1u) << doc["map"].dump();
    // The bytes on the first edge are what grep read from ps's pipe.
    for (const auto& e : doc["map"]["edges"]) {
        if (e["mechanism"] == "pipe") {
            EXPECT_GT(e["bytes"].get<unsigned long>(), 0u);
        }
    }
    const std::string text = slurp(dot);
    EXPECT_EQ(text.rfind("digraph ipctrace {", 0), 0u);
    EXPECT_NE(text.find("label=\"ps\\n"), std::string::npos) << text;
    EXPECT_NE(text.find("->"), std::string::npos);
    unlink(dot.c_str());
}

TEST(TraceMap, TextReportListsTheEdges) {
    IPCTRACE_REQUIRE_ROOT();
    const CommandResult r = run({ipctrace_bin(), "trace", "--", "sh", "-c", "seq 1 20000 | sort -n | tail -1 > /dev/null"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("Communication map (who talks to whom):"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("seq["), std::string::npos);
    EXPECT_NE(r.err.find("] -> sort["), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("via pipe:["), std::string::npos);
}

// multiprocessing.Queue is a pipe plus a lock: the parent feeds two workers through one
// queue and collects through another, so the map links the parent and both workers.
TEST(TraceMap, PythonMultiprocessingQueue) {
    IPCTRACE_REQUIRE_ROOT();
    if (access("/usr/bin/python3", X_OK) != 0) FAIL() << "python3 is missing (scripts/setup.sh installs it)";
    const std::string script =
        "import multiprocessing as mp\n"
        "def work(q, r):\n"
        "    for _ in range(100): r.put(q.get() * 2)\n"
        "if __name__ == '__main__':\n"
        "    mp.set_start_method('fork')\n"
        "    q, r = mp.Queue(), mp.Queue()\n"
        "    ps = [mp.Process(target=work, args=(q, r)) for _ in range(2)]\n"
        "    for p in ps: p.start()\n"
        "    for i in range(200): q.put(i)\n"
        "    total = sum(r.get() for _ in range(200))\n"
        "    for p in ps: p.join()\n"
        "    assert total == 2 * sum(range(200)), total\n";
    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "--", "/usr/bin/python3", "-c", script});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = json::parse(r.err);
    ASSERT_TRUE(doc["mechanisms"].contains("pipe")) << doc["mechanisms"].dump();
    EXPECT_GE(doc["mechanisms"]["pipe"]["syscalls"]["write"]["count"].get<unsigned long>(), 400u);  // 200 items each way
    // Edges over pipes between the parent and each of the two workers, both directions.
    std::set<long> parents, children;
    for (const auto& e : doc["map"]["edges"]) {
        if (e["mechanism"] != "pipe") continue;
        parents.insert(e["from"].get<long>());
        children.insert(e["to"].get<long>());
    }
    EXPECT_GE(parents.size(), 3u) << doc["map"].dump();   // the parent and both workers write
    EXPECT_GE(children.size(), 3u) << doc["map"].dump();  // and read
    EXPECT_EQ(doc["lost_events"].get<unsigned long>(), 0u);
}

// A FIFO is named by its path, a POSIX queue or segment by the name its program opened.
TEST(TraceMap, FifoByPathPosixObjectsByName) {
    IPCTRACE_REQUIRE_ROOT();
    char dir_template[] = "/tmp/ipctrace-maptest.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    char real[PATH_MAX];
    ASSERT_NE(realpath(dir_template, real), nullptr);
    const std::string fifo = std::string(real) + "/f";
    // Deeper than the 6 names kept: the path keeps its last 6 names, behind "…".
    const std::string deep_dir = std::string(real) + "/a/b/c/d/e";
    const std::string deep = deep_dir + "/g";
    // sh writes into each FIFO, cat reads it: edges sh -> cat named by the paths.
    const std::string feed = "mkfifo " + fifo + " && { cat " + fifo + " > /dev/null & printf hello > " + fifo + "; wait; }";
    const std::string feed_deep = "mkdir -p " + deep_dir + " && mkfifo " + deep + " && { cat " + deep +
                                  " > /dev/null & printf hi > " + deep + "; wait; }";
    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "--", "sh", "-c", feed + " && " + feed_deep});
    run({"rm", "-rf", real});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = json::parse(r.err);
    const auto edges = edges_by_comm(doc);
    EXPECT_EQ(edges.count("sh -> cat via fifo"), 2u) << doc["map"].dump();
    std::map<std::string, unsigned long> bytes_by_object;
    for (const auto& e : doc["map"]["edges"])
        if (e["mechanism"] == "fifo") bytes_by_object[e["object"]] = e["bytes"];
    const std::map<std::string, unsigned long> expected{{"fifo:" + fifo, 5}, {"fifo:…/a/b/c/d/e/g", 2}};
    EXPECT_EQ(bytes_by_object, expected) << doc["map"].dump();

    // The bundled workloads name their objects "/ipctrace-" and 6 random characters.
    const std::regex posix_name("/ipctrace-[A-Za-z0-9]{6}");
    for (const std::string mechanism : {"posix_mq", "posix_shm"}) {
        const std::string workload = mechanism == "posix_mq" ? "posix-mq" : "posix-shm";
        // The report goes to a file: the workload's own report is on stdout.
        const std::string report = "/tmp/ipctrace-maptest-" + workload + ".json";
        const CommandResult w = run({ipctrace_bin(), "trace", "--json", "-o", report, "--", ipctrace_bin(), "run", workload,
                                     "--no-trace", "--count", "50"});
        const std::string text = slurp(report);
        unlink(report.c_str());
        ASSERT_EQ(w.exit_code, 0) << w.err;
        const json wdoc = json::parse(text);
        int named = 0;
        for (const auto& o : wdoc["map"]["objects"]) {
            if (o["mechanism"] != mechanism) continue;
            const std::string label = o["object"];
            EXPECT_TRUE(std::regex_match(label.substr(mechanism.size() + 1), posix_name)) << label;
            ++named;
        }
        EXPECT_EQ(named, 1) << wdoc["map"].dump();
    }
}

// Regular files are objects of the map only when they count as IPC (--include-file-io): a
// process reading many files (a compiler and its headers, under --all) must not fill the
// kernel's object table and crowd out the pipes and sockets the map is for.
TEST(TraceMap, RegularFilesAreObjectsOnlyWhenFileIoCountsAsIpc) {
    IPCTRACE_REQUIRE_ROOT();
    TempDir dir;
    const unsigned files = 200;
    for (unsigned i = 0; i < files; ++i) std::ofstream(dir.path() + "/f" + std::to_string(i)) << "x";
    auto file_objects = [&](bool include) {
        std::vector<std::string> argv = {ipctrace_bin(), "trace", "--json"};
        if (include) argv.push_back("--include-file-io");
        for (const char* a : {"--", "sh", "-c"}) argv.push_back(a);
        argv.push_back("cat " + dir.path() + "/f* | cat >/dev/null");
        const CommandResult r = run(argv);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        const json doc = json::parse(r.err);
        unsigned n = 0, pipes = 0;
        for (const auto& o : doc["map"]["objects"]) {
            n += o["mechanism"] == "file";
            pipes += o["mechanism"] == "pipe";
        }
        EXPECT_EQ(pipes, 1u) << "the pipe between the two cats is an object either way";
        EXPECT_EQ(doc["drops"]["objects_full"].get<unsigned long>(), 0u);
        return n;
    };
    EXPECT_EQ(file_objects(false), 0u);
    EXPECT_GE(file_objects(true), files) << "each file cat read is an object with --include-file-io";
}

}  // namespace
}  // namespace ipctrace::testing
