// The default wait of the shared-memory workloads (--sync ring): a lock-free single-producer /
// single-consumer ring as fast transports build it (iceoryx, Aeron IPC, the LMAX disruptor).
//  - Each side owns one cursor (a message count) on its own cache lines and publishes it in
//    batches; the other side caches the last value it read, so the lines move rarely.
//  - The consumer drains everything published per look; the producer writes each payload in
//    place in its slot (a loan), nothing is copied through a staging buffer.
//  - A side that must wait spins (bounded by time), then yields, then parks on a futex after
//    raising a "parked" flag; the other side makes FUTEX_WAKE only when it sees that flag, so
//    a steady stream makes no syscall at all.
// Every futex and sched_yield the ring makes is counted in RoleResult::ops.
#pragma once

#include <atomic>
#include <cstdint>

#include "common.h"

namespace ipctrace::workloads {

// One side's published position and the flags its peer reads. 128-byte alignment: the
// adjacent-line prefetcher pairs 64-byte lines, so two writers must not share a pair.
struct RingCursor {
    alignas(128) std::atomic<uint64_t> pos{0};  // written by the owner of this cursor
    alignas(128) std::atomic<uint32_t> parked{0};  // written by the side waiting on pos: futex word
    std::atomic<uint32_t> waiting{0};              // same writer: past its spin, publish now
};

struct SpscRing {
    RingCursor cursor[2];  // stream: 0 head (producer), 1 tail (consumer); ping-pong: 0 request, 1 reply
};

inline constexpr uint64_t kSpscSlotBytes = 256 * 1024;  // slot space sized for L2, not a slot count
inline constexpr uint64_t kSpscMaxBytes = 1024 * 1024;   // at least 8 slots while they fit this
uint64_t spsc_slots(uint64_t size);  // max(256 KiB / size, 8 if 8 fit 1 MiB else 2), 1 above 32 MiB
uint64_t spsc_batch(uint64_t slots);                    // cursor published every this many messages

// Runs params.count messages through the slots as `role` (0 producer/initiator), every byte
// written in place and verified.
void run_spsc(const Params& p, int role, SpscRing& ring, unsigned char* slots, RoleResult& out);

}  // namespace ipctrace::workloads
