#include "common/mechanisms.h"

#include <sys/syscall.h>

#include <iterator>

namespace ipctrace {
namespace {

struct MechanismRow {
    std::string_view key;
    bool ipc;
};

// Indexed by enum ipc_mechanism: the same rows, in the same order, generate it.
constexpr MechanismRow kMechanisms[] = {
#define IPC_MECHANISM(id, key, is_ipc) {key, is_ipc != 0},
#include "mechanisms.def"
#undef IPC_MECHANISM
};
static_assert(std::size(kMechanisms) == MECH_COUNT);

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

struct UringOpRow {
    std::string_view key;
    unsigned opcode;
};

constexpr UringOpRow kUringOps[] = {
#define IO_URING_OP(key, opcode, bytes, on_file) {key, opcode},
#include "io_uring_ops.def"
#undef IO_URING_OP
};

}  // namespace

std::string_view fd_kind_key(unsigned kind) {
    static constexpr std::string_view keys[] = {
#define IPC_FD_KIND(id, key) key,
#include "fd_kinds.def"
#undef IPC_FD_KIND
    };
    static_assert(std::size(keys) == FD_KIND_COUNT);
    return kind < FD_KIND_COUNT ? keys[kind] : "other";
}

std::string uring_op_name(unsigned opcode) {
    for (const auto& row : kUringOps)
        if (row.opcode == opcode) return std::string(row.key);
    return "op_" + std::to_string(opcode);
}

std::string_view mechanism_key(Mechanism m) {
    return static_cast<unsigned>(m) < MECH_COUNT ? kMechanisms[m].key : kMechanisms[MECH_NONE].key;
}

std::optional<Mechanism> mechanism_from_key(std::string_view key) {
    for (unsigned i = 0; i < MECH_COUNT; ++i)
        if (kMechanisms[i].key == key) return static_cast<Mechanism>(i);
    return std::nullopt;
}

bool is_ipc(Mechanism m) { return static_cast<unsigned>(m) < MECH_COUNT && kMechanisms[m].ipc; }

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
