#include "probe/tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <set>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <vector>

#include "probe/heap_prefault.h"
#include "probe/kernel_btf.h"
#include "budget.h"
#include "ipctrace.skel.h"

namespace ipctrace {
namespace {

bool g_verbose = false;

int print_libbpf(enum libbpf_print_level level, const char* fmt, va_list args) {
    if (level == LIBBPF_DEBUG || !g_verbose) return 0;
    return std::vfprintf(stderr, fmt, args);
}

std::string error_text(int err) { return std::strerror(err < 0 ? -err : err); }

// Iterates a map's keys, calling fn(key, values-of-every-CPU).
template <typename Key, typename Value, typename Fn>
void for_each_percpu(int fd, Fn fn) {
    const int ncpus = libbpf_num_possible_cpus();
    std::vector<Value> values(ncpus > 0 ? ncpus : 1);
    Key key{}, next{};
    Key* prev = nullptr;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        if (bpf_map_lookup_elem(fd, &next, values.data()) == 0) fn(next, values);
        key = next;
        prev = &key;
    }
}

template <typename Key, typename Value, typename Fn>
void for_each(int fd, Fn fn) {
    Key key{}, next{};
    Key* prev = nullptr;
    Value value{};
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        if (bpf_map_lookup_elem(fd, &next, &value) == 0) fn(next, value);
        key = next;
        prev = &key;
    }
}

}  // namespace

void Tracer::SkeletonDeleter::operator()(ipctrace_bpf* skel) const { ipctrace_bpf__destroy(skel); }
void Tracer::LinkDeleter::operator()(bpf_link* link) const { bpf_link__destroy(link); }

MapSizes map_sizes(uint32_t max_procs, const MapSizes& built_in) {
    if (max_procs == 0) return built_in;
    // A process has a few statistics entries (one per syscall and mechanism it used): the
    // statistics tables keep their size unless more processes call for more room.
    return {max_procs, max_procs, std::max(built_in.stats, max_procs * 2)};
}

Tracer::Tracer(Scope scope, bool verbose, uint64_t cgroup_id, Objects objects, uint32_t max_procs, bool track_budget,
               bool track_app_io) {
    g_verbose = verbose;
    libbpf_set_print(print_libbpf);
    KernelBtf::register_section_handler();
    // Alive until the load is done: libbpf reads the BTF it names at load.
    const KernelBtf kernel_btf(verbose);
    // Only the full kernel BTF is large enough for its page faults to cost start-up.
    std::optional<HeapPrefault> heap_for_load;
    if (!kernel_btf.minimal()) heap_for_load.emplace(HeapPrefault::for_kernel_btf());
    LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = kernel_btf.custom_path());
    skel_.reset(ipctrace_bpf__open_opts(&open_opts));
    if (!skel_) throw TraceError("open BPF object: " + error_text(errno));
#define KERNEL_TYPE(name) skel_->rodata->kbtf_##name = kernel_btf.type_id(#name);
#include "kernel_types.def"
#undef KERNEL_TYPE
    KernelBtf::set_load_ids(kernel_btf.rdonly_cast_id());
    skel_->rodata->filter_mode = scope == Scope::All ? FILTER_ALL : scope == Scope::Cgroup ? FILTER_CGROUP : FILTER_TARGETS;
    skel_->rodata->target_cgroup = cgroup_id;
    const bool track_objects = objects != Objects::None;
    skel_->rodata->track_objects = track_objects;
    skel_->rodata->track_file_objects = objects == Objects::IpcAndFiles;
    skel_->rodata->track_budget = track_budget;
    skel_->rodata->track_app_io = track_app_io;
    if (!track_app_io) {
        bpf_program__set_autoload(skel_->progs.on_uring_submit, false);
        bpf_program__set_autoload(skel_->progs.on_uring_complete, false);
        bpf_program__set_autoload(skel_->progs.on_uring_overflow, false);
        bpf_map__set_max_entries(skel_->maps.uring_reqs, 1);  // an LRU is preallocated
    }
    // The per-object tables only serve trace's map: unused, one entry each is enough.
    if (!track_objects) {
        bpf_map__set_max_entries(skel_->maps.objects, 1);
        bpf_map__set_max_entries(skel_->maps.object_names, 1);
    }
    if (!track_budget) {
        bpf_map__set_max_entries(skel_->maps.budget_stats, 1);
        // sched_switch serves the budget only (switches come from the task's counters): the
        // busiest event on the machine costs nothing when no budget is kept.
        bpf_program__set_autoload(skel_->progs.on_sched_switch, false);
    }
    if (max_procs) {
        // The built-in sizes are the object's own (bpf/maps.h), read back rather than repeated.
        const MapSizes built_in{bpf_map__max_entries(skel_->maps.targets), bpf_map__max_entries(skel_->maps.procs),
                                bpf_map__max_entries(skel_->maps.syscall_stats)};
        const MapSizes sizes = map_sizes(max_procs, built_in);
        bpf_map__set_max_entries(skel_->maps.targets, sizes.targets);
        bpf_map__set_max_entries(skel_->maps.procs, sizes.procs);
        if (track_budget) bpf_map__set_max_entries(skel_->maps.budget_stats, sizes.procs);
        bpf_map__set_max_entries(skel_->maps.syscall_stats, sizes.stats);
        bpf_map__set_max_entries(skel_->maps.proc_mech_stats, sizes.stats);
        bpf_map__set_max_entries(skel_->maps.wait_stats, sizes.stats);
        bpf_map__set_max_entries(skel_->maps.fd_pass_stats, sizes.stats);
        bpf_map__set_max_entries(skel_->maps.uring_ops, sizes.stats);
        if (track_objects) bpf_map__set_max_entries(skel_->maps.objects, sizes.stats);
    }
    skel_->rodata->self_tgid = static_cast<unsigned>(getpid());
    if (int err = ipctrace_bpf__load(skel_.get()))
        throw TraceError("load BPF programs: " + error_text(err) + (verbose ? "" : " (run with -v for the verifier log)"));
}

Tracer::~Tracer() {
    if (stats_fd_ >= 0) close(stats_fd_);
}

void Tracer::enable_self_cost() {
    if (stats_fd_ >= 0) return;
    stats_fd_ = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (stats_fd_ < 0) throw TraceError("enable BPF run-time statistics: " + error_text(errno));
}

std::vector<ProgramCost> Tracer::self_cost() const {
    std::vector<ProgramCost> costs;
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, skel_->obj) {
        if (!bpf_program__autoload(prog)) continue;
        bpf_prog_info info{};
        uint32_t len = sizeof info;
        if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
            costs.push_back({bpf_program__name(prog), info.run_cnt, info.run_time_ns});
    }
    return costs;
}

void Tracer::add_target(pid_t tgid) {
    const uint32_t key = static_cast<uint32_t>(tgid);
    const uint8_t one = 1;
    if (bpf_map_update_elem(bpf_map__fd(skel_->maps.targets), &key, &one, BPF_ANY))
        throw TraceError("add pid " + std::to_string(tgid) + " to the targets map: " + error_text(errno));
}

void Tracer::attach() {
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, skel_->obj) {
        if (!bpf_program__autoload(prog)) continue;
        bpf_link* link = bpf_program__attach(prog);
        if (!link) {
            const int err = errno;
            links_.clear();
            throw TraceError(std::string("attach ") + bpf_program__section_name(prog) + ": " + error_text(err));
        }
        links_.emplace_back(link);
    }
    // The fault program serves both fault tracepoints (bpf/ipctrace.bpf.c).
    bpf_link* kernel_faults = bpf_program__attach_raw_tracepoint(skel_->progs.on_page_fault, "page_fault_kernel");
    if (!kernel_faults) {
        const int err = errno;
        links_.clear();
        throw TraceError("attach raw_tp/page_fault_kernel: " + error_text(err));
    }
    links_.emplace_back(kernel_faults);
}

void Tracer::detach() { links_.clear(); }

Snapshot Tracer::snapshot() const {
    Snapshot snap;
    for_each<syscall_key, syscall_stats>(bpf_map__fd(skel_->maps.syscall_stats), [&](const syscall_key& k, const syscall_stats& v) {
        CallStats& c = snap.calls[{static_cast<pid_t>(k.tgid), static_cast<Mechanism>(k.mechanism), k.nr}];
        c.count = std::accumulate(std::begin(v.hist), std::end(v.hist), uint64_t{0});  // one bucket per call
        c.errors = v.errors;
        c.total_ns = v.total_ns;
        c.bytes_in = v.bytes_in;
        c.bytes_out = v.bytes_out;
        c.bytes_zero_copy = v.bytes_zero_copy;
        c.bytes_direct = v.bytes_direct;
        std::copy(std::begin(v.hist), std::end(v.hist), c.hist.begin());
        // The kernel counts a call's switches with the call; the model keeps them per mechanism.
        if (v.voluntary_switches || v.involuntary_switches) {
            ProcMechStats& m = snap.proc_mech[{static_cast<pid_t>(k.tgid), static_cast<Mechanism>(k.mechanism)}];
            m.voluntary_switches += v.voluntary_switches;
            m.involuntary_switches += v.involuntary_switches;
        }
    });
    for_each_percpu<proc_mech_key, proc_mech_stats>(
        bpf_map__fd(skel_->maps.proc_mech_stats),
        [&](const proc_mech_key& k, const std::vector<proc_mech_stats>& per_cpu) {
            ProcMechStats& out = snap.proc_mech[{static_cast<pid_t>(k.tgid), static_cast<Mechanism>(k.mechanism)}];
            for (const auto& v : per_cpu)
                out += ProcMechStats{v.page_faults,          v.copy_faults,  v.voluntary_switches,
                                     v.involuntary_switches, v.signals_sent, v.signals_delivered,
                                     v.all_syscalls, v.mmap_private_file, v.mmap_private_anon, v.mmap_shared, v.munmaps,
                                     v.mprotects, v.mremaps, v.file_faults};
        });
    for_each_percpu<object_key, object_stats>(
        bpf_map__fd(skel_->maps.objects), [&](const object_key& k, const std::vector<object_stats>& per_cpu) {
            ObjectStats& out = snap.objects[{static_cast<pid_t>(k.tgid), static_cast<Mechanism>(k.mechanism), k.object}];
            for (const auto& v : per_cpu)
                out += ObjectStats{v.calls, v.bytes_in, v.bytes_out, v.page_faults, v.sync_calls, v.fds_sent, v.fds_received};
        });
    read_waits_and_fds(snap);
    for_each_percpu<uring_op_key, uring_op_stats>(
        bpf_map__fd(skel_->maps.uring_ops), [&](const uring_op_key& k, const std::vector<uring_op_stats>& per_cpu) {
            UringOpStats& out = snap.uring_ops[{static_cast<pid_t>(k.tgid), static_cast<Mechanism>(k.mechanism), k.opcode}];
            for (const auto& v : per_cpu)
                out += UringOpStats{v.submitted, v.completed, v.errors, v.bytes_in, v.bytes_out, v.bytes_zero_copy};
        });
    // Parts from the file up: the path is them in reverse, "…" when the walk stopped short.
    for_each<object_key, object_name>(bpf_map__fd(skel_->maps.object_names), [&](const object_key& k, const object_name& n) {
        std::string path = n.truncated ? "…" : "";
        for (unsigned i = std::min<unsigned>(n.depth, IPC_NAME_PARTS); i-- > 0;)
            path += "/" + std::string(n.part[i], strnlen(n.part[i], sizeof n.part[i]));
        if (!path.empty()) snap.object_names[{static_cast<Mechanism>(k.mechanism), k.object}] = path;
    });
    for_each<uint32_t, proc_info>(bpf_map__fd(skel_->maps.procs), [&](uint32_t tgid, const proc_info& info) {
        snap.procs[static_cast<pid_t>(tgid)] =
            ProcInfo{static_cast<pid_t>(info.ppid), info.exited != 0, std::string(info.comm, strnlen(info.comm, sizeof info.comm))};
    });
    snap.budget = budget();
    const int ncpus = libbpf_num_possible_cpus();
    std::vector<uint64_t> per_cpu(ncpus > 0 ? ncpus : 1);
    for (uint32_t reason = 0; reason < DROP_COUNT; ++reason) {
        if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.drops), &reason, per_cpu.data()) == 0)
            for (uint64_t n : per_cpu) snap.drops[reason] += n;
    }
    uint64_t targets = 0;
    {
        uint32_t key = 0, next = 0;
        const uint32_t* prev = nullptr;
        while (bpf_map_get_next_key(bpf_map__fd(skel_->maps.targets), prev, &next) == 0) {
            ++targets;
            key = next;
            prev = &key;
        }
    }
    auto occupancy = [](const bpf_map* map, uint64_t entries) { return MapOccupancy{entries, bpf_map__max_entries(map)}; };
    snap.kernel_maps = {{"targets", occupancy(skel_->maps.targets, targets)},
                        {"procs", occupancy(skel_->maps.procs, snap.procs.size())},
                        {"syscall_stats", occupancy(skel_->maps.syscall_stats, snap.calls.size())},
                        {"proc_mech_stats", occupancy(skel_->maps.proc_mech_stats, snap.proc_mech.size())},
                        {"objects", occupancy(skel_->maps.objects, snap.objects.size())},
                        {"uring_ops", occupancy(skel_->maps.uring_ops, snap.uring_ops.size())}};
    return snap;
}

// Waits and passed descriptors (bpf/waits.h, bpf/fd_passing.h): kept per process and mechanism
// in maps of their own, read into the same ProcMechStats rows as the other per-mechanism events.
void Tracer::read_waits_and_fds(Snapshot& snap) const {
    for_each_percpu<proc_mech_key, ipc_wait_stats>(
        bpf_map__fd(skel_->maps.wait_stats), [&](const proc_mech_key& k, const std::vector<ipc_wait_stats>& per_cpu) {
            WaitStats& out = snap.proc_mech[{static_cast<pid_t>(k.tgid), static_cast<Mechanism>(k.mechanism)}].waits;
            for (const auto& v : per_cpu) out += WaitStats{v.wait_ns, v.ready_fds, v.idle_ns, v.timeouts};
        });
    for_each_percpu<proc_mech_key, ipc_fd_pass_stats>(
        bpf_map__fd(skel_->maps.fd_pass_stats), [&](const proc_mech_key& k, const std::vector<ipc_fd_pass_stats>& per_cpu) {
            FdPassStats& out = snap.proc_mech[{static_cast<pid_t>(k.tgid), static_cast<Mechanism>(k.mechanism)}].fds_passed;
            for (const auto& v : per_cpu) {
                FdPassStats f;
                f.sent = v.sent;
                f.received = v.received;
                for (size_t i = 0; i < f.sent_kinds.size(); ++i) {
                    f.sent_kinds[i] = v.sent_kinds[i];
                    f.received_kinds[i] = v.received_kinds[i];
                }
                out += f;
            }
        });
}

// The epoll registrations of processes that are gone: their fds and data mean nothing now.
void Tracer::forget_epoll(const std::vector<pid_t>& tgids) {
    const std::set<uint32_t> gone(tgids.begin(), tgids.end());
    std::vector<epoll_reg_key> regs;
    for_each<epoll_reg_key, epoll_reg>(bpf_map__fd(skel_->maps.epoll_regs), [&](const epoll_reg_key& k, const epoll_reg&) {
        if (gone.count(k.tgid)) regs.push_back(k);
    });
    for (const auto& k : regs) bpf_map_delete_elem(bpf_map__fd(skel_->maps.epoll_regs), &k);
    std::vector<epoll_fd_key> fds;
    for_each<epoll_fd_key, uint64_t>(bpf_map__fd(skel_->maps.epoll_fds), [&](const epoll_fd_key& k, uint64_t) {
        if (gone.count(k.tgid)) fds.push_back(k);
    });
    for (const auto& k : fds) bpf_map_delete_elem(bpf_map__fd(skel_->maps.epoll_fds), &k);
}

std::map<pid_t, TimeBudget> Tracer::budget() const {
    std::map<pid_t, TimeBudget> out;
    for_each_percpu<uint32_t, ipc_budget>(bpf_map__fd(skel_->maps.budget_stats), [&](uint32_t tgid, const std::vector<ipc_budget>& per_cpu) {
        TimeBudget& b = out[static_cast<pid_t>(tgid)];
        for (const auto& v : per_cpu) b += TimeBudget{v.outside_ns, v.copy_call_ns, v.sync_call_ns, v.off_call_ns, v.off_other_ns, v.probe_ns};
    });
    return out;
}

void Tracer::forget(const std::vector<pid_t>& tgids, const Snapshot& snap) {
    // ENOENT is fine: the key was never there (a process that made no call of some kind).
    for (pid_t pid : tgids) {
        const auto tgid = static_cast<uint32_t>(pid);
        for (auto it = snap.calls.lower_bound({pid, Mechanism{}, 0}); it != snap.calls.end() && std::get<0>(it->first) == pid; ++it) {
            syscall_key key{};
            key.tgid = tgid;
            key.nr = static_cast<unsigned short>(std::get<2>(it->first));
            key.mechanism = static_cast<unsigned char>(std::get<1>(it->first));
            bpf_map_delete_elem(bpf_map__fd(skel_->maps.syscall_stats), &key);
        }
        for (auto it = snap.proc_mech.lower_bound({pid, Mechanism{}}); it != snap.proc_mech.end() && it->first.first == pid; ++it) {
            proc_mech_key key{tgid, static_cast<unsigned>(it->first.second)};
            bpf_map_delete_elem(bpf_map__fd(skel_->maps.proc_mech_stats), &key);
        }
        for (auto it = snap.proc_mech.lower_bound({pid, Mechanism{}}); it != snap.proc_mech.end() && it->first.first == pid; ++it) {
            proc_mech_key key{tgid, static_cast<unsigned>(it->first.second)};
            bpf_map_delete_elem(bpf_map__fd(skel_->maps.wait_stats), &key);
            bpf_map_delete_elem(bpf_map__fd(skel_->maps.fd_pass_stats), &key);
        }
        for (auto it = snap.objects.lower_bound({pid, Mechanism{}, 0}); it != snap.objects.end() && std::get<0>(it->first) == pid; ++it) {
            object_key key{tgid, static_cast<unsigned>(std::get<1>(it->first)), std::get<2>(it->first)};
            bpf_map_delete_elem(bpf_map__fd(skel_->maps.objects), &key);
        }
        for (auto it = snap.uring_ops.lower_bound({pid, Mechanism{}, 0}); it != snap.uring_ops.end() && std::get<0>(it->first) == pid; ++it) {
            uring_op_key key{};
            key.tgid = tgid;
            key.mechanism = static_cast<unsigned char>(std::get<1>(it->first));
            key.opcode = static_cast<unsigned char>(std::get<2>(it->first));
            bpf_map_delete_elem(bpf_map__fd(skel_->maps.uring_ops), &key);
        }
        bpf_map_delete_elem(bpf_map__fd(skel_->maps.procs), &tgid);
        bpf_map_delete_elem(bpf_map__fd(skel_->maps.budget_stats), &tgid);
        bpf_map_delete_elem(bpf_map__fd(skel_->maps.targets), &tgid);
    }
    forget_epoll(tgids);
}

}  // namespace ipctrace
