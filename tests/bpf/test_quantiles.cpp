// Issue 16: latency quantiles that can be trusted. The oracle is read_latency: pipe reads that
// each wait for a writer sleeping a fixed time, timed by the program's own clock around the
// call. ipctrace's p50 and p99 of those reads (the midpoint of the log-linear bucket the
// quantile falls in) must be within 10 % of the program's own, and the bucket it states must
// hold the program's figure, give or take the clock reads around the call.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "schema_check.h"
#include "subprocess.h"
#include "temp_path.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;

struct Oracle {
    long long p50_ns = 0, p99_ns = 0;
};

Oracle read_oracle(const std::string& text) {
    Oracle o;
    std::istringstream in(text);
    in >> o.p50_ns >> o.p99_ns;
    return o;
}

void expect_quantiles_match(long reads, long long sleep_ns) {
    TempPath out("quantiles"), oracle_file("quantiles-oracle");
    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "-o", out.str(), "--", READ_LATENCY_BIN,
                                 std::to_string(reads), std::to_string(sleep_ns), oracle_file.str()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json doc = parse(out.read());
    const Oracle oracle = read_oracle(oracle_file.read());
    ASSERT_GT(oracle.p50_ns, sleep_ns / 2) << "the reads waited for the writer";
    const json& read = doc["mechanisms"]["pipe"]["syscalls"]["read"];
    ASSERT_EQ(read["count"].get<long>(), reads) << "every read of the program, and only those";
    for (const auto& [name, want] : {std::pair{"p50", oracle.p50_ns}, std::pair{"p99", oracle.p99_ns}}) {
        const double got = read[std::string(name) + "_ns"].get<double>();
        EXPECT_NEAR(got, static_cast<double>(want), 0.10 * static_cast<double>(want))
            << name << ": ipctrace " << got << " ns, the program's clock " << want << " ns";
        const json& bucket = read[std::string(name) + "_bucket_ns"];
        // The program's clock brackets the call, so it reads a little more than the kernel's.
        const double slack = 0.02 * static_cast<double>(want) + 20'000;
        EXPECT_LE(bucket[0].get<double>(), static_cast<double>(want) + 1) << name << " bucket " << bucket.dump();
        EXPECT_GT(bucket[1].get<double>() + slack, static_cast<double>(want)) << name << " bucket " << bucket.dump();
        EXPECT_LE((bucket[1].get<double>() - bucket[0].get<double>()) * 8, bucket[0].get<double>()) << "at most 1/8 wide";
    }
}

TEST(Quantiles, PipeReadWaitingForASleepingWriterMatchesTheProgramsClock) {
    IPCTRACE_REQUIRE_ROOT();
    expect_quantiles_match(200, 2'000'000);  // 2 ms
}

TEST(Quantiles, ShortWaitsToo) {
    IPCTRACE_REQUIRE_ROOT();
    expect_quantiles_match(300, 200'000);  // 200 µs
}

}  // namespace
}  // namespace ipctrace::testing
