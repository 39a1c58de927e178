// What the machine must offer before the probes load. A kernel without BTF cannot be made
// on a test machine, so check_kernel_btf() takes the path it checks; the end-to-end case (a mount
// namespace that hides /sys/kernel/btf) is Reliability.MissingBtfIsOneClearLine.
#include <gtest/gtest.h>
#include <unistd.h>


#include "collect/system_checks.h"

namespace ipctrace {
namespace {

TEST(MissingBtf, NamesThePathAndTheKernelOption) {
    const auto st = check_kernel_btf("/nonexistent/ipctrace-test/vmlinux");
    ASSERT_FALSE(st.ok());
    const std::string& err = st.error();
    EXPECT_NE(err.find("no BTF"), std::string::npos) << err;
    EXPECT_NE(err.find("/nonexistent/ipctrace-test/vmlinux"), std::string::npos) << err;
    EXPECT_NE(err.find("No such file or directory"), std::string::npos) << err;
    EXPECT_NE(err.find("CONFIG_DEBUG_INFO_BTF=y"), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), std::string::npos);
}

TEST(MissingBtf, AReadableFileIsEnough) {
    char path[] = "/tmp/ipctrace-test-btf-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    EXPECT_TRUE(check_kernel_btf(path).ok());
    unlink(path);
}

TEST(MissingBtf, TheDefaultIsTheKernelsOwn) {
    EXPECT_STREQ(kVmlinuxBtf, "/sys/kernel/btf/vmlinux");
    if (access(kVmlinuxBtf, R_OK) != 0) GTEST_SKIP() << "this kernel has no BTF";
    EXPECT_TRUE(check_kernel_btf().ok());
}

}  // namespace
}  // namespace ipctrace
