// memcpy bandwidth at one message size, the yardstick for the shm workload's throughput.
//
// The shm workload streams messages through a ring of slots in a shared segment: the
// producer writes a slot, the consumer reads it. Per message that is one write and one
// read of `size` bytes — the memory traffic of one memcpy. This program copies `size`
// bytes from a ring of `slots` buffers (the same ring as shm's: 8 slots) into one
// destination buffer, `count` times, on one CPU, and prints one JSON line:
//   {"size":65536,"slots":8,"count":8192,"bytes":536870912,"ns":123,"mib_s":4161.2}
// Built by bench/run.sh with g++ -O2. Usage: memcpy_bw SIZE COUNT [SLOTS]
#include <time.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

bool parse_u64(const char* text, uint64_t& out) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (errno || end == text || *end) return false;
    out = v;
    return true;
}

void* page_aligned(uint64_t bytes) {
    void* p = nullptr;
    if (posix_memalign(&p, 4096, bytes) != 0) return nullptr;
    std::memset(p, 0x5a, bytes);  // fault every page in before timing
    return p;
}

}  // namespace

int main(int argc, char** argv) {
    uint64_t size = 0, count = 0, slots = 8;
    if (argc < 3 || argc > 4 || !parse_u64(argv[1], size) || !parse_u64(argv[2], count) ||
        (argc == 4 && !parse_u64(argv[3], slots)) || size == 0 || count == 0 || slots == 0) {
        std::fprintf(stderr, "usage: memcpy_bw SIZE COUNT [SLOTS]  (bytes per copy, copies, ring slots; all > 0)\n");
        return 2;
    }
    auto* ring = static_cast<unsigned char*>(page_aligned(size * slots));
    auto* dst = static_cast<unsigned char*>(page_aligned(size));
    if (!ring || !dst) {
        std::fprintf(stderr, "memcpy_bw: cannot allocate %" PRIu64 " bytes\n", size * (slots + 1));
        return 1;
    }
    // One untimed pass over the ring: caches and TLB in the state the timed loop keeps them.
    for (uint64_t s = 0; s < slots; ++s) {
        std::memcpy(dst, ring + s * size, size);
        asm volatile("" : : "r"(dst) : "memory");
    }
    const uint64_t t0 = now_ns();
    for (uint64_t m = 0; m < count; ++m) {
        std::memcpy(dst, ring + (m % slots) * size, size);
        asm volatile("" : : "r"(dst) : "memory");  // the copy is observable: not elided
    }
    const uint64_t ns = now_ns() - t0;
    const uint64_t bytes = size * count;
    const double mib_s = ns ? static_cast<double>(bytes) / (static_cast<double>(ns) / 1e9) / 1048576.0 : 0.0;
    std::printf("{\"size\":%" PRIu64 ",\"slots\":%" PRIu64 ",\"count\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"ns\":%" PRIu64
                ",\"mib_s\":%.1f}\n",
                size, slots, count, bytes, ns, mib_s);
    std::free(ring);
    std::free(dst);
    return 0;
}
