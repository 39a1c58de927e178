#pragma once

#include <cstddef>

namespace ipctrace {

// While alive, the heap holds `bytes` of memory already faulted in, and large allocations
// come from it instead of fresh mmaps. libbpf reads the kernel's BTF (5+ MiB) into a buffer
// and copies it: faulted in one page at a time, that was ~2700 faults, 30 ms of start-up on
// a VM where a fault costs ~12 µs; one MADV_POPULATE_WRITE does the same in 2-4 ms.
// Only for the full kernel BTF (a kernel other than the build's, see kernel_btf.h): the
// minimal BTF is a few KiB. Destruction restores malloc's defaults and returns the memory, so a long trace does not
// keep it. Best effort: on a kernel without MADV_POPULATE_WRITE (< 5.14) it does nothing.
class HeapPrefault {
public:
    explicit HeapPrefault(std::size_t bytes);
    ~HeapPrefault();
    HeapPrefault(const HeapPrefault&) = delete;
    HeapPrefault& operator=(const HeapPrefault&) = delete;

    // Room for libbpf's load of the kernel BTF: the file read once, copied once, parsed.
    static std::size_t for_kernel_btf();

private:
    bool active_ = false;
};

}  // namespace ipctrace
