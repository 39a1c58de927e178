#include "shm_ring.h"

#include <linux/futex.h>
#include <sys/sem.h>

#include <algorithm>
#include <new>

namespace ipctrace::workloads {

uint64_t ring_slots(const Params& p) {
    if (p.mode == Mode::PingPong) return 2;  // request, reply
    if (p.sync == Sync::Ring) return spsc_slots(p.size);
    return std::min<uint64_t>(8, std::max<uint64_t>(1, (uint64_t{64} << 20) / p.size));
}

uint64_t ring_bytes(const Params& p) { return kRingHeaderBytes + ring_slots(p) * p.size; }

void RingSync::init(const Params& p) {
    // Stream: every slot starts free. Ping-pong: nothing posted yet.
    const auto free_slots = static_cast<int32_t>(p.mode == Mode::PingPong ? 0 : ring_slots(p));
    new (&hdr_->sem[0]) FutexSem;
    new (&hdr_->sem[1]) FutexSem;
    new (&hdr_->spsc) SpscRing;
    hdr_->sem[0].value.store(free_slots, std::memory_order_relaxed);
    switch (kind_) {
        case Kind::SysvSem:
            // A new SysV set starts at 0 on Linux; only a non-zero start needs SETALL.
            if (free_slots != 0) {
                unsigned short values[2] = {static_cast<unsigned short>(free_slots), 0};
                if (counted(out_, SYS_semctl, semid_, 0, SETALL, values) < 0)
                    throw_errno("semctl SETALL");
            }
            break;
        case Kind::PosixSem:
            if (sem_init(&hdr_->posix[0], 1, static_cast<unsigned>(free_slots)) != 0 ||
                sem_init(&hdr_->posix[1], 1, 0) != 0)
                throw_errno("sem_init");
            break;
        case Kind::Ring:
        case Kind::Futex:
        case Kind::Spin: break;
    }
}

void RingSync::wait(int i) {
    switch (kind_) {
        case Kind::SysvSem: {
            sembuf op{static_cast<unsigned short>(i), -1, 0};
            if (counted_retry(out_, SYS_semop, semid_, &op, 1) < 0) throw_errno("semop P");
            return;
        }
        case Kind::PosixSem:
            while (sem_wait(&hdr_->posix[i]) != 0)
                if (errno != EINTR) throw_errno("sem_wait");
            return;
        case Kind::Spin: {
            auto& v = hdr_->sem[i].value;
            spin_until([&] {
                int32_t cur = v.load(std::memory_order_acquire);
                return cur > 0 && v.compare_exchange_weak(cur, cur - 1, std::memory_order_acq_rel);
            });
            return;
        }
        case Kind::Ring:  // run_ring never calls wait/post for the ring
        case Kind::Futex: break;
    }
    FutexSem& s = hdr_->sem[i];
    for (;;) {
        int32_t cur = s.value.load(std::memory_order_acquire);
        while (cur > 0)
            if (s.value.compare_exchange_weak(cur, cur - 1, std::memory_order_acq_rel)) return;
        // Announce the sleep, then let the kernel re-check value == 0 atomically: a post
        // between our load and the wait makes FUTEX_WAIT fail with EAGAIN (counted too).
        s.waiters.fetch_add(1, std::memory_order_seq_cst);
        const long rc = counted(out_, SYS_futex, &s.value, FUTEX_WAIT, 0, nullptr, nullptr, 0);
        s.waiters.fetch_sub(1, std::memory_order_relaxed);
        if (rc < 0 && errno != EAGAIN && errno != EINTR) throw_errno("futex wait");
    }
}

void RingSync::post(int i) {
    switch (kind_) {
        case Kind::SysvSem: {
            sembuf op{static_cast<unsigned short>(i), 1, 0};
            if (counted_retry(out_, SYS_semop, semid_, &op, 1) < 0) throw_errno("semop V");
            return;
        }
        case Kind::PosixSem:
            if (sem_post(&hdr_->posix[i]) != 0) throw_errno("sem_post");
            return;
        case Kind::Spin:
            hdr_->sem[i].value.fetch_add(1, std::memory_order_release);
            return;
        case Kind::Ring:
        case Kind::Futex: break;
    }
    FutexSem& s = hdr_->sem[i];
    s.value.fetch_add(1, std::memory_order_seq_cst);
    if (s.waiters.load(std::memory_order_seq_cst) > 0 &&
        counted(out_, SYS_futex, &s.value, FUTEX_WAKE, 1, nullptr, nullptr, 0) < 0)
        throw_errno("futex wake");
}

namespace {

void stream(const Params& p, int role, unsigned char* slots, RingSync& sync, RoleResult& out) {
    const uint64_t n = ring_slots(p);
    message_loop(p, role, out, p.size, [&](uint64_t m) {
        unsigned char* slot = slots + (m % n) * p.size;
        if (role == 0) {
            sync.wait(0);
            fill(slot, p.size, m);
            sync.post(1);
        } else {
            sync.wait(1);
            verify(slot, p.size, m, out);  // a mismatch is recorded; keep the protocol going
            sync.post(0);
        }
    });
}

void pingpong(const Params& p, int role, unsigned char* slots, RingSync& sync, RoleResult& out) {
    unsigned char* request = slots;
    unsigned char* reply = slots + p.size;
    message_loop(p, role, out, p.size, [&](uint64_t m) {
        if (role == 0) {
            fill(request, p.size, m);
            sync.post(0);
            sync.wait(1);
            verify(reply, p.size, reply_id(m), out);
        } else {
            sync.wait(0);
            verify(request, p.size, m, out);
            fill(reply, p.size, reply_id(m));
            sync.post(1);
        }
    });
}

}  // namespace

void run_ring(const Params& p, int role, unsigned char* base, RingSync& sync, RoleResult& out) {
    unsigned char* slots = base + kRingHeaderBytes;
    if (sync.kind() == RingSync::Kind::Ring)
        run_spsc(p, role, sync.header().spsc, slots, out);
    else if (p.mode == Mode::PingPong)
        pingpong(p, role, slots, sync, out);
    else
        stream(p, role, slots, sync, out);
}

}  // namespace ipctrace::workloads
