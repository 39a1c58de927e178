// Names for the shared enums of bpf/ipctrace.h, from its tables: bpf/mechanisms.def (JSON
// keys, which are IPC) and bpf/syscall_table.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>

extern "C" {
#include "ipctrace.h"
}

namespace ipctrace {

using Mechanism = enum ipc_mechanism;

// JSON key of a mechanism ("sysv_shm", …); MECH_NONE is "other".
std::string_view mechanism_key(Mechanism m);
std::optional<Mechanism> mechanism_from_key(std::string_view key);
// Mechanisms that are IPC proper (mechanisms.def); MECH_NONE and MECH_FILE (regular file
// I/O) are reported apart.
bool is_ipc(Mechanism m);

// JSON key of a passed descriptor's kind (bpf/fd_kinds.def): "memfd", "pipe", …
std::string_view fd_kind_key(unsigned kind);

// Syscall name for a traced syscall number, "" if the number is not in the table.
std::string_view syscall_name(unsigned nr);
std::optional<unsigned> syscall_number(std::string_view name);
// The table row of a traced syscall, nullopt if not traced.
std::optional<syscall_rule> syscall_rule_of(unsigned nr);

// The JSON key of an io_uring opcode (bpf/io_uring_ops.def), "op_N" for one it has no name for.
std::string uring_op_name(unsigned opcode);

}  // namespace ipctrace
