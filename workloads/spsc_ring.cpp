#include "spsc_ring.h"

#include <linux/futex.h>

#include <algorithm>

namespace ipctrace::workloads {

namespace {

// Spin this long before yielding: a peer that is running publishes within a batch's time
// (well under a microsecond at 64 B); only a descheduled or stopped peer outlasts it. Not
// longer for large messages: on a loaded machine, spinning for a peer that is not running
// only delays it (measured: 20 µs beat 20 µs + 0.5 ns a byte at 64 KiB).
constexpr uint64_t kSpinNs = 20'000;
uint64_t spin_ns(uint64_t) { return kSpinNs; }
constexpr int kYields = 8;  // then park: the CPU is the peer's, or another process's

// Makes the position visible and wakes the peer only if it raised its parked flag. The
// seq_cst store and load pair with the waiter's (flag, then position): one of the two always
// sees the other, so a wake-up is never lost.
void publish(RoleResult& out, RingCursor& c, uint64_t pos) {
    c.pos.store(pos, std::memory_order_seq_cst);
    if (c.parked.load(std::memory_order_seq_cst) != 0 && c.parked.exchange(0, std::memory_order_seq_cst) != 0 &&
        counted(out, SYS_futex, &c.parked, FUTEX_WAKE, 1, nullptr, nullptr, 0) < 0)
        throw_errno("futex wake");
}

// Returns c.pos once it is at least `target`: spin, then sched_yield, then park.
uint64_t wait_for(RoleResult& out, RingCursor& c, uint64_t target, uint64_t spin) {
    uint64_t v = c.pos.load(std::memory_order_acquire);
    if (v >= target) return v;
    const uint64_t deadline = now_ns() + spin;
    for (uint32_t i = 1;; ++i) {
        cpu_relax();
        if ((v = c.pos.load(std::memory_order_acquire)) >= target) return v;
        if (i % 64 == 0 && now_ns() >= deadline) break;
    }
    c.waiting.store(1, std::memory_order_seq_cst);  // the peer publishes what it has at once
    for (int y = 0; y < kYields; ++y) {
        yield_counted();  // counted in out.ops like every call of the measured run
        if ((v = c.pos.load(std::memory_order_acquire)) >= target) {
            c.waiting.store(0, std::memory_order_relaxed);
            return v;
        }
    }
    for (;;) {
        c.parked.store(1, std::memory_order_seq_cst);
        if ((v = c.pos.load(std::memory_order_seq_cst)) >= target) break;
        // The kernel re-checks parked == 1: a publish between our load and the wait
        // cleared it, and the wait fails with EAGAIN instead of sleeping through it.
        // A shared (not FUTEX_PRIVATE) futex: the peer is another process.
        const long rc = counted(out, SYS_futex, &c.parked, FUTEX_WAIT, 1, nullptr, nullptr, 0);
        if (rc < 0 && errno != EAGAIN && errno != EINTR) throw_errno("futex wait");
        if ((v = c.pos.load(std::memory_order_acquire)) >= target) break;
    }
    c.parked.store(0, std::memory_order_relaxed);
    c.waiting.store(0, std::memory_order_relaxed);
    return v;
}

void stream(const Params& p, int role, SpscRing& ring, unsigned char* slots, RoleResult& out) {
    const uint64_t n = spsc_slots(p.size), batch = spsc_batch(n), size = p.size, spin = spin_ns(size);
    RingCursor& head = ring.cursor[0];  // messages written: the producer's
    RingCursor& tail = ring.cursor[1];  // messages consumed: the consumer's
    uint64_t published = 0, peer = 0;   // own cursor as last published; peer's as last read
    unsigned char* slot = slots;
    unsigned char* const end = slots + n * size;
    RingCursor& mine = role == 0 ? head : tail;
    message_loop(p, role, out, size, [&](uint64_t m) {
        if (role == 0) {
            if (m - peer >= n && m - (peer = tail.pos.load(std::memory_order_acquire)) >= n) {
                // Full: let the consumer see everything first, then wait for a free slot.
                if (published < m) publish(out, head, published = m);
                peer = wait_for(out, tail, m - n + 1, spin);
            }
            fill(slot, size, m);
        } else {
            if (m >= peer && m >= (peer = head.pos.load(std::memory_order_acquire))) {
                // Empty: hand back the slots read so far, then wait for the next batch.
                if (published < m) publish(out, tail, published = m);
                peer = wait_for(out, head, m + 1, spin);
            }
            verify(slot, size, m, out);  // a mismatch is recorded; keep the protocol going
        }
        if ((slot += size) == end) slot = slots;
        const uint64_t done = m + 1;
        if (done - published >= batch || done == p.count || mine.waiting.load(std::memory_order_relaxed))
            publish(out, mine, published = done);
    });
}

void pingpong(const Params& p, int role, SpscRing& ring, unsigned char* slots, RoleResult& out) {
    unsigned char* request = slots;
    unsigned char* reply = slots + p.size;
    RingCursor& req = ring.cursor[0];
    RingCursor& rep = ring.cursor[1];
    const uint64_t spin = spin_ns(p.size);
    message_loop(p, role, out, p.size, [&](uint64_t m) {
        if (role == 0) {
            fill(request, p.size, m);
            publish(out, req, m + 1);
            wait_for(out, rep, m + 1, spin);
            verify(reply, p.size, reply_id(m), out);
        } else {
            wait_for(out, req, m + 1, spin);
            verify(request, p.size, m, out);
            fill(reply, p.size, reply_id(m));
            publish(out, rep, m + 1);
        }
    });
}

}  // namespace

uint64_t spsc_slots(uint64_t size) {
    if (size > (uint64_t{32} << 20)) return 1;  // two slots of a huge message would double the memory for no gain
    // At least 8 slots while they fit L2 (1 MiB a core here): room for a peer's hiccup.
    return std::max<uint64_t>(size * 8 <= kSpscMaxBytes ? 8 : 2, kSpscSlotBytes / size);
}

uint64_t spsc_batch(uint64_t slots) { return std::clamp<uint64_t>(slots / 4, 1, 16); }

void run_spsc(const Params& p, int role, SpscRing& ring, unsigned char* slots, RoleResult& out) {
    if (p.mode == Mode::PingPong)
        pingpong(p, role, ring, slots, out);
    else
        stream(p, role, ring, slots, out);
}

}  // namespace ipctrace::workloads
