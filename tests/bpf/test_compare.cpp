// Issue 4: a small real comparison, traced, with the copy figures that explain it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "subprocess.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;

TEST(Compare, ShmAgainstUnixAtTwoSizes) {
    IPCTRACE_REQUIRE_ROOT();
    const std::string svg = "/tmp/ipctrace-compare-test.svg";
    const CommandResult r = run({ipctrace_bin(), "compare", "shm", "unix", "--sizes", "256,64K", "--bytes", "8M", "--repeat", "1",
                                 "--json", "--svg", svg});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << r.out.substr(0, 300);
    EXPECT_EQ(doc["mode"], "compare");
    ASSERT_EQ(doc["results"].size(), 2u);
    for (const auto& result : doc["results"]) {
        ASSERT_EQ(result["rows"].size(), 2u);
        for (const auto& row : result["rows"]) {
            const double copies = row["copies_per_payload_byte"].get<double>();
            if (row["workload"] == "shm") {
                EXPECT_EQ(copies, 0.0);
            } else {  // unix: every payload byte goes into the kernel and out again
                EXPECT_GE(copies, 2.0 - 1e-9);
            }
            EXPECT_TRUE(row["ok"].get<bool>());
            EXPECT_GT(row["throughput_mib_s"].get<double>(), 0);
        }
        EXPECT_FALSE(result["verdict"].empty());
    }
    EXPECT_EQ(doc["runs"].size(), 4u);  // 2 workloads x 2 sizes x 1 repeat, each a full report
    EXPECT_EQ(doc["runs"][0]["mode"], "run");

    // A well-formed SVG, as an XML parser sees it.
    const CommandResult lint = run({"xmllint", "--noout", svg});
    EXPECT_EQ(lint.exit_code, 0) << lint.err;
    std::ifstream in(svg);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(text.find("<polyline"), std::string::npos);
    unlink(svg.c_str());
}

TEST(Compare, BadInput) {
    for (const auto& args : std::vector<std::vector<std::string>>{{"compare", "sem"},
                                                                    {"compare", "nosuch"},
                                                                    {"compare", "--size", "4K", "--sizes", "1K,2K"},
                                                                    {"compare", "--bytes", "1M", "--count", "10"},
                                                                    {"compare", "msgq", "--size", "1M"},
                                                                    {"compare", "--repeat", "0"}}) {
        std::vector<std::string> argv = {ipctrace_bin()};
        argv.insert(argv.end(), args.begin(), args.end());
        const CommandResult r = run(argv);
        EXPECT_EQ(r.exit_code, 2) << args[1] << ": " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}

}  // namespace
}  // namespace ipctrace::testing
