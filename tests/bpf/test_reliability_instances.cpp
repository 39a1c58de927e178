// Reliability: two ipctrace instances at once.
// Issue 8 (tests/bpf/reliability_fixture.h: the fixture, and what "nothing left" means); docs/reliability.md
// lists each fault, its test and what ipctrace does.
#include "reliability_fixture.h"

namespace ipctrace::testing {
namespace {

// ---- two instances at once ---------------------------------------------------------------------

TEST_F(Reliability, TwoInstancesAtOnceEachCountOnlyTheirOwnWorkload) {
    for (const auto& [first, second] : std::vector<std::pair<std::string, std::string>>{{"msgq", "unix"}, {"msgq", "msgq"}}) {
        SCOPED_TRACE(first + " and " + second);
        Background& a = start({"run", first, "--count", "100k", "--size", "256", "--json"});
        Background& b = start({"run", second, "--count", "100k", "--size", "256", "--json"});
        // Both trace at the same time: each one's roles appear while the other's run.
        ASSERT_TRUE(wait_for_roles(a, 2)) << a.err();
        ASSERT_TRUE(wait_for_roles(b, 2)) << b.err();
        EXPECT_TRUE(a.running() || b.running());
        ASSERT_TRUE(wait_for_exit(a));
        ASSERT_TRUE(wait_for_exit(b));
        for (Background* x : {&a, &b}) {
            ASSERT_TRUE(WIFEXITED(x->status()) && WEXITSTATUS(x->status()) == 0) << describe_status(x->status()) << x->err();
            const json doc = json::parse(x->out(), nullptr, false);
            ASSERT_FALSE(doc.is_discarded());
            const std::string w = doc["workload"]["name"].get<std::string>();
            EXPECT_TRUE(doc["workload"]["ok"].get<bool>());
            EXPECT_EQ(doc["lost_events"].get<unsigned long>(), 0u);
            expect_traced_equals_workload(doc);
            expect_mechanisms(doc, {w == "msgq" ? "sysv_msg" : "unix_stream"});
        }
    }
    expect_nothing_left();
}

}  // namespace
}  // namespace ipctrace::testing
