// pipe and fifo: kernel pipe buffers between two processes, write() in, read() out.
// stream: role 0 writes, role 1 reads. pingpong: a second pipe/FIFO carries the replies.
//
// An anonymous pipe made after fork cannot be inherited, and a pipe fd cannot be sent
// without a socket, so the peer reopens the owner's pipe through /proc/<pid>/fd/<n>:
// that open lands on the very same pipe (pipefs), it is not a FIFO.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <utility>

#include "catalog.h"
#include "common.h"

namespace ipctrace::workloads {

namespace {

// Control::ids slots of `pipe`: who to reopen the pipes from.
constexpr int kOwnerPid = 0, kRequestFd = 1, kReplyFd = 2;
constexpr char kFifoLeaf[] = "/fifo";
constexpr char kReplySuffix[] = ".reply";

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

// dst = a + b; false when it does not fit. No library calls: cleanup uses it in a signal handler.
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
    const long fd = counted_retry(out, SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0);
    if (fd < 0) throw_error("open %s: %s", path, std::strerror(errno));
    return Fd(out, fd);
}

// A blocking pipe write completes whole unless a signal splits it: loop, each call counted.
void write_all(RoleResult& out, int fd, const unsigned char* p, uint64_t n) {
    while (n > 0) {
        const long w = counted_retry(out, SYS_write, fd, p, n);
        if (w < 0) throw_errno("write");
        p += w;
        n -= static_cast<uint64_t>(w);
    }
}

// A pipe read returns what is buffered, maybe part of a message: ask only for the rest of
// this message so that no read spans two.
void read_exact(RoleResult& out, int fd, unsigned char* p, uint64_t n, uint64_t msg) {
    for (uint64_t got = 0; got < n;) {
        const long r = counted_retry(out, SYS_read, fd, p + got, n - got);
        if (r < 0) throw_errno("read");
        if (r == 0)
            throw_error("read: end of file in message %llu after %llu of %llu bytes",
                        static_cast<unsigned long long>(msg), static_cast<unsigned long long>(got),
                        static_cast<unsigned long long>(n));
        got += static_cast<uint64_t>(r);
    }
}

// This role's ends: tx where it writes, rx where it reads (stream: only one of them).
struct Ends {
    Fd tx, rx;
};

void exchange(const Params& p, int role, Ends& ends, RoleResult& out) {
    auto* buf = reinterpret_cast<unsigned char*>(scratch().data());
    Latency rtt;
    const uint64_t t0 = now_ns();
    for (uint64_t m = 0; m < p.count; ++m) {
        if (p.mode == Mode::Stream) {
            if (role == 0) {
                fill(buf, p.size, m);
                write_all(out, ends.tx.get(), buf, p.size);
            } else {
                read_exact(out, ends.rx.get(), buf, p.size, m);
                verify(buf, p.size, m, out);
            }
        } else if (role == 0) {
            const uint64_t start = now_ns();
            fill(buf, p.size, m);
            write_all(out, ends.tx.get(), buf, p.size);
            read_exact(out, ends.rx.get(), buf, p.size, m);
            verify(buf, p.size, reply_id(m), out);
            rtt.record(now_ns() - start);
        } else {
            read_exact(out, ends.rx.get(), buf, p.size, m);
            verify(buf, p.size, m, out);
            fill(buf, p.size, reply_id(m));
            write_all(out, ends.tx.get(), buf, p.size);
        }
    }
    out.elapsed_ns = now_ns() - t0;
    out.messages = p.count;
    out.bytes = p.count * p.size;
    if (role == 0 && p.mode == Mode::PingPong) rtt.report(out);
}

// A write to a pipe whose reader died should fail with EPIPE (an error we can report),
// not kill the role with SIGPIPE.
void ignore_sigpipe() { ::signal(SIGPIPE, SIG_IGN); }

// ---- pipe ---------------------------------------------------------------------------

void pipe_role(Control& ctl, int role, RoleResult& out) {
    const Params& p = ctl.params;
    const bool pingpong = p.mode == Mode::PingPong;
    ignore_sigpipe();
    Ends ends;
    if (role == 0) {
        int req[2], rep[2];
        if (counted(out, SYS_pipe2, req, 0) < 0) throw_errno("pipe2");
        Fd req_rd(out, req[0]);
        ends.tx = Fd(out, req[1]);
        Fd rep_wr;
        ctl.ids[kOwnerPid] = getpid();
        ctl.ids[kRequestFd] = req[0];
        if (pingpong) {
            if (counted(out, SYS_pipe2, rep, 0) < 0) throw_errno("pipe2");
            ends.rx = Fd(out, rep[0]);
            rep_wr = Fd(out, rep[1]);
            ctl.ids[kReplyFd] = rep[1];
        }
        ctl.published.store(1, std::memory_order_release);
        spin_until_at_least(ctl.ready, 1);
        // The peer holds its own ends now; dropping ours makes a dead peer show up as
        // EPIPE/EOF instead of a hang.
        req_rd.reset();
        rep_wr.reset();
    } else {
        spin_until_at_least(ctl.published, 1);
        char path[64];
        std::snprintf(path, sizeof path, "/proc/%lld/fd/%lld",
                      static_cast<long long>(ctl.ids[kOwnerPid]), static_cast<long long>(ctl.ids[kRequestFd]));
        ends.rx = open_counted(out, path, O_RDONLY);
        if (pingpong) {
            std::snprintf(path, sizeof path, "/proc/%lld/fd/%lld",
                          static_cast<long long>(ctl.ids[kOwnerPid]), static_cast<long long>(ctl.ids[kReplyFd]));
            ends.tx = open_counted(out, path, O_WRONLY);
        }
        ctl.ready.store(1, std::memory_order_release);
    }
    exchange(p, role, ends, out);
}

// ---- fifo ---------------------------------------------------------------------------

using Path = char[sizeof Control::path];

void fifo_cleanup(Control& ctl) {
    if (ctl.path[0] == '\0') return;
    ::unlink(ctl.path);
    Path reply;
    if (concat(reply, ctl.path, kReplySuffix)) ::unlink(reply);
}

void make_fifo(RoleResult& out, const char* path) {
    if (counted(out, SYS_mknodat, AT_FDCWD, path, S_IFIFO | 0600, 0) < 0)
        throw_error("mkfifo %s: %s", path, std::strerror(errno));
}

void fifo_role(Control& ctl, int role, RoleResult& out) {
    const Params& p = ctl.params;
    const bool pingpong = p.mode == Mode::PingPong;
    ignore_sigpipe();
    Path reply;
    Ends ends;
    if (role == 0) {
        // Both names are recorded (cleanup derives the reply one) before anything exists.
        if (!concat(ctl.path, ctl.dir, kFifoLeaf) || !concat(reply, ctl.path, kReplySuffix))
            throw_error("fifo: path in %s too long", ctl.dir);
        make_fifo(out, ctl.path);
        if (pingpong) make_fifo(out, reply);
        ctl.published.store(1, std::memory_order_release);
        // open() of a FIFO waits for the other end; both roles open in the same order.
        ends.tx = open_counted(out, ctl.path, O_WRONLY);
        if (pingpong) ends.rx = open_counted(out, reply, O_RDONLY);
    } else {
        spin_until_at_least(ctl.published, 1);
        if (!concat(reply, ctl.path, kReplySuffix)) throw_error("fifo: path in %s too long", ctl.dir);
        ends.rx = open_counted(out, ctl.path, O_RDONLY);
        if (pingpong) ends.tx = open_counted(out, reply, O_WRONLY);
    }
    exchange(p, role, ends, out);
}

}  // namespace

const Workload& workload_pipe() {
    static const Workload w{
        .name = "pipe",
        .description = "anonymous pipe, write/read; the peer reopens it via /proc/<pid>/fd",
        .mechanisms = {"pipe"},
        .default_count = 100000,
        .default_size = 4096,
        .syncs = {},
        .modes = {Mode::Stream, Mode::PingPong},
        .payload = true,
        .role = pipe_role,
        .cleanup = nullptr,  // anonymous: nothing outlives the roles
    };
    return w;
}

const Workload& workload_fifo() {
    static const Workload w{
        .name = "fifo",
        .description = "named pipe (mkfifo) in a private directory, write/read",
        .mechanisms = {"fifo"},
        .default_count = 100000,
        .default_size = 4096,
        .syncs = {},
        .modes = {Mode::Stream, Mode::PingPong},
        .payload = true,
        .role = fifo_role,
        .cleanup = fifo_cleanup,
    };
    return w;
}

}  // namespace ipctrace::workloads
