// Helpers shared by every workload role: counted syscalls, counted fds and whole-message
// I/O on them, the payload pattern, syscall-free spin waits and the end-of-run handshake,
// the clock, a fixed-size latency histogram and the message loop every workload runs.
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
#include <utility>

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

// ---- fds, paths and whole-message I/O ------------------------------------------------

// An fd whose close() is counted like every other call on it (move-only; closes once).
class Fd {
public:
    Fd() = default;
    Fd(RoleResult& out, long fd) : out_(&out), fd_(static_cast<int>(fd)) {}
    Fd(Fd&& o) noexcept : out_(o.out_), fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            out_ = o.out_;
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) counted(*out_, SYS_close, fd_);
        fd_ = -1;
    }

private:
    RoleResult* out_ = nullptr;
    int fd_ = -1;
};

// A path the size of Control::path (FIFO, socket or file in the run directory).
using Path = char[sizeof Control::path];

// dst = a + b; false (and dst "") when it does not fit. No library calls: cleanup uses it
// in a signal handler.
template <size_t N>
bool concat(char (&dst)[N], const char* a, const char* b) {
    size_t n = 0;
    for (const char* s : {a, b})
        for (; *s; ++s) {
            if (n + 1 >= N) {
                dst[0] = '\0';  // never leave a truncated, unterminated path for cleanup
                return false;
            }
            dst[n++] = *s;
        }
    dst[n] = '\0';
    return true;
}

// openat(AT_FDCWD, path, flags | O_CLOEXEC, mode), retried on EINTR; throws
// "open <path>: <error>".
Fd open_counted(RoleResult& out, const char* path, int flags, unsigned mode = 0);

// Byte streams (pipes, FIFOs, regular files, stream sockets): one call may move part of a
// message, so these loop until all n bytes of message msg have moved, each call counted.
// write_all makes write(fd, p, n), or with nr = SYS_sendto send(fd, p, n, MSG_NOSIGNAL)
// (an error, not SIGPIPE, when the peer is gone); a write is short only when a signal
// interrupts it. read_exact makes read(fd, p, n), or with nr = SYS_recvfrom recv(fd, p, n, 0),
// asking only for the rest of this message so that no call spans two. End of stream, or a
// write of nothing, throws.
void write_all(RoleResult& out, int fd, const unsigned char* p, uint64_t n, uint64_t msg, long nr = SYS_write);
void read_exact(RoleResult& out, int fd, unsigned char* p, uint64_t n, uint64_t msg, long nr = SYS_read);

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

// sched_yield(), counted in the role's ops once its measured run has begun (after the go
// marker, set_yield_counter in the harness): sched_yield is no IPC call and is not traced,
// but strace sees it, so the role's count of it must be exact too.
void yield_counted();
void set_yield_counter(RoleResult* r);  // harness only

// Spins until pred() holds. Only sched_yield() every ~1000 rounds (not traced as IPC),
// so waiting on another role leaves no syscall in the trace.
template <class Pred>
void spin_until(Pred pred) {
    for (uint32_t i = 1; !pred(); ++i) {
        cpu_relax();
        if (i % 1024 == 0) yield_counted();
    }
}
inline void spin_until_at_least(const std::atomic<uint32_t>& a, uint32_t v) {
    spin_until([&] { return a.load(std::memory_order_acquire) >= v; });
}

// Role 1 tells role 0 it is done with every shared object and has received everything
// (ready = 2), so the owner may remove the objects or reset the connection; the owner
// spins for it without syscalls.
inline void peer_done(Control& ctl) { ctl.ready.store(2, std::memory_order_release); }
inline void wait_peer_done(Control& ctl) { spin_until_at_least(ctl.ready, 2); }

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

// ---- the message loop ---------------------------------------------------------------

// How far a role got, published as it goes so that the harness can report an interrupted
// run: two relaxed stores into the role's own part of the shared control block, no syscall.
// The harness reads them after the role is reaped (or killed).
inline void publish_progress(RoleResult& out, uint64_t messages, uint64_t bytes) {
    std::atomic_ref<uint64_t>(out.messages).store(messages, std::memory_order_relaxed);
    std::atomic_ref<uint64_t>(out.bytes).store(bytes, std::memory_order_relaxed);
}

// Runs step(m) for every message m, publishing the progress after each (`bytes_per_message`
// payload bytes per message), and fills out.elapsed_ns. In ping-pong each of role 0's steps
// is one round trip, timed into out's RTT percentiles. The clock is read through the vDSO:
// the loop adds no syscall of its own.
template <class Step>
void message_loop(const Params& p, int role, RoleResult& out, uint64_t bytes_per_message, Step step) {
    const bool round_trips = role == 0 && p.mode == Mode::PingPong;
    Latency rtt;
    const uint64_t t0 = now_ns();
    std::atomic_ref<uint64_t>(out.start_ns).store(t0, std::memory_order_relaxed);
    for (uint64_t m = 0; m < p.count; ++m) {
        const uint64_t start = round_trips ? now_ns() : 0;
        step(m);
        if (round_trips) rtt.record(now_ns() - start);
        publish_progress(out, m + 1, (m + 1) * bytes_per_message);
    }
    out.elapsed_ns = now_ns() - t0;
    if (round_trips) rtt.report(out);
}

// Moves p.count messages of p.size bytes through `buf` and a channel that copies them:
// ch.send(buf, size, m) hands one whole message to the other role, ch.recv(buf, size, m)
// takes one. stream: role 0 fills and sends, role 1 receives and verifies. pingpong: role 1
// answers every message with reply_id(m). Every received byte is verified.
template <class Channel>
void exchange_messages(const Params& p, int role, unsigned char* buf, Channel& ch, RoleResult& out) {
    message_loop(p, role, out, p.size, [&](uint64_t m) {
        if (p.mode == Mode::Stream) {
            if (role == 0) {
                fill(buf, p.size, m);
                ch.send(buf, p.size, m);
            } else {
                ch.recv(buf, p.size, m);
                verify(buf, p.size, m, out);
            }
        } else if (role == 0) {
            fill(buf, p.size, m);
            ch.send(buf, p.size, m);
            ch.recv(buf, p.size, m);
            verify(buf, p.size, reply_id(m), out);
        } else {
            ch.recv(buf, p.size, m);
            verify(buf, p.size, m, out);
            fill(buf, p.size, reply_id(m));
            ch.send(buf, p.size, m);
        }
    });
}

// ---- per-role scratch memory --------------------------------------------------------

// A private buffer of at least Params::size + 64 bytes (Workload::scratch), mapped
// and prefaulted by the harness before tracing starts: roles copy messages through it
// instead of allocating (malloc would show up as mmap/brk in the trace).
std::span<std::byte> scratch();
void set_scratch(std::span<std::byte> s);  // harness only
// The same buffer as bytes to fill, send, receive and verify.
inline unsigned char* scratch_bytes() { return reinterpret_cast<unsigned char*>(scratch().data()); }

// ---- naming ----------------------------------------------------------------------

// "producer"/"consumer" (stream), "initiator"/"responder" (ping-pong), else "owner"/"peer".
const char* role_name(const Params& p, int role);
// 4096 -> "4K", 2 GiB -> "2G", 1000 -> "1000": how --size values are written back.
std::string human_size(uint64_t bytes);
// Names the run's POSIX objects (shm, mq) in ctl.name: "/ipctrace-<the run directory's
// unique suffix>", so no syscall is needed and runs never clash.
void name_ipc_objects(Control& ctl);
// Reads one integer from a /proc/sys file (parent side only: roles must not open files).
bool read_sysctl(const char* path, uint64_t& out);
// Whether this process has capability `cap` (CAP_SYS_RESOURCE, …) in its effective set.
// Root in a container may lack some: check the capability, not the uid.
bool has_capability(int cap);

}  // namespace ipctrace::workloads
