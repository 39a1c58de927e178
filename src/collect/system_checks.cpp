#include "collect/system_checks.h"

#include <linux/capability.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace ipctrace {
namespace {

constexpr unsigned kCapSysAdmin = 21;
constexpr unsigned kCapPerfmon = 38;
constexpr unsigned kCapBpf = 39;
constexpr long kTracefsMagic = 0x74726163;

bool has_capability(const __user_cap_data_struct (&data)[2], unsigned cap) {
    return (data[cap / 32].effective >> (cap % 32)) & 1u;
}

}  // namespace

Status check_bpf_privileges() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capget, &header, data) != 0) return {};  // let the load itself fail with errno
    if (has_capability(data, kCapSysAdmin)) return {};
    std::vector<std::string> missing;
    if (!has_capability(data, kCapBpf)) missing.push_back("CAP_BPF");
    if (!has_capability(data, kCapPerfmon)) missing.push_back("CAP_PERFMON");
    if (missing.empty()) return {};
    std::string list = missing[0] + (missing.size() > 1 ? " and " + missing[1] : "");
    return unexpected("tracing needs root, or CAP_BPF and CAP_PERFMON (missing: " + list +
                      "); run it with sudo, or add --no-trace to run the workload alone");
}

Status check_kernel_btf(const std::string& vmlinux_btf) {
    if (access(vmlinux_btf.c_str(), R_OK) == 0) return {};
    return unexpected("this kernel exposes no BTF (" + vmlinux_btf + ": " + std::strerror(errno) +
                      "); ipctrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y");
}

std::optional<std::string> tracefs_note() {
    for (const char* path : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
        struct statfs fs {};
        if (statfs(path, &fs) == 0 && fs.f_type == kTracefsMagic) return std::nullopt;
    }
    return "tracefs is not mounted; not needed: the probes attach as raw tracepoints (raw_tp), left unmounted";
}

}  // namespace ipctrace
