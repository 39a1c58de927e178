#include "common/mechanisms.h"

#include <sys/syscall.h>

#include <array>

namespace ipctrace {
namespace {

constexpr std::array<std::string_view, MECH_COUNT> kMechanismKeys = {
    "other",       "sysv_shm",    "sysv_sem", "sysv_msg", "posix_shm", "mmap_file",
    "mmap_anon",   "posix_mq",    "futex",    "pipe",     "fifo",      "unix_stream",
    "unix_dgram",  "tcp",         "udp",      "eventfd",  "signal",    "file",
};

struct SyscallRow {
    std::string_view name;
    unsigned nr;
    syscall_rule rule;
};

constexpr SyscallRow kSyscalls[] = {
#define IPC_SYSCALL(name, nr, classify, mechanism, bytes, arg, object) \
    {#name, nr, {classify, mechanism, bytes, arg, object}},
#include "syscall_table.h"
#undef IPC_SYSCALL
};

// The table's numbers are x86_64's; the C library's headers must agree with every one.
#define IPC_SYSCALL(name, nr, classify, mechanism, bytes, arg, object) \
    static_assert(SYS_##name == (nr), "syscall_table.h: wrong number for " #name);
#include "syscall_table.h"
#undef IPC_SYSCALL

}  // namespace

std::string_view mechanism_key(Mechanism m) {
    return static_cast<unsigned>(m) < kMechanismKeys.size() ? kMechanismKeys[m] : "other";
}

std::optional<Mechanism> mechanism_from_key(std::string_view key) {
    for (unsigned i = 0; i < kMechanismKeys.size(); ++i)
        if (kMechanismKeys[i] == key) return static_cast<Mechanism>(i);
    return std::nullopt;
}

bool is_ipc(Mechanism m) { return m != MECH_NONE && m != MECH_FILE && m < MECH_COUNT; }

std::string_view syscall_name(unsigned nr) {
    for (const auto& row : kSyscalls)
        if (row.nr == nr) return row.name;
    return "";
}

std::optional<unsigned> syscall_number(std::string_view name) {
    for (const auto& row : kSyscalls)
        if (row.name == name) return row.nr;
    return std::nullopt;
}

std::optional<syscall_rule> syscall_rule_of(unsigned nr) {
    for (const auto& row : kSyscalls)
        if (row.nr == nr) return row.rule;
    return std::nullopt;
}

}  // namespace ipctrace
