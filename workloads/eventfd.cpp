// eventfd: ping-pong on two eventfd counters, one per direction; each message is the
// 8-byte value written, read back whole (the read resets the counter).
//
// An eventfd made after fork cannot be inherited and, unlike a pipe, cannot be reopened
// through /proc/<pid>/fd (ENXIO), so the peer duplicates the owner's descriptors with
// pidfd_open + pidfd_getfd (Linux >= 5.6; needs ptrace rights over the owner, as root has).
#include <sys/eventfd.h>

#include "catalog.h"
#include "common.h"

namespace ipctrace::workloads {

namespace {

// Control::ids slots: where the peer finds the owner's eventfds.
constexpr int kOwnerPid = 0, kRequestFd = 1, kReplyFd = 2;

Fd make_eventfd(RoleResult& out) {
    const long fd = counted(out, SYS_eventfd2, 0, EFD_CLOEXEC);
    if (fd < 0) throw_errno("eventfd");
    return Fd(out, fd);
}

Fd steal_fd(RoleResult& out, const Fd& pidfd, long target) {
    const long fd = counted(out, SYS_pidfd_getfd, pidfd.get(), target, 0);
    if (fd < 0) throw_errno("pidfd_getfd");
    return Fd(out, fd);
}

void post(RoleResult& out, const Fd& efd, uint64_t value) {
    const long w = counted_retry(out, SYS_write, efd.get(), &value, sizeof value);
    if (w < 0) throw_errno("write eventfd");
}

// Blocks until the counter is non-zero; an eventfd read is all 8 bytes or an error.
void take(RoleResult& out, const Fd& efd, uint64_t want, uint64_t m) {
    uint64_t got = 0;
    if (counted_retry(out, SYS_read, efd.get(), &got, sizeof got) < 0) throw_errno("read eventfd");
    if (got == want) return;
    out.verified = 0;
    set_error(out, "eventfd message %llu: expected 0x%llx, read 0x%llx", static_cast<unsigned long long>(m),
              static_cast<unsigned long long>(want), static_cast<unsigned long long>(got));
}

// Requests carry m + 1 (0 would never wake the reader), replies reply_id(m): distinct and
// never summed unnoticed, since the counter adds up writes nobody has read.
uint64_t request_value(uint64_t m) { return m + 1; }

void eventfd_role(Control& ctl, int role, RoleResult& out) {
    const Params& p = ctl.params;
    Fd tx, rx;
    if (role == 0) {
        tx = make_eventfd(out);
        rx = make_eventfd(out);
        ctl.ids[kOwnerPid] = getpid();
        ctl.ids[kRequestFd] = tx.get();
        ctl.ids[kReplyFd] = rx.get();
        ctl.published.store(1, std::memory_order_release);
        spin_until_at_least(ctl.ready, 1);
    } else {
        spin_until_at_least(ctl.published, 1);
        const long pidfd = counted(out, SYS_pidfd_open, ctl.ids[kOwnerPid], 0);
        if (pidfd < 0) throw_errno("pidfd_open");
        const Fd owner(out, pidfd);
        rx = steal_fd(out, owner, ctl.ids[kRequestFd]);
        tx = steal_fd(out, owner, ctl.ids[kReplyFd]);
        ctl.ready.store(1, std::memory_order_release);
    }

    message_loop(p, role, out, sizeof(uint64_t), [&](uint64_t m) {
        if (role == 0) {
            post(out, tx, request_value(m));
            take(out, rx, reply_id(m), m);
        } else {
            take(out, rx, request_value(m), m);
            post(out, tx, reply_id(m));
        }
    });
}

}  // namespace

const Workload& workload_eventfd() {
    static const Workload w{
        .name = "eventfd",
        .description = "eventfd ping-pong, one counter per direction, 8-byte write/read",
        .mechanisms = {"eventfd"},
        .default_count = 100000,
        .default_size = sizeof(uint64_t),
        .syncs = {},
        .modes = {Mode::PingPong},
        .payload = false,
        .role = eventfd_role,
        .cleanup = nullptr,  // anonymous: nothing outlives the roles
    };
    return w;
}

}  // namespace ipctrace::workloads
