// Issue 18, cross-memory attach: `strace -f -o /dev/null ls /` reads its tracee's arguments with
// process_vm_readv. The oracle is an outer strace watching the inner one in the same run
// (without -f: it traces only the inner strace, which ptraces ls itself): every
// process_vm_readv call the inner strace made, its return value, and the pid it read.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "subprocess.h"
#include "temp_path.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;

struct StraceReads {
    unsigned long calls = 0, errors = 0, bytes = 0;
    std::set<long> targets;  // the pids read (arg0)
};

// The outer strace's lines: "process_vm_readv(PID, [...], 1, [...], 1, 0) = N" or "= -1 E...".
StraceReads strace_reads(const std::string& log) {
    StraceReads out;
    std::istringstream in(log);
    const std::regex call(R"(^process_vm_readv\((\d+),.*\) = (-?\d+))");
    std::smatch m;
    for (std::string line; std::getline(in, line);) {
        if (!std::regex_search(line, m, call)) continue;
        ++out.calls;
        out.targets.insert(std::stol(m[1]));
        const long ret = std::stol(m[2]);
        if (ret < 0) ++out.errors;
        else out.bytes += static_cast<unsigned long>(ret);
    }
    return out;
}

const json* process_named(const json& doc, const std::string& comm, long pid = 0) {
    for (const auto& p : doc["processes"])
        if (p["comm"] == comm && (pid == 0 || p["pid"].get<long>() == pid)) return &p;
    return nullptr;
}

TEST(CrossMemory, StraceReadsOfItsTraceeAreCountedWithTheirBytesAndAnEdge) {
    IPCTRACE_REQUIRE_ROOT();
    TempPath log("cma-outer-strace");
    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "--", "strace", "-o", log.str(), "-e", "trace=process_vm_readv",
                                 "strace", "-f", "-o", "/dev/null", "ls", "/"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const StraceReads oracle = strace_reads(log.read());
    ASSERT_GT(oracle.calls, 10u) << "strace read its tracee with process_vm_readv: " << log.read().substr(0, 2000);
    ASSERT_EQ(oracle.targets.size(), 1u) << "the inner strace traces ls alone";
    const long ls_pid = *oracle.targets.begin();
    const json doc = json::parse(r.err);
    ASSERT_NE(process_named(doc, "ls", ls_pid), nullptr) << "the pid read is ls's";

    // The inner strace: the one process the map links to ls through cross_memory.
    std::vector<json> edges;
    for (const auto& e : doc["map"]["edges"])
        if (e["mechanism"] == "cross_memory" && e["from"].get<long>() == ls_pid) edges.push_back(e);
    ASSERT_EQ(edges.size(), 1u) << doc["map"].dump();
    const long inner = edges[0]["to"].get<long>();
    const json* strace = process_named(doc, "strace", inner);
    ASSERT_NE(strace, nullptr) << "the reader of ls is a strace";
    EXPECT_TRUE(edges[0]["directed"].get<bool>());
    EXPECT_EQ(edges[0]["bytes"].get<unsigned long>(), oracle.bytes) << "the edge carries what was read from ls";

    const json& cma = (*strace)["mechanisms"]["cross_memory"];
    const json& readv = cma["syscalls"]["process_vm_readv"];
    EXPECT_EQ(readv["count"].get<unsigned long>(), oracle.calls);
    EXPECT_EQ(readv["errors"].get<unsigned long>(), oracle.errors);
    EXPECT_EQ(readv["bytes_direct"].get<unsigned long>(), oracle.bytes);
    EXPECT_EQ(cma["bytes_direct"].get<unsigned long>(), oracle.bytes) << "strace writes nothing into ls (no process_vm_writev)";
    // One copy between the address spaces: nothing through a kernel buffer.
    EXPECT_EQ(cma["bytes_to_kernel"].get<unsigned long>(), 0u);
    EXPECT_EQ(cma["bytes_from_kernel"].get<unsigned long>(), 0u);
}

TEST(CrossMemory, TextReportSaysOneCopyAndShowsTheEdge) {
    IPCTRACE_REQUIRE_ROOT();
    const CommandResult r = run({ipctrace_bin(), "trace", "--", "strace", "-f", "-o", "/dev/null", "ls", "/"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(std::regex_search(r.err, std::regex(R"(cross_memory: \S+ \S+ copied once, directly from one address space to the other)")))
        << r.err;
    EXPECT_TRUE(std::regex_search(r.err, std::regex(R"(ls\[\d+\] -> strace\[\d+\] via cross_memory:pid \d+, \S+ \S+)"))) << r.err;
    EXPECT_TRUE(std::regex_search(r.err, std::regex(R"(process_vm_readv\s+cross_memory\s+\d+)"))) << r.err;
}

}  // namespace
}  // namespace ipctrace::testing
