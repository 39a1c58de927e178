// What the machine must offer before probes load: privileges, BTF; and the tracefs note.
#pragma once

#include <optional>
#include <string>

namespace ipctrace {

// A one-line error when this process may not load BPF programs, else nullopt.
std::optional<std::string> missing_bpf_privileges();
// A one-line error when the kernel has no BTF, else nullopt.
std::optional<std::string> missing_btf();
// tracefs is not needed (the probes are tp_btf); says so when it is not mounted, else nullopt.
std::optional<std::string> tracefs_note();

}  // namespace ipctrace
