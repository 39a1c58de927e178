// What the machine must offer before probes load: privileges, BTF; and the tracefs note.
#pragma once

#include <optional>
#include <string>

#include "common/expected.h"

namespace ipctrace {

// The one-line error when this process may not load BPF programs.
Status check_bpf_privileges();
// Where the kernel exposes its own BTF, which the probes are relocated and verified against.
inline constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";
// The one-line error when the kernel has no BTF (`vmlinux_btf` is not readable).
Status check_kernel_btf(const std::string& vmlinux_btf = kVmlinuxBtf);
// tracefs is not needed (the probes are raw_tp); says so when it is not mounted, else nullopt.
std::optional<std::string> tracefs_note();

}  // namespace ipctrace
