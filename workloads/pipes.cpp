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

#include "catalog.h"
#include "common.h"

namespace ipctrace::workloads {

namespace {

// Control::ids slots of `pipe`: who to reopen the pipes from.
constexpr int kOwnerPid = 0, kRequestFd = 1, kReplyFd = 2;
constexpr char kFifoLeaf[] = "/fifo";
constexpr char kReplySuffix[] = ".reply";

// This role's ends: tx where it writes, rx where it reads (stream: only one of them).
struct Ends {
    Fd tx, rx;
    RoleResult& out;

    void send(const unsigned char* p, uint64_t n, uint64_t msg) { write_all(out, tx.get(), p, n, msg); }
    void recv(unsigned char* p, uint64_t n, uint64_t msg) { read_exact(out, rx.get(), p, n, msg); }
};

// A write to a pipe whose reader died should fail with EPIPE (an error we can report),
// not kill the role with SIGPIPE.
void ignore_sigpipe() { ::signal(SIGPIPE, SIG_IGN); }

// ---- pipe ---------------------------------------------------------------------------

void pipe_role(Control& ctl, int role, RoleResult& out) {
    const Params& p = ctl.params;
    const bool pingpong = p.mode == Mode::PingPong;
    ignore_sigpipe();
    Ends ends{Fd(), Fd(), out};
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
    exchange_messages(p, role, scratch_bytes(), ends, out);
}

// ---- fifo ---------------------------------------------------------------------------

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
    Ends ends{Fd(), Fd(), out};
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
    exchange_messages(p, role, scratch_bytes(), ends, out);
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
