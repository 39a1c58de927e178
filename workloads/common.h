// Helpers shared by every workload role: counted syscalls, the payload pattern,
// syscall-free spin waits, the clock and a fixed-size latency histogram.
//
// Rules for role code (it runs while the tracer watches):
//  - every IPC syscall goes through counted()/counted_retry(), so RoleResult::ops is exact;
//  - no allocation, no stdio, no exit(): buffers come from scratch(), errors are thrown
//    (the harness records the text) or set with set_error();
//  - verified starts at 1 (set by the harness) and is cleared by verify() on a mismatch.
#pragma once

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <type_traits>

#include "workload.h"

namespace ipctrace::workloads {

// ---- counted syscalls -------------------------------------------------------------

namespace detail {
template <class T>
long as_arg(T v) {
    // syscall() reads every argument as a long: widen explicitly so that ints like -1
    // or unsigned flags arrive sign/zero-extended exactly as the kernel expects.
    if constexpr (std::is_null_pointer_v<T>) return 0;
    else if constexpr (std::is_pointer_v<T>) return reinterpret_cast<long>(v);
    else return static_cast<long>(v);
}
}  // namespace detail

// Makes syscall `nr` and counts it under the number the kernel sees, failed or not.
template <class... A>
long counted(RoleResult& r, long nr, A... args) {
    static_assert(sizeof...(A) <= 6, "a syscall takes at most 6 arguments");
    if (nr >= 0 && nr < kMaxSyscallNr) ++r.ops[nr];
    return ::syscall(nr, detail::as_arg(args)...);
}

// Same, retrying on EINTR; every attempt is a syscall the tracer sees, so each counts.
template <class... A>
long counted_retry(RoleResult& r, long nr, A... args) {
    long rc;
    do rc = counted(r, nr, args...);
    while (rc == -1 && errno == EINTR);
    return rc;
}

// Marks syscall `nr` as made but not countable by this role (e.g. glibc's sem_t futexes).
void mark_uncounted(RoleResult& r, int nr);

// Throws std::runtime_error("<what>: <strerror(errno)>"); the harness records the text.
[[noreturn]] void throw_errno(const char* what);
[[noreturn]] void throw_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// Records the first error of a role (later ones are dropped); never allocates.
void set_error(RoleResult& r, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// ---- payload pattern --------------------------------------------------------------

// Message m's payload is the 64-bit little-endian words w_i = seed(m) + i * K, so every
// byte is derivable from (m, offset) and a misplaced word or message shows up.
// Replies in ping-pong use reply_id(m) so they can never be mistaken for the request.
constexpr uint64_t reply_id(uint64_t m) { return m | (uint64_t{1} << 63); }
void fill(void* dst, uint64_t size, uint64_t msg);
// Checks every byte; on the first mismatch clears r.verified, records
// "message 17 byte 4096: expected 0x.., got 0x.." and returns false.
bool verify(const void* src, uint64_t size, uint64_t msg, RoleResult& r);

// ---- waiting without syscalls -------------------------------------------------------

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// Spins until pred() holds. Only sched_yield() every ~1000 rounds (not traced as IPC),
// so waiting on another role leaves no syscall in the trace.
template <class Pred>
void spin_until(Pred pred) {
    for (uint32_t i = 1; !pred(); ++i) {
        cpu_relax();
        if (i % 1024 == 0) sched_yield();
    }
}
inline void spin_until_at_least(const std::atomic<uint32_t>& a, uint32_t v) {
    spin_until([&] { return a.load(std::memory_order_acquire) >= v; });
}

// ---- clock and latency ------------------------------------------------------------

// CLOCK_MONOTONIC through the vDSO: no syscall.
inline uint64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

// Log-linear histogram (64 sub-buckets per power of two, < 0.8% error) so that RTT
// percentiles need no allocation during the run whatever --count is. ~30 KiB: keep it
// on the role's stack.
class Latency {
public:
    void record(uint64_t ns);
    uint64_t count() const { return total_; }
    // q in (0, 1]; the midpoint of the bucket holding the q-quantile; 0 when empty.
    uint64_t percentile(double q) const;
    // Writes p50/p99 into r.
    void report(RoleResult& r) const;

private:
    static constexpr int kSubBits = 6;
    static constexpr int kSub = 1 << kSubBits;
    static constexpr int kBuckets = (64 - kSubBits + 1) * kSub;
    uint64_t buckets_[kBuckets] = {};
    uint64_t total_ = 0;
};

// ---- per-role scratch memory --------------------------------------------------------

// A private buffer of at least Params::size + 64 bytes (Workload::scratch), mapped
// and prefaulted by the harness before tracing starts: roles copy messages through it
// instead of allocating (malloc would show up as mmap/brk in the trace).
std::span<std::byte> scratch();
void set_scratch(std::span<std::byte> s);  // harness only

// ---- naming ----------------------------------------------------------------------

// "producer"/"consumer" (stream), "initiator"/"responder" (ping-pong), else "owner"/"peer".
const char* role_name(const Params& p, int role);
// 4096 -> "4K", 2 GiB -> "2G", 1000 -> "1000": how --size values are written back.
std::string human_size(uint64_t bytes);
// Reads one integer from a /proc/sys file (parent side only: roles must not open files).
bool read_sysctl(const char* path, uint64_t& out);
// Whether this process has capability `cap` (CAP_SYS_RESOURCE, …) in its effective set.
// Root in a container may lack some: check the capability, not the uid.
bool has_capability(int cap);

}  // namespace ipctrace::workloads
