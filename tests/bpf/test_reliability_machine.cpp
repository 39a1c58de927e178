// Reliability: a machine that cannot trace (no BTF, no privileges).
// Issue 8 (tests/bpf/reliability_fixture.h: the fixture, and what "nothing left" means); docs/reliability.md
// lists each fault, its test and what ipctrace does.
#include "reliability_fixture.h"

namespace ipctrace::testing {
namespace {

// ---- the machine cannot trace ------------------------------------------------------------

// A kernel without BTF, simulated in a private mount namespace: an empty tmpfs over
// /sys/kernel/btf. The machine is untouched.
TEST_F(Reliability, MissingBtfIsOneClearLine) {
    char dir[] = "/tmp/ipctrace-test-btf-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string report = std::string(dir) + "/report.json";
    const CommandResult r = run({"unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                                 "mount -t tmpfs ipctrace-test-no-btf /sys/kernel/btf && exec \"$0\" run sem --count 10 --json -o \"$1\"",
                                 ipctrace_bin(), report});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err,
              "ipctrace: this kernel exposes no BTF (/sys/kernel/btf/vmlinux: No such file or directory); ipctrace needs a kernel "
              "built with CONFIG_DEBUG_INFO_BTF=y\n");
    EXPECT_EQ(r.out, "");
    struct stat st {};
    EXPECT_NE(lstat(report.c_str(), &st), 0) << "an empty report file was left behind";
    EXPECT_EQ(access("/sys/kernel/btf/vmlinux", R_OK), 0) << "the host's BTF must be untouched";
    run({"rm", "-rf", dir});
    expect_nothing_left();
}

TEST_F(Reliability, WithoutPrivilegesOneLineNamesTheMissingCapability) {
    const std::vector<std::string> nobody = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"};
    auto as = [&](std::vector<std::string> prefix, const std::vector<std::string>& args) {
        prefix.push_back(ipctrace_bin());
        prefix.insert(prefix.end(), args.begin(), args.end());
        return run(prefix);
    };
    const CommandResult traced = as(nobody, {"run", "sem", "--count", "10"});
    ASSERT_NE(traced.exit_code, 126) << "user nobody cannot execute " << ipctrace_bin() << " (a private build directory?)";
    EXPECT_EQ(traced.exit_code, 2) << traced.err;
    EXPECT_EQ(lines_of(traced.err).size(), 1u) << traced.err;
    EXPECT_NE(traced.err.find("missing: CAP_BPF and CAP_PERFMON"), std::string::npos) << traced.err;
    EXPECT_NE(traced.err.find("--no-trace"), std::string::npos) << traced.err;
    EXPECT_EQ(traced.out, "");

    const CommandResult baseline = as(nobody, {"run", "sem", "--count", "200", "--no-trace"});
    EXPECT_EQ(baseline.exit_code, 0) << baseline.err;
    EXPECT_NE(baseline.out.find("not traced"), std::string::npos) << baseline.out;

    // Root without CAP_BPF (nor CAP_SYS_ADMIN, which would do): the one missing is named.
    const CommandResult no_bpf =
        as({"setpriv", "--bounding-set=-bpf,-sys_admin", "--inh-caps=-all"}, {"compare", "pipe", "--count", "10"});
    EXPECT_EQ(no_bpf.exit_code, 2) << no_bpf.err;
    EXPECT_EQ(lines_of(no_bpf.err).size(), 1u) << no_bpf.err;
    EXPECT_NE(no_bpf.err.find("(missing: CAP_BPF)"), std::string::npos) << no_bpf.err;
    expect_nothing_left();
}

}  // namespace
}  // namespace ipctrace::testing
