// Issue 19: the --html pages of run, trace and compare, opened in a real browser (Debian's
// chromium, headless, driven by tests/support/browser_check.py over the DevTools protocol).
// Each page must load with no network request but itself and no console error; every number
// it shows must equal the JSON document it embeds; the map must have one box per traced
// process and the edges the kernel counted; the page must be valid (xmllint, as XML and as
// HTML). The screenshots go to the build directory, and to docs/images with
// IPCTRACE_UPDATE_DOCS=1.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "subprocess.h"
#include "temp_path.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class HtmlPage : public ::testing::Test {
protected:
    void SetUp() override {
        char dir[] = "/tmp/ipctrace-html-XXXXXX";
        ASSERT_NE(mkdtemp(dir), nullptr);
        dir_ = dir;
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string path(const std::string& name) const { return dir_ + "/" + name; }

    // The browser's view of `page`, checked for what every page must hold; the screenshot kept as `shot`.
    json open_in_browser(const std::string& page, const std::string& shot) {
        const std::string png = path(shot);
        const CommandResult r = run({"python3", IPCTRACE_BROWSER_CHECK, page, png});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        json view = json::parse(r.out, nullptr, false);
        EXPECT_FALSE(view.is_discarded()) << r.out << r.err;
        if (view.is_discarded()) return json::object();
        EXPECT_EQ(view["requests"], json::array({"file://" + page})) << "the page fetched something";
        EXPECT_EQ(view["errors"], json::array()) << view["errors"].dump(2);
        EXPECT_GE(view["checked"].get<int>(), 10) << "numbers shown and held to the embedded JSON";
        EXPECT_EQ(view["mismatches"], json::array()) << view["mismatches"].dump(2);
        // A real PNG, kept where a developer finds it.
        std::ifstream in(png, std::ios::binary);
        char magic[8] = {};
        in.read(magic, 8);
        EXPECT_EQ(std::string(magic + 1, 3), "PNG") << png;
        const fs::path keep = fs::path(IPCTRACE_BUILD_DIR) / shot;
        fs::copy_file(png, keep, fs::copy_options::overwrite_existing);
        if (std::getenv("IPCTRACE_UPDATE_DOCS")) fs::copy_file(png, fs::path(IPCTRACE_DOCS) / "images" / shot, fs::copy_options::overwrite_existing);
        // Valid: well-formed XML, and HTML whose only complaints are HTML 4's unknown tags (header, svg).
        const CommandResult xml = run({"xmllint", "--noout", page});
        EXPECT_EQ(xml.exit_code, 0) << xml.err;
        const CommandResult html = run({"sh", "-c", "xmllint --html --noout '" + page + "' 2>&1 | grep -v 'Tag .* invalid' | grep -E 'error' || true"});
        EXPECT_EQ(html.out, "") << "HTML errors";
        return view;
    }

    std::string dir_;
};

std::set<std::string> edges_by_comm(const json& view, const std::map<std::string, std::string>& comm_of) {
    std::set<std::string> out;
    for (const auto& e : view["edges"])
        out.insert(comm_of.at(e["from"].get<std::string>()) + " -> " + comm_of.at(e["to"].get<std::string>()) + " via " +
                   e["mechanism"].get<std::string>());
    return out;
}

std::map<std::string, std::string> comm_of_nodes(const json& view) {
    std::map<std::string, std::string> out;
    for (const auto& n : view["nodes"]) out[n["pids"].get<std::string>()] = n["comm"].get<std::string>();
    return out;
}

TEST_F(HtmlPage, RunPageShowsTheTableTheRolesAndTheirHistograms) {
    IPCTRACE_REQUIRE_ROOT();
    const std::string page = path("run.html");
    const CommandResult r = run({ipctrace_bin(), "run", "pipe", "--count", "5000", "--json", "--html", page});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = json::parse(r.out);
    const json view = open_in_browser(page, "html-run.png");
    ASSERT_FALSE(view.empty());
    EXPECT_NE(std::find(view["histograms"].begin(), view["histograms"].end(), "pipe"), view["histograms"].end()) << view["histograms"];
    // The two roles, each one box, joined by the pipe the writer fed.
    std::set<std::string> roles;
    for (const auto& pid : doc["workload"]["pids"]) roles.insert(std::to_string(pid.get<long>()));
    std::set<std::string> boxes;
    for (const auto& n : view["nodes"]) boxes.insert(n["pids"].get<std::string>());
    EXPECT_EQ(boxes, roles);
    ASSERT_EQ(view["edges"].size(), 1u) << view["edges"].dump();
    EXPECT_EQ(view["edges"][0]["mechanism"], "pipe");
    EXPECT_EQ(view["edges"][0]["bytes"].get<uint64_t>(), doc["workload"]["bytes"].get<uint64_t>()) << "every payload byte went through it";
}

TEST_F(HtmlPage, TracePageDrawsPsGrepCutAsAGraph) {
    IPCTRACE_REQUIRE_ROOT();
    const std::string page = path("trace.html"), report = path("trace.json");
    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "-o", report, "--html", page, "--", "sh", "-c",
                                 "ps -ef | grep root | cut -b 1-20"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::ifstream in(report);
    const json doc = json::parse(in);
    const json view = open_in_browser(page, "html-trace.png");
    ASSERT_FALSE(view.empty());
    // One box per traced process, each process in exactly one box.
    std::multiset<std::string> boxed;
    for (const auto& n : view["nodes"]) {
        const std::string pids = n["pids"].get<std::string>();
        for (size_t at = 0, next; at <= pids.size(); at = next + 1) {
            next = pids.find(',', at);
            if (next == std::string::npos) next = pids.size();
            boxed.insert(pids.substr(at, next - at));
        }
    }
    std::multiset<std::string> traced;
    for (const auto& p : doc["processes"]) traced.insert(std::to_string(p["pid"].get<long>()));
    EXPECT_EQ(boxed, traced);
    const auto edges = edges_by_comm(view, comm_of_nodes(view));
    EXPECT_TRUE(edges.count("ps -> grep via pipe")) << view["edges"].dump();
    EXPECT_TRUE(edges.count("grep -> cut via pipe")) << view["edges"].dump();
    // The arrows carry what the JSON map's edges carried.
    uint64_t json_bytes = 0, drawn_bytes = 0;
    for (const auto& e : doc["map"]["edges"]) json_bytes += e["bytes"].get<uint64_t>();
    for (const auto& e : view["edges"]) drawn_bytes += e["bytes"].get<uint64_t>();
    EXPECT_EQ(drawn_bytes, json_bytes);
}

// A trace of a program that waits, passes descriptors and drives an io_uring: the page has a
// table for each, every number in it held to the document, and the document to the programs.
TEST_F(HtmlPage, TracePageShowsWaitsRingOperationsAndPassedDescriptors) {
    IPCTRACE_REQUIRE_ROOT();
    const std::string page = path("app-io.html"), report = path("app-io.json"), tally = path("tally");
    // One select returns a pipe ready, one times out with nothing ready; then the descriptors.
    const std::string waits = "import os, select, socket\n"
                              "r, w = os.pipe(); os.write(w, b'x'); select.select([r], [], [], 1); select.select([], [], [], 0.05)\n"
                              "a, b = socket.socketpair()\n"
                              "m = os.memfd_create('page')\n"
                              "if os.fork() == 0: socket.recv_fds(b, 1, 2); os._exit(0)\n"
                              "socket.send_fds(a, [b'x'], [m, r]); os.wait()\n";
    std::ofstream(path("app_io.py")) << waits;
    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "-o", report, "--html", page, "--", "sh", "-c",
                                 std::string(URING_PEER_BIN) + " 20 300 >" + tally + " && /usr/bin/python3 " + path("app_io.py")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::ifstream in(report);
    const json doc = json::parse(in);
    // The document against the programs: 20 ring reads of the pipe, 300 bytes each; two
    // descriptors sent, a memfd and a pipe; one wait ready on a pipe, one timeout.
    const json& read = doc["mechanisms"]["pipe"]["io_uring"]["read"];
    EXPECT_EQ(read["completed"].get<uint64_t>(), 20u) << read.dump();
    EXPECT_EQ(read["bytes_from_kernel"].get<uint64_t>(), 20u * 300) << read.dump();
    const json& passed = doc["mechanisms"]["unix_stream"]["fds_passed"];
    EXPECT_EQ(passed["sent_kinds"]["memfd"].get<uint64_t>(), 1u) << passed.dump();
    EXPECT_EQ(passed["sent_kinds"]["pipe"].get<uint64_t>(), 1u) << passed.dump();
    EXPECT_EQ(doc["mechanisms"]["pipe"]["ready_fds"].get<uint64_t>(), 1u);
    EXPECT_EQ(doc["waits"]["idle_timeouts"].get<uint64_t>(), 1u) << doc["waits"].dump();

    const json view = open_in_browser(page, "html-app-io.png");
    ASSERT_FALSE(view.empty());
    std::set<std::string> shown;
    for (const auto& p : view["shown"]) shown.insert(p.get<std::string>());
    for (const char* p : {"/waits/syscall_count", "/mechanisms/pipe/wait_ns", "/mechanisms/pipe/ready_fds", "/waits/idle_wait_ns",
                          "/waits/idle_timeouts", "/mechanisms/pipe/io_uring/read/completed", "/mechanisms/pipe/io_uring/read/bytes_from_kernel",
                          "/mechanisms/unix_stream/io_uring/send/submitted", "/mechanisms/unix_stream/fds_passed/sent",
                          "/mechanisms/unix_stream/fds_passed/sent_kinds/memfd", "/mechanisms/unix_stream/fds_passed/received_kinds/pipe"})
        EXPECT_TRUE(shown.count(p)) << p << " is not on the page";
    // The socket's arrow, parent -> child, says what went through it.
    bool passed_edge = false;
    for (const auto& e : view["edges"])
        passed_edge |= e["mechanism"] == "unix_stream" && e["label"].get<std::string>().find("passed fd: 2 descriptors") != std::string::npos;
    EXPECT_TRUE(passed_edge) << view["edges"].dump();
}

TEST_F(HtmlPage, ComparePageShowsEveryWorkloadTheChartAndTheVerdict) {
    IPCTRACE_REQUIRE_ROOT();
    const std::string page = path("compare.html");
    const CommandResult r = run({ipctrace_bin(), "compare", "pipe", "unix", "shm", "--sizes", "64,4K", "--count", "2000", "--repeat", "1",
                                 "--html", page});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json view = open_in_browser(page, "html-compare.png");
    ASSERT_FALSE(view.empty());
    std::ifstream in(page);
    const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const char* w : {"pipe", "unix", "shm"})
        EXPECT_NE(html.find(std::string("<tr data-workload=\"") + w + "\">"), std::string::npos) << w;
    EXPECT_NE(html.find("<svg"), std::string::npos) << "the sweep chart";
    EXPECT_NE(html.find("<h2>Verdict</h2>"), std::string::npos);
    // The per-message budget of each size as stacked bars, with its numbers (held to the JSON above).
    EXPECT_NE(html.find("<svg class=\"budget\""), std::string::npos) << "the budget's stacked bars";
    EXPECT_NE(html.find("/budget/parts/copy_calls_ns"), std::string::npos) << "the budget's numbers, marked";
}

}  // namespace
}  // namespace ipctrace::testing
