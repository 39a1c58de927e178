// Issue 16: the start-up path relocates against the build's minimal kernel BTF; any other
// kernel takes the full kernel BTF. Both must count the same: IPCTRACE_FULL_KERNEL_BTF=1 takes
// the full path here, and the workloads' own counts are the oracle of both.
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "schema_check.h"
#include "subprocess.h"
#include "temp_path.h"
#include "workload_check.h"

namespace ipctrace::testing {
namespace {

using nlohmann::json;

json run_with(const std::string& full_btf, const std::vector<std::string>& workload, std::string* err) {
    std::vector<std::string> argv = {"/usr/bin/env", "IPCTRACE_FULL_KERNEL_BTF=" + full_btf, ipctrace_bin(), "-v", "run"};
    argv.insert(argv.end(), workload.begin(), workload.end());
    argv.push_back("--json");
    const CommandResult r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    *err = r.err;
    return parse(r.out);
}

TEST(KernelBtf, MinimalAndFullKernelBtfCountTheSame) {
    IPCTRACE_REQUIRE_ROOT();
    // A pipe (fd classification) and POSIX shm (the fault path: mapped-file classification).
    for (const std::vector<std::string>& w : {std::vector<std::string>{"pipe", "--count", "2000", "--size", "100"},
                                              std::vector<std::string>{"posix-shm", "--count", "1000", "--size", "4K"}}) {
        std::string err_min, err_full;
        const json minimal = run_with("0", w, &err_min), full = run_with("1", w, &err_full);
        EXPECT_EQ(err_min.find("full kernel BTF"), std::string::npos) << "the build's kernel: the minimal BTF\n" << err_min;
        EXPECT_NE(err_full.find("full kernel BTF"), std::string::npos) << err_full;
        for (const json* report : {&minimal, &full}) {
            ASSERT_TRUE(report->contains("workload")) << w[0];
            EXPECT_TRUE((*report)["workload"]["ok"].get<bool>());
            EXPECT_EQ((*report)["lost_events"].get<unsigned long>(), 0u);
            expect_traced_equals_workload(*report);
        }
        // futex waits depend on timing; every other call is the workload's fixed count.
        auto fixed = [](const json& report) {
            auto calls = traced_calls(report);
            calls.erase("futex");
            return calls;
        };
        EXPECT_EQ(fixed(minimal), fixed(full)) << w[0];
        // Which mechanisms: the same, but for futex (a ring parks only when its peer is late).
        auto mechanisms = [](const json& report) {
            std::set<std::string> keys;
            for (const auto& [key, m] : report["mechanisms"].items())
                if (key != "futex") keys.insert(key);
            return keys;
        };
        EXPECT_EQ(mechanisms(minimal), mechanisms(full)) << w[0];
    }
}

}  // namespace
}  // namespace ipctrace::testing
