// Bundled IPC workloads: real IPC between forked processes, every byte verified,
// every IPC syscall counted by the workload itself (the oracle the tracer is checked against).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "syscall_nr.h"

namespace ipctrace::workloads {

// Syscall numbers index RoleResult::ops: the tracer's bound (bpf/syscall_nr.h), no BPF code.
inline constexpr int kMaxSyscallNr = IPC_MAX_SYSCALL_NR;
inline constexpr int kMaxRoles = 2;

// ring: the SPSC ring of spsc_ring.h (the shared-memory default); sem, futex, spin: the classic
// per-message waits it is contrasted with. lossy: udp only, paced with no flow control.
enum class Sync { Default, Ring, Sem, Futex, Spin };
enum class Mode { Default, Stream, PingPong, Lossy };

std::string_view to_string(Sync s);
std::string_view to_string(Mode m);
// Every named value, in the order the CLI lists them; the value of a name, if any.
const std::vector<Sync>& sync_values();
const std::vector<Mode>& mode_values();
std::optional<Sync> sync_from_string(std::string_view text);
std::optional<Mode> mode_from_string(std::string_view text);

struct Params {
    uint64_t count = 0;  // messages (0: the workload's default)
    uint64_t size = 0;   // bytes per message (0: the workload's default)
    Sync sync = Sync::Default;
    Mode mode = Mode::Default;
    uint64_t rate = 0;   // --mode lossy: datagrams per second the sender paces at (0: default)
};

// What one role (process) measured. Lives in the shared control block, so it is
// written without syscalls and read by ipctrace after the role exits.
struct RoleResult {
    // messages and bytes are published as the role goes (relaxed atomic stores, see
    // publish_progress in common.h), so an interrupted run still says how far it got.
    uint64_t messages = 0;        // messages this role sent or received
    uint64_t bytes = 0;           // payload bytes this role sent or received
    uint64_t elapsed_ns = 0;      // first to last message, CLOCK_MONOTONIC
    uint64_t start_ns = 0;        // CLOCK_MONOTONIC when its first message began (0: not yet)
    uint64_t rtt_p50_ns = 0;      // ping-pong round trip, measured by the initiating role
    uint64_t rtt_p99_ns = 0;
    uint64_t lost = 0;            // datagrams sent but never received (udp)
    uint64_t sent = 0;            // udp: payload datagrams this role sent
    uint64_t received = 0;        // udp: payload datagrams this role received
    uint64_t control_sent = 0;    // udp: 8-byte control datagrams sent (credits, end markers)
    uint64_t control_received = 0;  // udp: 8-byte control datagrams received
    int32_t verified = 0;         // 1: every received byte matched the pattern
    int32_t finished = 0;         // 1: the role reached its end normally
    char error[160] = {};         // first failure, "" when none
    uint32_t ops[kMaxSyscallNr] = {};  // IPC syscalls this role made, by x86_64 syscall number
    // Syscalls this role makes but cannot count itself (glibc's sem_wait/sem_post only
    // enter the kernel under contention): their ops[] entries are not an oracle. -1: unused.
    int32_t uncounted[4] = {-1, -1, -1, -1};
};

// One MAP_SHARED page set created before the roles fork. Every role writes to all of it
// before tracing starts so that no page fault on it lands inside the measurement.
struct Control {
    std::atomic<uint32_t> go{0};         // harness -> roles: tracing is attached, start
    std::atomic<uint32_t> armed{0};      // roles -> harness: prefaulted and spinning, safe to trace
    std::atomic<uint32_t> published{0};  // owner role -> peer: ids/path below are ready
    std::atomic<uint32_t> ready{0};      // peer -> owner: attached/connected, owner may go on
    int64_t ids[8] = {};                 // SysV ids, ports, … created by the owner role
    char dir[108] = {};                  // private mkdtemp directory made by the harness
    char path[108] = {};                 // FIFO / socket / file path inside dir
    char name[64] = {};                  // POSIX shm / mq name
    Params params;
    RoleResult roles[kMaxRoles];
};

using RoleFn = void (*)(Control& ctl, int role, RoleResult& out);

struct Workload {
    std::string_view name;
    std::string_view description;          // one line for `ipctrace list`
    std::vector<std::string_view> mechanisms;  // mechanism keys it exercises
    uint64_t default_count;
    uint64_t default_size;
    std::vector<Sync> syncs;               // accepted --sync values, first is the default; empty: none
    std::vector<Mode> modes;               // accepted --mode values, first is the default; empty: none
    bool payload = true;                   // false: pure synchronisation (sem, signal), size is ignored
    RoleFn role;                           // called in each forked role process with role 0 or 1
    // Removes whatever the roles may have left (IPC ids, names, paths recorded in Control),
    // called by the harness in the parent after the roles are gone, even after a failure.
    void (*cleanup)(Control& ctl);
    // Optional check of resolved params against limits only the workload knows (kernel
    // sysctls, …); runs in the parent before any fork. The error is one line.
    Status (*check)(const Params& resolved) = nullptr;
    // true: each role gets a prefaulted private buffer of size + 64 bytes (scratch() in
    // common.h) to copy messages through; false for workloads that never copy (shm rings).
    bool scratch = true;
    // true: the roles count datagrams sent and received (RoleResult::sent, …), reported
    // as Result::datagrams_*.
    bool datagrams = false;
};

const std::vector<Workload>& all();
const Workload* find(std::string_view name);

// The merged figures of a finished run.
struct Result {
    std::string workload;
    Params params;                 // resolved: no zeros, no Default
    uint64_t messages = 0;         // messages delivered (receiver's count)
    uint64_t bytes = 0;            // payload bytes delivered
    uint64_t elapsed_ns = 0;
    // Each role's time from go() to its last message, added up (CLOCK_MONOTONIC): the time the
    // roles' part of a traced run covers, what compare's time budget must add up to.
    uint64_t roles_ns = 0;
    uint64_t rtt_p50_ns = 0, rtt_p99_ns = 0;
    uint64_t lost = 0;
    // udp: payload datagrams sent (sender's count), delivered (receiver's count), lost;
    // the 8-byte control datagrams (credits, end markers) both ways. datagram: false elsewhere.
    bool datagram = false;
    uint64_t datagrams_sent = 0, datagrams_delivered = 0, datagrams_lost = 0;
    uint64_t control_sent = 0, control_received = 0;
    bool verified = false;
    bool ok = false;               // every role finished, verified, no error
    std::string error;             // first error of any role, or how a role died
    std::vector<uint64_t> ops;     // summed RoleResult::ops, size kMaxSyscallNr
    std::vector<int> uncounted;    // syscall numbers whose ops[] the roles could not count
    std::vector<pid_t> pids;
    // The kernel's own accounting of the roles (wait4 rusage, summed): an independent oracle.
    uint64_t user_ns = 0, sys_ns = 0;
    uint64_t minflt = 0, majflt = 0, nvcsw = 0, nivcsw = 0;
};

// Resolves defaults and checks the params against the workload; the error (one line) when
// they do not fit.
Status resolve(const Workload& w, Params& p);

// Runs a workload in forked role processes. RAII: the destructor kills roles still alive
// and calls the workload's cleanup, so nothing is left behind on any path.
class Run {
public:
    Run(const Workload& w, const Params& resolved);
    ~Run();
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

    // Forks the roles; each prefaults the control block and spins (no syscalls but
    // sched_yield) until go(). Throws std::runtime_error on failure.
    void start();
    const std::vector<pid_t>& pids() const { return pids_; }
    void go();
    // Waits for every role; returns the merged result. If stop_requested() turns true
    // while waiting (Ctrl-C), the roles are killed and the result says so.
    Result wait(const std::function<bool()>& stop_requested = {});

private:
    const Workload& w_;
    Params params_;
    Control* ctl_ = nullptr;
    std::vector<pid_t> pids_;
    std::vector<bool> alive_;  // pids_[i] not reaped yet: only those may be signalled
    uint64_t go_ns_ = 0;       // when go() let the roles go
    bool cleaned_ = false;
    void kill_roles();
    void cleanup();
};

}  // namespace ipctrace::workloads
