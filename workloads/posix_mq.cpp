// posix-mq: POSIX message queues, mq_timedsend/mq_timedreceive copying through the kernel.
// Stream uses one queue; ping-pong a request queue and a reply queue ("<name>-reply").
#include <fcntl.h>
#include <linux/capability.h>
#include <mqueue.h>
#include <sys/resource.h>

#include <algorithm>

#include "catalog.h"
#include "common.h"

namespace ipctrace::workloads {

namespace {

constexpr long kMaxMsg = 10;  // the default fs.mqueue.msg_max: allowed without privileges
constexpr uint64_t kHardMsgSize = uint64_t{16} << 20;  // HARD_MSGSIZEMAX, even for root
constexpr char kReplySuffix[] = "-reply";

using Name = char[sizeof Control::name + sizeof kReplySuffix];

// The queue name as the kernel takes it: glibc's mq_open/mq_unlink drop the leading '/'
// before SYS_mq_open/SYS_mq_unlink. No snprintf: also used from the signal handler.
void queue_name(const Control& ctl, bool reply, Name& out) {
    size_t n = 0;
    for (const char* s = ctl.name[0] == '/' ? ctl.name + 1 : ctl.name; *s && n < sizeof ctl.name; ++s)
        out[n++] = *s;
    if (reply)
        for (const char* s = kReplySuffix; *s; ++s) out[n++] = *s;
    out[n] = '\0';
}

void mq_cleanup(Control& ctl) {
    if (ctl.name[0] == '\0') return;
    Name name;
    queue_name(ctl, false, name);
    ::syscall(SYS_mq_unlink, name);
    queue_name(ctl, true, name);
    ::syscall(SYS_mq_unlink, name);
    ctl.name[0] = '\0';
}

// Queue memory is charged against the creator's RLIMIT_MSGQUEUE (800 KiB by default) when
// a queue is created: maxmsg * (msgsize + kernel bookkeeping) each.
constexpr uint64_t kPerMsgOverhead = 128;  // struct msg_msg + tree node, rounded up
constexpr uint64_t kRlimitSlack = 4 << 10;  // other queues of ours, rounding

uint64_t queue_bytes(uint64_t queues, uint64_t maxmsg, uint64_t size) {
    return queues * maxmsg * (size + kPerMsgOverhead) + kRlimitSlack;
}

// Raises RLIMIT_MSGQUEUE as far as needed and allowed, then returns how many messages each
// queue may hold: kMaxMsg, or fewer for big messages under a limit we cannot raise.
long fit_rlimit(uint64_t queues, uint64_t size) {
    const uint64_t need = queue_bytes(queues, kMaxMsg, size);
    rlimit rl{};
    if (getrlimit(RLIMIT_MSGQUEUE, &rl) != 0) return kMaxMsg;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rlimit want = rl;
        want.rlim_cur = need;
        if (want.rlim_max != RLIM_INFINITY && want.rlim_max < need) want.rlim_max = need;
        if (setrlimit(RLIMIT_MSGQUEUE, &want) == 0) return kMaxMsg;  // CAP_SYS_RESOURCE
        rl.rlim_cur = rl.rlim_max;  // anyone may go up to the hard limit
        if (setrlimit(RLIMIT_MSGQUEUE, &rl) != 0) getrlimit(RLIMIT_MSGQUEUE, &rl);
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need) return kMaxMsg;
    const uint64_t room = rl.rlim_cur > kRlimitSlack ? rl.rlim_cur - kRlimitSlack : 0;
    return static_cast<long>(std::max<uint64_t>(1, room / (queues * (size + kPerMsgOverhead))));
}

long open_queue(Control& ctl, RoleResult& out, bool reply, bool create, long maxmsg = kMaxMsg) {
    Name name;
    queue_name(ctl, reply, name);
    mq_attr attr{};
    attr.mq_maxmsg = maxmsg;
    attr.mq_msgsize = static_cast<long>(ctl.params.size);
    const long fd = create ? counted(out, SYS_mq_open, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr)
                           : counted(out, SYS_mq_open, name, O_RDWR | O_CLOEXEC, 0, nullptr);
    if (fd >= 0) return fd;
    if (errno == EMFILE)
        throw_error("mq_open: --size %s queues exceed RLIMIT_MSGQUEUE (ulimit -q)",
                    human_size(ctl.params.size).c_str());
    throw_errno("mq_open");
}

// One role's side: it sends on queue tx and receives from queue rx (role 0 sends requests
// and receives replies, role 1 the other way round; stream has no reply queue).
struct QueueChannel {
    RoleResult& out;
    long tx, rx;

    void send(const unsigned char* buf, uint64_t size, uint64_t /*msg*/) {
        if (counted_retry(out, SYS_mq_timedsend, tx, buf, size, 0, nullptr) < 0) throw_errno("mq_send");
    }
    void recv(unsigned char* buf, uint64_t size, uint64_t /*msg*/) {
        unsigned prio = 0;
        const long n = counted_retry(out, SYS_mq_timedreceive, rx, buf, size, &prio, nullptr);
        if (n < 0) throw_errno("mq_receive");
        if (static_cast<uint64_t>(n) != size)
            throw_error("mq_receive: got %ld bytes, expected %llu", n, static_cast<unsigned long long>(size));
    }
};

void mq_role(Control& ctl, int role, RoleResult& out) {
    const Params& p = ctl.params;
    const bool pingpong = p.mode == Mode::PingPong;
    long request = -1, reply = -1;
    if (role == 0) {
        name_ipc_objects(ctl);
        const long maxmsg = fit_rlimit(pingpong ? 2 : 1, p.size);
        request = open_queue(ctl, out, false, true, maxmsg);
        if (pingpong) reply = open_queue(ctl, out, true, true, maxmsg);
        ctl.published.store(1, std::memory_order_release);
        spin_until_at_least(ctl.ready, 1);
        // Both opened: the names can go, the queues live until the last close.
        Name name;
        queue_name(ctl, false, name);
        if (counted(out, SYS_mq_unlink, name) < 0) throw_errno("mq_unlink");
        if (pingpong) {
            queue_name(ctl, true, name);
            if (counted(out, SYS_mq_unlink, name) < 0) throw_errno("mq_unlink");
        }
        ctl.name[0] = '\0';
    } else {
        spin_until_at_least(ctl.published, 1);
        request = open_queue(ctl, out, false, false);
        if (pingpong) reply = open_queue(ctl, out, true, false);
        ctl.ready.store(1, std::memory_order_release);
    }

    QueueChannel ch{out, role == 0 ? request : reply, role == 0 ? reply : request};
    exchange_messages(p, role, scratch_bytes(), ch, out);
    if (counted(out, SYS_close, request) < 0) throw_errno("close");
    if (pingpong && counted(out, SYS_close, reply) < 0) throw_errno("close");
}

// Above fs.mqueue.msgsize_max only CAP_SYS_RESOURCE may create a queue, up to 16 MiB.
Status mq_check(const Params& p) {
    if (p.size > kHardMsgSize)
        return unexpected("posix-mq: --size " + human_size(p.size) +
               " exceeds the kernel's 16 MiB limit for a message queue message");
    if (has_capability(CAP_SYS_RESOURCE)) return {};  // may exceed both limits below
    uint64_t suggest = 1;
    while (suggest < p.size) suggest <<= 1;
    uint64_t limit = 0;
    if (read_sysctl("/proc/sys/fs/mqueue/msgsize_max", limit) && p.size > limit)
        return unexpected("posix-mq: --size " + human_size(p.size) + " exceeds fs.mqueue.msgsize_max (" +
               std::to_string(limit) + "); raise it with sysctl fs.mqueue.msgsize_max=" +
               std::to_string(suggest) + " (or run with CAP_SYS_RESOURCE)");
    // Even one message per queue must fit the hard RLIMIT_MSGQUEUE (the roles inherit it).
    const uint64_t queues = p.mode == Mode::PingPong ? 2 : 1;
    rlimit rl{};
    if (getrlimit(RLIMIT_MSGQUEUE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
        queue_bytes(queues, 1, p.size) > rl.rlim_max)
        return unexpected("posix-mq: --size " + human_size(p.size) + " needs " +
               std::to_string(queue_bytes(queues, 1, p.size)) +
               " bytes of queue memory, more than RLIMIT_MSGQUEUE allows (" +
               std::to_string(rl.rlim_max) + ", ulimit -q; raising it needs CAP_SYS_RESOURCE)");
    return {};
}

}  // namespace

const Workload& workload_posix_mq() {
    static const Workload w{
        .name = "posix-mq",
        .description = "POSIX message queue, mq_send/mq_receive copying through the kernel",
        .mechanisms = {"posix_mq"},
        .default_count = 100000,
        .default_size = 1024,
        .syncs = {},
        .modes = {Mode::Stream, Mode::PingPong},
        .payload = true,
        .role = mq_role,
        .cleanup = mq_cleanup,
        .check = mq_check,
    };
    return w;
}

}  // namespace ipctrace::workloads
