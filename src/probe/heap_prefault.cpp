#include "probe/heap_prefault.h"

#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace ipctrace {
namespace {
// glibc's defaults (malloc(3)): restored so the process returns to dynamic thresholds' sizes.
constexpr int kDefaultMmapThreshold = 128 * 1024;
constexpr int kDefaultTrimThreshold = 128 * 1024;
}  // namespace

std::size_t HeapPrefault::for_kernel_btf() {
    struct stat st{};
    if (stat("/sys/kernel/btf/vmlinux", &st) != 0 || st.st_size <= 0) return 0;
    return 2 * static_cast<std::size_t>(st.st_size) + 512 * 1024;
}

HeapPrefault::HeapPrefault(std::size_t bytes) {
    if (bytes == 0 || bytes > (256u << 20)) return;
    // Keep large blocks in the heap (not mmapped, not trimmed on free) for the load.
    mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes) + (1 << 20));
    mallopt(M_TRIM_THRESHOLD, static_cast<int>(bytes) + (1 << 20));
    active_ = true;
    void* block = std::malloc(bytes);
    if (!block) return;
    const long page = sysconf(_SC_PAGESIZE);
    const auto mask = ~static_cast<std::uintptr_t>(page - 1);
    const auto begin = (reinterpret_cast<std::uintptr_t>(block) + page - 1) & mask;
    const auto end = (reinterpret_cast<std::uintptr_t>(block) + bytes) & mask;
    if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
    std::free(block);  // merges into the heap's top: the next large mallocs reuse these pages
}

HeapPrefault::~HeapPrefault() {
    if (!active_) return;
    mallopt(M_MMAP_THRESHOLD, kDefaultMmapThreshold);
    mallopt(M_TRIM_THRESHOLD, kDefaultTrimThreshold);
    malloc_trim(0);
}

}  // namespace ipctrace
