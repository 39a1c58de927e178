// The in-kernel aggregates as read from the BPF maps, summed over CPUs.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "common/mechanisms.h"

namespace ipctrace {

// Calls by latency, in the kernel's log-linear buckets; Log2Slots is its power-of-two view.
using LatencyBuckets = std::array<uint64_t, IPC_HIST_BUCKETS>;
using Log2Slots = std::array<uint64_t, IPC_HIST_SLOTS>;
Log2Slots log2_slots(const LatencyBuckets& hist);

struct CallStats {
    uint64_t count = 0, errors = 0, total_ns = 0;
    uint64_t bytes_in = 0, bytes_out = 0, bytes_zero_copy = 0;
    uint64_t bytes_direct = 0;  // copied once between two address spaces (process_vm_readv/writev)
    LatencyBuckets hist{};  // log-linear buckets (bpf/ipctrace.h)
    CallStats& operator+=(const CallStats& o);
};

// The bucket of CallStats::hist that holds a duration in ns.
inline unsigned latency_bucket(uint64_t ns) { return ipc_hist_bucket(ns); }

// Waits (bpf/waits.h): the time blocked in epoll_wait/poll/select attributed to this
// mechanism's ready descriptors; idle_ns and timeouts only on MECH_NONE's entry.
struct WaitStats {
    uint64_t wait_ns = 0, ready_fds = 0;
    uint64_t idle_ns = 0, timeouts = 0;  // waits that returned nothing ready; of them, timeouts
    WaitStats& operator+=(const WaitStats& o);
};

// Descriptors passed with SCM_RIGHTS over this mechanism's sockets (bpf/fd_passing.h), by kind
// (bpf/fd_kinds.def).
struct FdPassStats {
    uint64_t sent = 0, received = 0;
    std::array<uint64_t, FD_KIND_COUNT> sent_kinds{}, received_kinds{};
    FdPassStats& operator+=(const FdPassStats& o);
};

struct ProcMechStats {
    uint64_t page_faults = 0, copy_faults = 0;
    uint64_t voluntary_switches = 0, involuntary_switches = 0;
    uint64_t signals_sent = 0, signals_delivered = 0;
    uint64_t all_syscalls = 0;  // MECH_NONE's entry: every syscall of the process, IPC or not
    // MECH_NONE's entry: memory-mapping calls, IPC or not (bpf/ipctrace.h)
    uint64_t mmap_private_file = 0, mmap_private_anon = 0, mmap_shared = 0;
    uint64_t munmaps = 0, mprotects = 0, mremaps = 0;
    uint64_t file_faults = 0;  // of page_faults, those in file-backed mappings
    WaitStats waits{};          // from the wait_stats map
    FdPassStats fds_passed{};   // from the fd_pass_stats map
    ProcMechStats& operator+=(const ProcMechStats& o);
};

// One process's use of one IPC object (trace's communication map).
struct ObjectStats {
    uint64_t calls = 0, bytes_in = 0, bytes_out = 0;
    uint64_t page_faults = 0;  // faults in the process's mappings of the object (shared mappings)
    uint64_t sync_calls = 0;   // shared futex calls on a word inside the object
    // SCM_RIGHTS: descriptors sent/received through this socket, or this file passed (bpf/fd_passing.h)
    uint64_t fds_sent = 0, fds_received = 0;
    ObjectStats& operator+=(const ObjectStats& o);
};

// The operations one process's io_uring carried with one opcode on one mechanism's files
// (bpf/io_uring.h): submitted and completed apart (a ring can end with some in flight).
struct UringOpStats {
    uint64_t submitted = 0, completed = 0, errors = 0;
    uint64_t bytes_in = 0, bytes_out = 0, bytes_zero_copy = 0;  // from the completions' res
    UringOpStats& operator+=(const UringOpStats& o);
};

struct ProcInfo {
    pid_t ppid = 0;
    bool exited = false;
    std::string comm;
    // > 0: not one process but this many exited ones, folded into one row per command name
    // once more exited processes were kept than the cap (trace's --keep-exited). Such a row
    // has a negative key in the Snapshot's maps, never a real pid.
    uint32_t folded = 0;
};

// How full one BPF map is: what `trace` reports so a long trace can be watched.
struct MapOccupancy {
    uint64_t entries = 0, max_entries = 0;
};

// What one BPF program of ipctrace cost, from the kernel's own accounting.
struct ProgramCost {
    std::string program;
    uint64_t runs = 0, run_time_ns = 0;
};

// Where one process's time went (bpf/budget.h), in ns: every part timed on its own.
struct TimeBudget {
    uint64_t outside_ns = 0;    // on CPU outside traced IPC calls
    uint64_t copy_call_ns = 0;  // on CPU inside IPC calls that move bytes
    uint64_t sync_call_ns = 0;  // on CPU inside IPC calls that move none
    uint64_t off_call_ns = 0;   // off CPU inside an IPC call (waiting for the peer, preempted)
    uint64_t off_other_ns = 0;  // off CPU outside IPC calls
    uint64_t probe_ns = 0;      // ipctrace's programs, run for this process
    TimeBudget& operator+=(const TimeBudget& o);
    TimeBudget& operator-=(const TimeBudget& o);  // o read earlier: every part only grows
};

struct Snapshot {
    // (tgid, mechanism, syscall nr) -> stats
    std::map<std::tuple<pid_t, Mechanism, unsigned>, CallStats> calls;
    // (tgid, mechanism) -> stats; MECH_NONE holds what happened outside IPC
    std::map<std::pair<pid_t, Mechanism>, ProcMechStats> proc_mech;
    std::map<pid_t, ProcInfo> procs;
    // (tgid, mechanism, object) -> use; filled only when the tracer tracks objects
    std::map<std::tuple<pid_t, Mechanism, uint64_t>, ObjectStats> objects;
    // (mechanism, object) -> path, for the FIFOs, POSIX shm and mq objects the kernel named
    std::map<std::pair<Mechanism, uint64_t>, std::string> object_names;
    std::array<uint64_t, DROP_COUNT> drops{};
    std::map<pid_t, TimeBudget> budget;
    // (tgid, mechanism of the file, io_uring opcode) -> the ring's operations
    std::map<std::tuple<pid_t, Mechanism, unsigned>, UringOpStats> uring_ops;
    // Occupancy of the kernel's maps when this snapshot was read, by map name.
    std::map<std::string, MapOccupancy> kernel_maps;
};

}  // namespace ipctrace
