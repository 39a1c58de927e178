// file: the oldest IPC. Role 0 writes count messages into a regular file in the run's
// private directory, then tells role 1 through the control block; role 1 reads the file
// back and verifies every byte. Nothing is fsync()ed: both go through the page cache.
#include <fcntl.h>
#include <sys/statvfs.h>

#include <cstring>
#include <utility>

#include "catalog.h"
#include "common.h"

namespace ipctrace::workloads {

namespace {

constexpr char kFileLeaf[] = "/data";

// An fd whose close() is counted like every other call on it.
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

// dst = a + b; false when it does not fit.
template <size_t N>
bool concat(char (&dst)[N], const char* a, const char* b) {
    size_t n = 0;
    for (const char* s : {a, b})
        for (; *s; ++s) {
            if (n + 1 >= N) return false;
            dst[n++] = *s;
        }
    dst[n] = '\0';
    return true;
}

Fd open_counted(RoleResult& out, const char* path, int flags) {
    const long fd = counted_retry(out, SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0600);
    if (fd < 0) throw_error("open %s: %s", path, std::strerror(errno));
    return Fd(out, fd);
}

void file_cleanup(Control& ctl) {
    if (ctl.path[0] != '\0') ::unlink(ctl.path);
}

void file_role(Control& ctl, int role, RoleResult& out) {
    const Params& p = ctl.params;
    auto* buf = reinterpret_cast<unsigned char*>(scratch().data());
    if (role == 0) {
        const uint64_t t0 = now_ns();
        if (!concat(ctl.path, ctl.dir, kFileLeaf)) throw_error("file: path in %s too long", ctl.dir);
        Fd fd = open_counted(out, ctl.path, O_WRONLY | O_CREAT | O_TRUNC);
        for (uint64_t m = 0; m < p.count; ++m) {
            fill(buf, p.size, m);
            // A regular-file write is short only when the disk is full or a signal hits.
            for (uint64_t done = 0; done < p.size;) {
                const long w = counted_retry(out, SYS_write, fd.get(), buf + done, p.size - done);
                if (w < 0) throw_errno("write");
                if (w == 0) throw_error("write: wrote nothing at message %llu", static_cast<unsigned long long>(m));
                done += static_cast<uint64_t>(w);
            }
        }
        fd.reset();  // the reader sees the data either way; closing first keeps the order plain
        out.elapsed_ns = now_ns() - t0;
        ctl.published.store(1, std::memory_order_release);
    } else {
        spin_until_at_least(ctl.published, 1);
        const uint64_t start = now_ns();  // not the time spent waiting for the writer
        Fd fd = open_counted(out, ctl.path, O_RDONLY);
        for (uint64_t m = 0; m < p.count; ++m) {
            for (uint64_t got = 0; got < p.size;) {
                const long r = counted_retry(out, SYS_read, fd.get(), buf + got, p.size - got);
                if (r < 0) throw_errno("read");
                if (r == 0)
                    throw_error("read: end of file in message %llu after %llu of %llu bytes",
                                static_cast<unsigned long long>(m), static_cast<unsigned long long>(got),
                                static_cast<unsigned long long>(p.size));
                got += static_cast<uint64_t>(r);
            }
            verify(buf, p.size, m, out);
        }
        out.elapsed_ns = now_ns() - start;
    }
    out.messages = p.count;
    out.bytes = p.count * p.size;
}

// The whole stream sits on disk at once: make sure it fits where the harness puts it.
std::optional<std::string> file_check(const Params& p) {
    uint64_t total = 0;
    if (__builtin_mul_overflow(p.count, p.size, &total))
        return "file: --count x --size overflows 64 bits";
    struct statvfs fs {};
    if (statvfs("/tmp", &fs) != 0) return std::nullopt;
    const uint64_t avail = uint64_t(fs.f_bavail) * fs.f_frsize;
    if (total <= avail) return std::nullopt;
    return "file: --count x --size = " + human_size(total) + " does not fit the " + human_size(avail) +
           " free in /tmp";
}

}  // namespace

const Workload& workload_file() {
    static const Workload w{
        .name = "file",
        .description = "regular file in a private directory: role 0 writes it all, then role 1 reads it",
        .mechanisms = {"file"},
        .default_count = 10000,
        .default_size = 4096,
        .syncs = {},
        .modes = {Mode::Stream},
        .payload = true,
        .role = file_role,
        .cleanup = file_cleanup,
        .check = file_check,
    };
    return w;
}

}  // namespace ipctrace::workloads
