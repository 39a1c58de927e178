// The message ring shared by the shared-memory workloads (shm, posix-shm, mmap): a header
// page with the synchronisation state, then the slots messages are written into in place.
//
// --sync ring (the default) is the SPSC ring of spsc_ring.h: cursors published in batches,
// spin, yield, then a futex park that the peer wakes only when it sees the parked flag.
//
// The other --sync values are the classic designs it is contrasted with. Two counting
// semaphores order the roles:
//   stream:   0 = free slots (starts at the slot count), 1 = filled slots (starts at 0);
//             the producer waits 0 / posts 1, the consumer waits 1 / posts 0.
//   pingpong: 0 = request in slot 0, 1 = reply in slot 1 (both start at 0).
// They are a SysV semaphore set (--sync sem in `shm`), glibc sem_t (--sync sem in
// posix-shm/mmap), a futex semaphore in the header (--sync futex) or plain atomics
// (--sync spin, no syscall per message).
#pragma once

#include <semaphore.h>

#include <atomic>
#include <cstdint>

#include "common.h"
#include "spsc_ring.h"

namespace ipctrace::workloads {

// Counting semaphore in shared memory; FUTEX_WAIT only when the count is 0 and FUTEX_WAKE
// only when the other role announced it sleeps, so syscalls happen only under contention.
struct FutexSem {
    alignas(64) std::atomic<int32_t> value{0};
    std::atomic<int32_t> waiters{0};
};

struct RingHeader {
    FutexSem sem[2];  // --sync futex and --sync spin
    sem_t posix[2];   // --sync sem with glibc (posix-shm, mmap)
    SpscRing spsc;    // --sync ring
};

inline constexpr uint64_t kRingHeaderBytes = 4096;  // slots start page-aligned
static_assert(sizeof(RingHeader) <= kRingHeaderBytes);

// stream: --sync ring spsc_slots(size) (256 KiB of slots), else min(8, max(1, 64 MiB / size));
// pingpong: 2
uint64_t ring_slots(const Params& p);
uint64_t ring_bytes(const Params& p);  // header + slots * size

// How the two roles wait for each other around the ring.
class RingSync {
public:
    enum class Kind { Ring, SysvSem, PosixSem, Futex, Spin };
    RingSync(Kind kind, RingHeader* hdr, int sysv_semid, RoleResult& out)
        : kind_(kind), hdr_(hdr), semid_(sysv_semid), out_(out) {
        // glibc enters the kernel (futex) only under contention and we cannot see when.
        if (kind == Kind::PosixSem) mark_uncounted(out, SYS_futex);
    }
    // Owner only, before publishing: the semaphores' starting values.
    void init(const Params& p);
    void wait(int sem);
    void post(int sem);
    Kind kind() const { return kind_; }
    RingHeader& header() { return *hdr_; }

private:
    Kind kind_;
    RingHeader* hdr_;
    int semid_;
    RoleResult& out_;
};

// Moves params.count messages through the ring as `role` (0 producer/initiator,
// 1 consumer/responder), verifying every byte received and filling `out`.
void run_ring(const Params& p, int role, unsigned char* base, RingSync& sync, RoleResult& out);

}  // namespace ipctrace::workloads
