// SysV IPC workloads: shm (shared-memory ring), sem (semaphore ping-pong), msgq (message queue).
#include <linux/capability.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include <climits>
#include <cstring>

#include "catalog.h"
#include "shm_ring.h"

namespace ipctrace::workloads {

namespace {

// Control::ids slots, shared by the three workloads so that one cleanup fits all.
constexpr int kShmId = 0, kSemId = 1, kMsgId = 2;

// Parent side or signal handler: raw syscalls only. An id is set back to -1 once its
// owner removed it, so a recycled id is never touched.
void sysv_cleanup(Control& ctl) {
    if (ctl.ids[kShmId] >= 0) ::syscall(SYS_shmctl, ctl.ids[kShmId], IPC_RMID, 0L);
    if (ctl.ids[kSemId] >= 0) ::syscall(SYS_semctl, ctl.ids[kSemId], 0L, IPC_RMID, 0L);
    if (ctl.ids[kMsgId] >= 0) ::syscall(SYS_msgctl, ctl.ids[kMsgId], IPC_RMID, 0L);
    ctl.ids[kShmId] = ctl.ids[kSemId] = ctl.ids[kMsgId] = -1;
}

void rmid(RoleResult& out, Control& ctl, int slot) {
    const long id = ctl.ids[slot];
    long rc = slot == kShmId   ? counted(out, SYS_shmctl, id, IPC_RMID, nullptr)
              : slot == kSemId ? counted(out, SYS_semctl, id, 0, IPC_RMID, nullptr)
                               : counted(out, SYS_msgctl, id, IPC_RMID, nullptr);
    if (rc < 0) throw_errno("IPC_RMID");
    ctl.ids[slot] = -1;
}

long semop1(RoleResult& out, long semid, int num, int delta) {
    sembuf op{static_cast<unsigned short>(num), static_cast<short>(delta), 0};
    return counted_retry(out, SYS_semop, semid, &op, 1);
}

// ---- shm ----------------------------------------------------------------------------

unsigned char* shm_attach(RoleResult& out, long shmid) {
    const long addr = counted(out, SYS_shmat, shmid, nullptr, 0);
    if (addr == -1) throw_errno("shmat");
    return reinterpret_cast<unsigned char*>(addr);
}

void shm_role(Control& ctl, int role, RoleResult& out) {
    const Params& p = ctl.params;
    const auto kind = p.sync == Sync::Sem     ? RingSync::Kind::SysvSem
                      : p.sync == Sync::Futex ? RingSync::Kind::Futex
                      : p.sync == Sync::Spin  ? RingSync::Kind::Spin
                                              : RingSync::Kind::Ring;
    if (role == 0) {
        const long shmid = counted(out, SYS_shmget, IPC_PRIVATE, ring_bytes(p), IPC_CREAT | 0600);
        if (shmid < 0) throw_errno("shmget");
        ctl.ids[kShmId] = shmid;
        long semid = -1;
        if (kind == RingSync::Kind::SysvSem) {
            semid = counted(out, SYS_semget, IPC_PRIVATE, 2, IPC_CREAT | 0600);
            if (semid < 0) throw_errno("semget");
            ctl.ids[kSemId] = semid;
        }
        unsigned char* base = shm_attach(out, shmid);
        RingSync sync(kind, reinterpret_cast<RingHeader*>(base), static_cast<int>(semid), out);
        sync.init(p);
        ctl.published.store(1, std::memory_order_release);
        spin_until_at_least(ctl.ready, 1);
        rmid(out, ctl, kShmId);  // both attached: it lives on until the last shmdt
        run_ring(p, 0, base, sync, out);
        if (counted(out, SYS_shmdt, base) < 0) throw_errno("shmdt");
        wait_peer_done(ctl);
        if (semid >= 0) rmid(out, ctl, kSemId);
    } else {
        spin_until_at_least(ctl.published, 1);
        const long semid = ctl.ids[kSemId];
        unsigned char* base = shm_attach(out, ctl.ids[kShmId]);
        ctl.ready.store(1, std::memory_order_release);
        RingSync sync(kind, reinterpret_cast<RingHeader*>(base), static_cast<int>(semid), out);
        run_ring(p, 1, base, sync, out);
        if (counted(out, SYS_shmdt, base) < 0) throw_errno("shmdt");
        peer_done(ctl);
    }
}

// ---- sem ----------------------------------------------------------------------------

// Round trips on a set of two: role 0 posts 0 and waits 1, role 1 waits 0 and posts 1.
void sem_role(Control& ctl, int role, RoleResult& out) {
    const Params& p = ctl.params;
    if (role == 0) {
        // A new set starts at 0 on Linux, which is what we want: no SETALL.
        const long semid = counted(out, SYS_semget, IPC_PRIVATE, 2, IPC_CREAT | 0600);
        if (semid < 0) throw_errno("semget");
        ctl.ids[kSemId] = semid;
        ctl.published.store(1, std::memory_order_release);
        spin_until_at_least(ctl.ready, 1);
        message_loop(p, 0, out, 0, [&](uint64_t) {
            if (semop1(out, semid, 0, +1) < 0) throw_errno("semop V");
            if (semop1(out, semid, 1, -1) < 0) throw_errno("semop P");
        });
        wait_peer_done(ctl);
        rmid(out, ctl, kSemId);
    } else {
        spin_until_at_least(ctl.published, 1);
        const long semid = ctl.ids[kSemId];
        ctl.ready.store(1, std::memory_order_release);
        message_loop(p, 1, out, 0, [&](uint64_t) {
            if (semop1(out, semid, 0, -1) < 0) throw_errno("semop P");
            if (semop1(out, semid, 1, +1) < 0) throw_errno("semop V");
        });
        peer_done(ctl);
    }
}

// ---- msgq ---------------------------------------------------------------------------

constexpr long kRequestType = 1, kReplyType = 2;

// A queue holds kernel.msgmnb bytes by default; a message larger than that could never
// be sent. Raise this queue's limit (needs CAP_SYS_RESOURCE) to two messages' worth.
void fit_queue(RoleResult& out, long msqid, uint64_t size) {
    msqid_ds ds{};
    if (counted(out, SYS_msgctl, msqid, IPC_STAT, &ds) < 0) throw_errno("msgctl IPC_STAT");
    if (ds.msg_qbytes >= size) return;
    const uint64_t want = 2 * size;
    const auto had = static_cast<unsigned long long>(ds.msg_qbytes);
    ds.msg_qbytes = static_cast<msglen_t>(want);
    if (counted(out, SYS_msgctl, msqid, IPC_SET, &ds) < 0) {
        if (errno != EPERM) throw_errno("msgctl IPC_SET msg_qbytes");
        throw_error("msgq: --size %s does not fit the queue limit kernel.msgmnb (%llu); "
                    "raising it needs CAP_SYS_RESOURCE, or: sysctl kernel.msgmnb=%llu",
                    human_size(size).c_str(), had, static_cast<unsigned long long>(want));
    }
}

// One role's side of the queue: it sends messages of type tx and receives those of type rx
// (requests are kRequestType, replies kReplyType). The loop fills and checks the text;
// the struct msgbuf's long mtype sits in the scratch buffer just before it.
struct QueueChannel {
    RoleResult& out;
    long msqid;
    long tx, rx;

    void send(unsigned char* text, uint64_t size, uint64_t /*msg*/) {
        std::memcpy(text - sizeof tx, &tx, sizeof tx);
        if (counted_retry(out, SYS_msgsnd, msqid, text - sizeof tx, size, 0) < 0) throw_errno("msgsnd");
    }
    void recv(unsigned char* text, uint64_t size, uint64_t /*msg*/) {
        const long n = counted_retry(out, SYS_msgrcv, msqid, text - sizeof rx, size, rx, 0);
        if (n < 0) throw_errno("msgrcv");
        if (static_cast<uint64_t>(n) != size)
            throw_error("msgrcv: got %ld bytes, expected %llu", n, static_cast<unsigned long long>(size));
    }
};

void msgq_role(Control& ctl, int role, RoleResult& out) {
    const Params& p = ctl.params;
    long msqid;
    if (role == 0) {
        msqid = counted(out, SYS_msgget, IPC_PRIVATE, IPC_CREAT | 0600);
        if (msqid < 0) throw_errno("msgget");
        ctl.ids[kMsgId] = msqid;
        fit_queue(out, msqid, p.size);
        ctl.published.store(1, std::memory_order_release);
        spin_until_at_least(ctl.ready, 1);
    } else {
        spin_until_at_least(ctl.published, 1);
        msqid = ctl.ids[kMsgId];
        ctl.ready.store(1, std::memory_order_release);
    }

    QueueChannel ch{out, msqid, role == 0 ? kRequestType : kReplyType, role == 0 ? kReplyType : kRequestType};
    exchange_messages(p, role, scratch_bytes() + sizeof(long), ch, out);
    if (role == 0) {
        wait_peer_done(ctl);  // the consumer may still be draining the queue
        rmid(out, ctl, kMsgId);
    } else {
        peer_done(ctl);
    }
}

uint64_t next_pow2(uint64_t v) {
    uint64_t p = 1;
    while (p < v) p <<= 1;
    return p;
}

// A message can never exceed kernel.msgmax, whatever the privileges; a queue holds
// kernel.msgmnb bytes unless CAP_SYS_RESOURCE lets the owner raise it (fit_queue).
Status msgq_check(const Params& p) {
    const std::string size = human_size(p.size);
    uint64_t msgmax = 0, msgmnb = 0;
    if (read_sysctl("/proc/sys/kernel/msgmax", msgmax) && p.size > msgmax)
        return unexpected("msgq: --size " + size + " exceeds kernel.msgmax (" + std::to_string(msgmax) +
               "); raise it with sysctl kernel.msgmax=" + std::to_string(next_pow2(p.size)));
    if (read_sysctl("/proc/sys/kernel/msgmnb", msgmnb) && p.size > msgmnb &&
        !has_capability(CAP_SYS_RESOURCE))
        return unexpected("msgq: --size " + size + " exceeds kernel.msgmnb (" + std::to_string(msgmnb) +
               ", bytes per queue); raise it with sysctl kernel.msgmnb=" +
               std::to_string(2 * next_pow2(p.size)) + " (or run with CAP_SYS_RESOURCE)");
    return {};
}

}  // namespace

const Workload& workload_shm() {
    static const Workload w{
        .name = "shm",
        .description = "SysV shared-memory segment ring; default sync ring, --sync sem the classic SysV semaphore pairing",
        .mechanisms = {"sysv_shm", "sysv_sem", "futex"},
        .default_count = 100000,
        .default_size = 4096,
        .syncs = {Sync::Ring, Sync::Sem, Sync::Futex, Sync::Spin},
        .modes = {Mode::Stream, Mode::PingPong},
        .payload = true,
        .role = shm_role,
        .cleanup = sysv_cleanup,
        .scratch = false,  // messages are written in place in the segment
    };
    return w;
}

const Workload& workload_sem() {
    static const Workload w{
        .name = "sem",
        .description = "SysV semaphore ping-pong between two processes (no payload)",
        .mechanisms = {"sysv_sem"},
        .default_count = 100000,
        .default_size = 0,
        .syncs = {},
        .modes = {Mode::PingPong},
        .payload = false,
        .role = sem_role,
        .cleanup = sysv_cleanup,
        .scratch = false,
    };
    return w;
}

const Workload& workload_msgq() {
    static const Workload w{
        .name = "msgq",
        .description = "SysV message queue, msgsnd/msgrcv copying through the kernel",
        .mechanisms = {"sysv_msg"},
        .default_count = 100000,
        .default_size = 1024,
        .syncs = {},
        .modes = {Mode::Stream, Mode::PingPong},
        .payload = true,
        .role = msgq_role,
        .cleanup = sysv_cleanup,
        .check = msgq_check,
    };
    return w;
}

}  // namespace ipctrace::workloads
