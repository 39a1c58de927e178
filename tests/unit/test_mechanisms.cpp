#include <gtest/gtest.h>

#include <set>

#include "common/mechanisms.h"

namespace ipctrace {
namespace {

TEST(Mechanisms, KeysRoundTripAndAreUnique) {
    std::set<std::string_view> keys;
    for (int m = 0; m < MECH_COUNT; ++m) {
        const auto key = mechanism_key(static_cast<Mechanism>(m));
        EXPECT_TRUE(keys.insert(key).second) << key;
        EXPECT_EQ(mechanism_from_key(key), static_cast<Mechanism>(m));
    }
    EXPECT_EQ(mechanism_key(MECH_SYSV_SHM), "sysv_shm");
    EXPECT_EQ(mechanism_key(MECH_UNIX_STREAM), "unix_stream");
    EXPECT_FALSE(mechanism_from_key("nonsense"));
}

TEST(Mechanisms, FileIoAndOtherAreNotIpc) {
    EXPECT_FALSE(is_ipc(MECH_NONE));
    EXPECT_FALSE(is_ipc(MECH_FILE));
    EXPECT_TRUE(is_ipc(MECH_PIPE));
    EXPECT_TRUE(is_ipc(MECH_SYSV_SEM));
}

TEST(SyscallTable, SysvFamilyIsFixedToItsMechanism) {
    const std::pair<const char*, Mechanism> expected[] = {
        {"shmget", MECH_SYSV_SHM}, {"shmat", MECH_SYSV_SHM},     {"shmdt", MECH_SYSV_SHM}, {"shmctl", MECH_SYSV_SHM},
        {"semget", MECH_SYSV_SEM}, {"semop", MECH_SYSV_SEM},     {"semtimedop", MECH_SYSV_SEM}, {"semctl", MECH_SYSV_SEM},
        {"msgget", MECH_SYSV_MSG}, {"msgsnd", MECH_SYSV_MSG},    {"msgrcv", MECH_SYSV_MSG}, {"msgctl", MECH_SYSV_MSG},
    };
    for (const auto& [name, mech] : expected) {
        const auto nr = syscall_number(name);
        ASSERT_TRUE(nr) << name;
        EXPECT_EQ(syscall_name(*nr), name);
        const auto rule = syscall_rule_of(*nr);
        ASSERT_TRUE(rule);
        EXPECT_EQ(rule->classify, CLS_FIXED) << name;
        EXPECT_EQ(rule->mechanism, mech) << name;
    }
}

TEST(SyscallTable, BytesRules) {
    EXPECT_EQ(syscall_rule_of(*syscall_number("msgsnd"))->bytes, BYTES_ARG_IN);
    EXPECT_EQ(syscall_rule_of(*syscall_number("msgsnd"))->arg, 2);  // msgsz
    EXPECT_EQ(syscall_rule_of(*syscall_number("msgrcv"))->bytes, BYTES_RET_OUT);
    EXPECT_EQ(syscall_rule_of(*syscall_number("write"))->bytes, BYTES_RET_IN);
    EXPECT_EQ(syscall_rule_of(*syscall_number("read"))->classify, CLS_FD);
    EXPECT_EQ(syscall_rule_of(*syscall_number("splice"))->bytes, BYTES_RET_ZERO);
    EXPECT_FALSE(syscall_rule_of(231));  // exit_group is not traced
    EXPECT_EQ(syscall_name(231), "");
}

TEST(SyscallTable, NumbersFitTheKernelRuleArray) {
    for (unsigned nr = 0; nr < 1024; ++nr) {
        if (syscall_rule_of(nr)) {
            EXPECT_LT(nr, static_cast<unsigned>(IPC_MAX_SYSCALL_NR)) << syscall_name(nr);
        }
    }
}

}  // namespace
}  // namespace ipctrace
