// Issue 16: latency quantiles that can be trusted. timed_reads blocks in a pipe read for a
// known time (its writer sleeps before each write) and times every read with its own clock;
// ipctrace's p50 and p99 of those reads must be within 10 % of the program's own.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "schema_check.h"
#include "subprocess.h"
#include "temp_path.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;

struct Timed {
    long shorts, short_us, longs, long_us;
};

class QuantileAccuracy : public ::testing::TestWithParam<Timed> {};

TEST_P(QuantileAccuracy, P50AndP99AreWithinTenPercentOfTheProgramsOwnClock) {
    IPCTRACE_REQUIRE_ROOT();
    const Timed t = GetParam();
    TempPath out("quantiles");
    const CommandResult r = run({ipctrace_bin(), "trace", "--json", "-o", out.str(), "--", TIMED_READS_BIN, std::to_string(t.shorts),
                                 std::to_string(t.short_us), std::to_string(t.longs), std::to_string(t.long_us)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json oracle = json::parse(r.out);
    const json doc = parse(out.read());
    const json read = doc["mechanisms"]["pipe"]["syscalls"]["read"];
    ASSERT_EQ(read["count"], oracle["reads"]) << "every read traced, no other";
    for (const char* q : {"p50_ns", "p99_ns"}) {
        const double want = oracle[q].get<double>(), got = read[q].get<double>();
        EXPECT_LE(std::fabs(got - want), want * 0.10) << q << ": ipctrace " << got << " ns, the program's clock " << want << " ns";
    }
    // The buckets state the error: each non-empty one above 64 ns is at most 1/8 of its start wide.
    uint64_t calls = 0;
    for (const auto& b : read["latency_buckets"]) {
        const uint64_t from = b[0], to = b[1];
        if (from >= 64) {
            EXPECT_LE(to - from, from / 8);
        }
        calls += b[2].get<uint64_t>();
    }
    EXPECT_EQ(calls, read["count"].get<uint64_t>());
    const SchemaVerdict v = validate_file(out.str());
    EXPECT_TRUE(v.valid) << v.message;
}

// p50 from the short waits and p99 from the long ones; three scales, so the buckets differ.
INSTANTIATE_TEST_SUITE_P(KnownWaits, QuantileAccuracy,
                         ::testing::Values(Timed{180, 300, 20, 5000}, Timed{90, 2000, 10, 20000}, Timed{95, 700, 5, 60000}),
                         [](const ::testing::TestParamInfo<Timed>& info) {
                             return std::to_string(info.param.short_us) + "us_and_" + std::to_string(info.param.long_us) + "us";
                         });

}  // namespace
}  // namespace ipctrace::testing
