// The kernel BTF the loader relocates against, and the kernel BTF ids the program needs.
//
// On the kernel the build ran on (same /sys/kernel/notes, which hold its build id, and same
// size of /sys/kernel/btf/vmlinux), the minimal BTF the build cut for the program (bpftool gen
// min_core_btf, cmake/gen_kernel_btf.sh: a few KiB) is handed to libbpf through a memfd, with
// the ids the build recorded: libbpf then never reads the kernel's 5+ MiB BTF. On any other
// kernel, the full kernel BTF is used, and the ids are looked up in it; IPCTRACE_FULL_KERNEL_BTF=1
// in the environment takes that path on any kernel.
#pragma once

#include <string>
#include <vector>

namespace ipctrace {

class KernelBtf {
public:
    // Throws TraceError when the kernel lacks what the program needs ("kernel BTF: …").
    explicit KernelBtf(bool verbose);
    ~KernelBtf();
    KernelBtf(const KernelBtf&) = delete;
    KernelBtf& operator=(const KernelBtf&) = delete;

    // bpf_object_open_opts.btf_custom_path: the minimal BTF, or nullptr for the kernel's own.
    const char* custom_path() const { return fd_ >= 0 ? path_.c_str() : nullptr; }
    bool minimal() const { return fd_ >= 0; }
    unsigned rdonly_cast_id() const { return rdonly_cast_id_; }
    // The kernel BTF id of `struct name` (a kernel_types.def entry).
    unsigned type_id(const std::string& name) const;

    // Registers, once per process, libbpf's handler of the program's SEC("raw_tp/…"): it writes
    // the kfunc id into the program's bpf_rdonly_cast calls before each load (bpf/task.h) and
    // attaches the program to its raw tracepoint.
    static void register_section_handler();
    // The id the handler writes; set before load.
    static void set_load_ids(unsigned rdonly_cast_id);

private:
    int fd_ = -1;
    std::string path_;
    unsigned rdonly_cast_id_ = 0;
    std::vector<std::pair<std::string, unsigned>> type_ids_;
};

}  // namespace ipctrace
