#include "probe/kernel_btf.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "ipctrace.h"
#include "ipctrace.kernel_btf.h"
#include "probe/tracer.h"

namespace ipctrace {
namespace {

constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";
std::atomic<unsigned> g_rdonly_cast_id{0};

// The kernel the build cut the minimal BTF from: same notes (build id) and BTF size.
bool same_kernel_as_build() {
    using namespace generated;
    if (kMinBtfSize == 0) return false;
    struct stat st{};
    if (stat(kVmlinuxBtf, &st) != 0 || static_cast<unsigned long long>(st.st_size) != kKernelBtfSize) return false;
    const int fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    std::vector<unsigned char> notes(kKernelNotesSize + 1);
    size_t got = 0;
    for (ssize_t n; got < notes.size() && (n = read(fd, notes.data() + got, notes.size() - got)) > 0;) got += n;
    close(fd);
    return got == kKernelNotesSize && std::memcmp(notes.data(), kKernelNotes, got) == 0;
}

int patch_kfunc_calls(bpf_program* prog, bpf_prog_load_opts*, long) {
    const unsigned id = g_rdonly_cast_id.load();
    const bpf_insn* insns = bpf_program__insns(prog);
    const size_t count = bpf_program__insn_cnt(prog);
    std::vector<bpf_insn> patched(insns, insns + count);
    bool changed = false;
    for (auto& insn : patched) {
        if (insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == BPF_PSEUDO_KFUNC_CALL &&
            insn.imm == IPC_KFUNC_RDONLY_CAST_MARK) {
            if (id == 0) return -ENOENT;
            insn.imm = static_cast<int>(id);
            changed = true;
        }
    }
    return changed ? bpf_program__set_insns(prog, patched.data(), patched.size()) : 0;
}

int attach_raw_tp(const bpf_program* prog, long, bpf_link** link) {
    const char* name = std::strchr(bpf_program__section_name(prog), '/');
    *link = bpf_program__attach_raw_tracepoint(prog, name ? name + 1 : "");
    return *link ? 0 : -errno;
}

}  // namespace

void KernelBtf::register_section_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        LIBBPF_OPTS(libbpf_prog_handler_opts, opts, .prog_prepare_load_fn = patch_kfunc_calls,
                    .prog_attach_fn = attach_raw_tp);
        if (libbpf_register_prog_handler("raw_tp/", BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_TRACE_RAW_TP, &opts) < 0)
            throw TraceError(std::string("register the raw_tp section handler: ") + std::strerror(errno));
    });
}

void KernelBtf::set_load_ids(unsigned rdonly_cast_id) { g_rdonly_cast_id = rdonly_cast_id; }

KernelBtf::KernelBtf(bool verbose) {
    using namespace generated;
    // IPCTRACE_FULL_KERNEL_BTF=1: the other kernel's path on this one (tests, the bench).
    const char* force_full = std::getenv("IPCTRACE_FULL_KERNEL_BTF");
    if (!(force_full && *force_full && std::strcmp(force_full, "0") != 0) && same_kernel_as_build()) {
        fd_ = memfd_create("ipctrace-min-btf", MFD_CLOEXEC);
        if (fd_ >= 0 && write(fd_, kMinBtf, kMinBtfSize) == static_cast<ssize_t>(kMinBtfSize)) {
            path_ = "/proc/self/fd/" + std::to_string(fd_);
            rdonly_cast_id_ = kRdonlyCastId;
            for (size_t i = 0; i < kKernelTypeIdsSize; ++i) type_ids_.emplace_back(kKernelTypeIds[i].name, kKernelTypeIds[i].id);
            return;
        }
        if (fd_ >= 0) close(fd_);
        fd_ = -1;
    }
    if (verbose) std::fprintf(stderr, "ipctrace: not the build's kernel: relocating against the full kernel BTF\n");
    // The full kernel BTF: the ids from it (libbpf loads it again for the relocations).
    btf* kernel = btf__load_vmlinux_btf();
    if (!kernel) throw TraceError(std::string("kernel BTF: load ") + kVmlinuxBtf + ": " + std::strerror(errno));
    const int cast = btf__find_by_name_kind(kernel, "bpf_rdonly_cast", BTF_KIND_FUNC);
    if (cast <= 0) {
        btf__free(kernel);
        throw TraceError("kernel BTF: no bpf_rdonly_cast kfunc (Linux 6.2 or later is needed)");
    }
    rdonly_cast_id_ = static_cast<unsigned>(cast);
#define KERNEL_TYPE(name)                                                                              \
    if (int id = btf__find_by_name_kind(kernel, #name, BTF_KIND_STRUCT); id > 0) {                     \
        type_ids_.emplace_back(#name, static_cast<unsigned>(id));                                      \
    } else {                                                                                           \
        btf__free(kernel);                                                                             \
        throw TraceError("kernel BTF: no struct " #name);                                              \
    }
#include "kernel_types.def"
#undef KERNEL_TYPE
    btf__free(kernel);
}

KernelBtf::~KernelBtf() {
    if (fd_ >= 0) close(fd_);
}

unsigned KernelBtf::type_id(const std::string& name) const {
    for (const auto& [n, id] : type_ids_)
        if (n == name) return id;
    return 0;
}

}  // namespace ipctrace
