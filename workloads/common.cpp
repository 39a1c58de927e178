#include "common.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/socket.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace ipctrace::workloads {

void mark_uncounted(RoleResult& r, int nr) {
    for (auto& slot : r.uncounted) {
        if (slot == nr) return;
        if (slot == -1) {
            slot = nr;
            return;
        }
    }
}

void throw_errno(const char* what) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s: %s", what, std::strerror(errno));
    throw std::runtime_error(buf);
}

void throw_error(const char* fmt, ...) {
    char buf[160];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    throw std::runtime_error(buf);
}

void set_error(RoleResult& r, const char* fmt, ...) {
    if (r.error[0] != '\0') return;
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(r.error, sizeof r.error, fmt, ap);
    va_end(ap);
}

namespace {
RoleResult* g_yields = nullptr;
}
void set_yield_counter(RoleResult* r) { g_yields = r; }
void yield_counted() {
    if (g_yields) ++g_yields->ops[SYS_sched_yield];
    sched_yield();
}

// ---- fds and whole-message I/O --------------------------------------------------------

Fd open_counted(RoleResult& out, const char* path, int flags, unsigned mode) {
    const long fd = counted_retry(out, SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, mode);
    if (fd < 0) throw_error("open %s: %s", path, std::strerror(errno));
    return Fd(out, fd);
}

void write_all(RoleResult& out, int fd, const unsigned char* p, uint64_t n, uint64_t msg, long nr) {
    const bool send = nr == SYS_sendto;
    if (!send && nr != SYS_write) throw_error("write_all: syscall %ld is neither write nor sendto", nr);
    while (n > 0) {
        const long w = send ? counted_retry(out, SYS_sendto, fd, p, n, MSG_NOSIGNAL, nullptr, 0)
                            : counted_retry(out, SYS_write, fd, p, n);
        if (w < 0) throw_errno(send ? "send" : "write");
        if (w == 0)
            throw_error("%s: wrote nothing at message %llu", send ? "send" : "write",
                        static_cast<unsigned long long>(msg));
        p += w;
        n -= static_cast<uint64_t>(w);
    }
}

void read_exact(RoleResult& out, int fd, unsigned char* p, uint64_t n, uint64_t msg, long nr) {
    const bool recv = nr == SYS_recvfrom;
    if (!recv && nr != SYS_read) throw_error("read_exact: syscall %ld is neither read nor recvfrom", nr);
    for (uint64_t got = 0; got < n;) {
        const long r = recv ? counted_retry(out, SYS_recvfrom, fd, p + got, n - got, 0, nullptr, nullptr)
                            : counted_retry(out, SYS_read, fd, p + got, n - got);
        if (r < 0) throw_errno(recv ? "recv" : "read");
        if (r == 0)
            throw_error("%s in message %llu after %llu of %llu bytes",
                        recv ? "recv: connection closed" : "read: end of file",
                        static_cast<unsigned long long>(msg), static_cast<unsigned long long>(got),
                        static_cast<unsigned long long>(n));
        got += static_cast<uint64_t>(r);
    }
}

// ---- pattern ----------------------------------------------------------------------

namespace {
constexpr uint64_t kStep = 0x9E3779B97F4A7C15ull;

uint64_t seed(uint64_t m) {  // splitmix64 finaliser: neighbouring messages look unrelated
    uint64_t z = m + kStep;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void report_mismatch(const unsigned char* got, uint64_t size, uint64_t msg, uint64_t word,
                     RoleResult& r) {
    uint64_t want = seed(msg) + word * kStep;
    for (uint64_t b = word * 8; b < size && b < word * 8 + 8; ++b) {
        auto expected = static_cast<unsigned>((want >> (8 * (b % 8))) & 0xff);
        if (got[b] != expected) {
            const bool reply = msg & reply_id(0);
            set_error(r, "%s %llu byte %llu: expected 0x%02x, got 0x%02x",
                      reply ? "reply" : "message",
                      static_cast<unsigned long long>(msg & ~reply_id(0)),
                      static_cast<unsigned long long>(b), expected, got[b]);
            return;
        }
    }
}
}  // namespace

void fill(void* dst, uint64_t size, uint64_t msg) {
    auto* p = static_cast<unsigned char*>(dst);
    uint64_t w = seed(msg);
    const uint64_t words = size / 8;
    for (uint64_t i = 0; i < words; ++i, w += kStep) std::memcpy(p + i * 8, &w, 8);
    if (size % 8) std::memcpy(p + words * 8, &w, size % 8);  // little-endian prefix
}

bool verify(const void* src, uint64_t size, uint64_t msg, RoleResult& r) {
    const auto* p = static_cast<const unsigned char*>(src);
    uint64_t w = seed(msg);
    const uint64_t words = size / 8;
    for (uint64_t i = 0; i < words; ++i, w += kStep) {
        uint64_t got;
        std::memcpy(&got, p + i * 8, 8);
        if (got != w) {
            report_mismatch(p, size, msg, i, r);
            r.verified = 0;
            return false;
        }
    }
    if (size % 8 && std::memcmp(p + words * 8, &w, size % 8) != 0) {
        report_mismatch(p, size, msg, words, r);
        r.verified = 0;
        return false;
    }
    return true;
}

// ---- latency ----------------------------------------------------------------------

void Latency::record(uint64_t ns) {
    int idx;
    if (ns < kSub) {
        idx = static_cast<int>(ns);
    } else {
        const int e = 63 - __builtin_clzll(ns);  // kSubBits..63
        const auto mant = static_cast<int>((ns >> (e - kSubBits)) - kSub);
        idx = (e - kSubBits + 1) * kSub + mant;
    }
    ++buckets_[idx];
    ++total_;
}

uint64_t Latency::percentile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<uint64_t>(q * static_cast<double>(total_) + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > total_) rank = total_;
    uint64_t seen = 0;
    for (int idx = 0; idx < kBuckets; ++idx) {
        seen += buckets_[idx];
        if (seen < rank) continue;
        if (idx < kSub) return static_cast<uint64_t>(idx);
        const int shift = idx / kSub - 1;  // e - kSubBits
        const uint64_t low = uint64_t(kSub + idx % kSub) << shift;
        return low + ((uint64_t{1} << shift) >> 1);
    }
    return 0;
}

void Latency::report(RoleResult& r) const {
    r.rtt_p50_ns = percentile(0.50);
    r.rtt_p99_ns = percentile(0.99);
}

// ---- scratch ----------------------------------------------------------------------

namespace {
std::span<std::byte> g_scratch;
}
std::span<std::byte> scratch() { return g_scratch; }
void set_scratch(std::span<std::byte> s) { g_scratch = s; }

// ---- naming -----------------------------------------------------------------------

const char* role_name(const Params& p, int role) {
    switch (p.mode) {
        case Mode::Stream:
        case Mode::Lossy: return role == 0 ? "producer" : "consumer";
        case Mode::PingPong: return role == 0 ? "initiator" : "responder";
        case Mode::Default: break;
    }
    return role == 0 ? "owner" : "peer";
}

std::string human_size(uint64_t bytes) {
    static constexpr struct { uint64_t unit; char suffix; } units[] = {
        {uint64_t{1} << 40, 'T'}, {uint64_t{1} << 30, 'G'}, {uint64_t{1} << 20, 'M'},
        {uint64_t{1} << 10, 'K'}};
    for (const auto& u : units)
        if (bytes >= u.unit && bytes % u.unit == 0) return std::to_string(bytes / u.unit) + u.suffix;
    return std::to_string(bytes);
}

void name_ipc_objects(Control& ctl) {
    const char* suffix = std::strrchr(ctl.dir, '.');
    std::snprintf(ctl.name, sizeof ctl.name, "/ipctrace-%s", suffix ? suffix + 1 : "run");
}

bool read_sysctl(const char* path, uint64_t& out) {
    std::FILE* f = std::fopen(path, "re");
    if (!f) return false;
    unsigned long long v = 0;
    const bool ok = std::fscanf(f, "%llu", &v) == 1;
    std::fclose(f);
    if (ok) out = v;
    return ok;
}

bool has_capability(int cap) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, data) != 0) return false;
    return cap >= 0 && cap < 32 * _LINUX_CAPABILITY_U32S_3 &&
           (data[cap / 32].effective >> (cap % 32)) & 1u;
}

}  // namespace ipctrace::workloads
