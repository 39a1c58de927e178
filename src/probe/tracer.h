// Owns the BPF skeleton: opens, loads and attaches the probes, fills the target set,
// and reads the in-kernel aggregates. Every libbpf object is released by RAII.
#pragma once

#include <sys/types.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/snapshot.h"

struct ipctrace_bpf;
struct bpf_link;

namespace ipctrace {

struct TraceError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Tracer {
public:
    // Targets: the pids given to add_target() and their descendants; All: every process
    // but ipctrace; Cgroup: every process in the cgroup (v2) whose id is `cgroup_id`.
    enum class Scope { Targets, All, Cgroup };
    // Which calls are also counted per IPC object, for the communication map (one more map
    // update per call): none, those on IPC files, or those on regular files too. A regular
    // file is IPC only when the user says so (--include-file-io; run's `file` workload): a
    // machine-wide trace of a build would fill the object table with the headers it reads.
    enum class Objects { None, Ipc, IpcAndFiles };

    // Opens and loads the programs; throws TraceError with context ("load: …").
    // objects: see Objects. max_procs (0: the built-in sizes): how many processes the
    // per-process tables hold (`targets`, `procs`), set before load; the statistics tables
    // grow with it (see map_sizes()).
    // track_budget: also keep each process's time budget (bpf/budget.h; compare's traced runs),
    // which costs every traced call and context switch two timestamps and a map update.
    // track_app_io: split poll-family waits by what became ready, count descriptors passed with
    // SCM_RIGHTS and io_uring's operations (trace; run's bundled workloads use none of them).
    Tracer(Scope scope, bool verbose, uint64_t cgroup_id = 0, Objects objects = Objects::None, uint32_t max_procs = 0,
           bool track_budget = false, bool track_app_io = false);
    ~Tracer();
    Tracer(const Tracer&) = delete;
    Tracer& operator=(const Tracer&) = delete;

    // Adds a process (and, from then on, the children it forks) to the traced set.
    void add_target(pid_t tgid);
    // Attaches every program; throws "attach raw_tp/sys_enter: Operation not permitted".
    void attach();
    // Detaches every program (the maps stay readable).
    void detach();
    Snapshot snapshot() const;
    // Only the time budget of each process (bpf/budget.h): cheap, read when a run starts.
    std::map<pid_t, TimeBudget> budget() const;
    // Deletes every kernel entry of these processes (they exited: their figures were read into
    // `snap`, whose keys say which entries exist): statistics, objects, procs and targets.
    void forget(const std::vector<pid_t>& tgids, const Snapshot& snap);

    // Turns on the kernel's run-time accounting of BPF programs (what kernel.bpf_stats_enabled
    // does) while this tracer lives, so self_cost() can say what each probe cost.
    void enable_self_cost();
    std::vector<ProgramCost> self_cost() const;

private:
    void read_waits_and_fds(Snapshot& snap) const;
    void forget_epoll(const std::vector<pid_t>& tgids);
    struct SkeletonDeleter {
        void operator()(ipctrace_bpf* skel) const;
    };
    struct LinkDeleter {
        void operator()(bpf_link* link) const;
    };
    std::unique_ptr<ipctrace_bpf, SkeletonDeleter> skel_;
    std::vector<std::unique_ptr<bpf_link, LinkDeleter>> links_;
    int stats_fd_ = -1;
};

// max_entries of the pid-keyed maps for a --max-procs value (0: the built-in sizes, which the
// tracer reads from the opened object).
struct MapSizes {
    uint32_t targets, procs, stats;  // stats: syscall_stats, proc_mech_stats, objects
};
MapSizes map_sizes(uint32_t max_procs, const MapSizes& built_in);

}  // namespace ipctrace
