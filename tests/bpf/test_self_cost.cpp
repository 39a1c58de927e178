// --self-cost: the kernel's own accounting of what each probe cost.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "subprocess.h"

namespace ipctrace::testing {
namespace {

TEST(SelfCost, EveryProbeReportsItsRunsAndTime) {
    IPCTRACE_REQUIRE_ROOT();
    const CommandResult r = run({ipctrace_bin(), "run", "msgq", "--count", "2000", "--json", "--self-cost"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto doc = nlohmann::json::parse(r.out);
    std::map<std::string, nlohmann::json> by_name;
    for (const auto& c : doc["self_cost"]) by_name[c["program"]] = c;
    for (const char* probe : {"on_sys_enter", "on_sys_exit", "on_page_fault", "on_fork", "on_exit"})
        ASSERT_TRUE(by_name.count(probe)) << probe;
    // sched_switch serves compare's budget only: run does not even load it.
    EXPECT_FALSE(by_name.count("on_sched_switch"));
    // Every traced msgsnd/msgrcv went through both syscall probes at least once.
    const auto traced = doc["mechanisms"]["sysv_msg"]["syscall_count"].get<unsigned long>();
    EXPECT_GE(by_name["on_sys_enter"]["runs"].get<unsigned long>(), traced);
    EXPECT_GE(by_name["on_sys_exit"]["runs"].get<unsigned long>(), traced);
    EXPECT_GT(by_name["on_sys_enter"]["run_time_ns"].get<unsigned long>(), 0u);
    EXPECT_GT(by_name["on_sys_enter"]["ns_per_run"].get<double>(), 0.0);
}

TEST(SelfCost, CannotGoWithNoTrace) {
    const CommandResult r = run({ipctrace_bin(), "run", "msgq", "--no-trace", "--self-cost"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--self-cost"), std::string::npos);
}

}  // namespace
}  // namespace ipctrace::testing
