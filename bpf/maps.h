/* The program's interface with the collector: the settings it writes before load, every map
 * it reads, and the one way an aggregate's entry is found or created. Part of ipctrace.bpf.c
 * (one compilation unit, one skeleton): included after vmlinux and ipctrace.h. */
#ifndef IPCTRACE_MAPS_H
#define IPCTRACE_MAPS_H

/* Set by the collector before load. */
const volatile unsigned int filter_mode = FILTER_TARGETS;
const volatile unsigned int self_tgid = 0;
const volatile unsigned long long target_cgroup = 0; /* FILTER_CGROUP */
const volatile bool track_objects = false;           /* fill `objects` (trace's communication map) */
/* Regular files among them (MECH_FILE): only when they count as IPC (--include-file-io, run's
 * `file` workload). A machine-wide trace of a build would fill `objects` with the files read. */
const volatile bool track_file_objects = false;
/* Split waits by what became ready, count passed descriptors and io_uring operations: what
 * applications do and run's bundled workloads never do. Off, the verifier drops that code
 * (a third of start-up's verification) and the io_uring programs are not loaded. */
const volatile bool track_app_io = false;

/* The IPC call a thread is inside. Task-local storage: found from the task itself, no
 * hash lookup, and freed with the task (a thread killed inside a call leaves nothing). */
struct inflight {
	unsigned long long start_ns;
	unsigned long long arg;    /* the rule's `arg`, kept for BYTES_ARG_IN */
	unsigned long long object; /* the IPC object, when track_objects */
	unsigned short nr;
	unsigned char mechanism;
	unsigned char active;      /* 0 between calls */
	unsigned char traced;      /* FILTER_TARGETS: the thread's process is in `targets` */
	/* The mapping the thread last faulted in, so the next faults in it need no
	 * bpf_find_vma (7.5 µs and an IRQ-work IPI each). Valid while the address space
	 * and its mmap-lock sequence are those seen at the lookup: any change to the
	 * mappings takes the mmap write lock, which moves the sequence. See faults.h. */
	unsigned long long vma_start;
	unsigned long long vma_end; /* 0: nothing cached */
	unsigned long long vma_mm;
	unsigned int vma_seq;
	unsigned char vma_mechanism;
	unsigned char sync_mechanism; /* a shared futex call's mapping (object: its object), or 0 */
	unsigned long long vma_object; /* the cached mapping's object and file (struct vma_lookup) */
	unsigned long long vma_file;
	unsigned char vma_file_backed;
	/* Every syscall the thread entered since its last flush into proc_mech_stats' all_syscalls
	 * (every 64, and when the thread exits): one add per call, a map update per 64. */
	unsigned int syscalls;
	/* User faults whose lookup failed because the CPU's deferred mmap unlock was busy
	 * (another BPF program's bpf_find_vma): counted as other and fault_unresolved at once,
	 * then moved to their mapping's mechanism at the thread's next sys_exit, where
	 * interrupts are on and the lookup needs no deferral, if the mappings have not changed
	 * since and [pend_lo, pend_hi] lies in one mapping. Not at sys_enter too: that made the
	 * verifier walk sys_enter's classification twice (9700 insns instead of 3800). */
	unsigned long long pend_lo;
	unsigned long long pend_hi;
	unsigned int pend_n;
	unsigned int pend_seq;
	/* Context switches, from the scheduler's own per-thread counters (what getrusage sums):
	 * their values at this call's sys_enter, so sys_exit counts the call's switches with no
	 * sched_switch program; at the last flush, so the flush counts those outside IPC calls
	 * (the total since then, less in_call_*). */
	unsigned long long enter_nvcsw, enter_nivcsw;
	unsigned long long mark_nvcsw, mark_nivcsw;
	unsigned long long in_call_nvcsw, in_call_nivcsw;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IPC_DEFAULT_TARGETS);
	__type(key, u32); /* tgid */
	__type(value, u8);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight SEC(".maps");

/* The per-CPU hashes are not preallocated: preallocating 16384 entries × CPUs × up to 368
 * bytes took ~20 ms of start-up, while a run fills a few dozen keys. An element is allocated
 * (from the BPF memory allocator, safe in tracing programs) once per key, on its first event. */
/* One entry for all CPUs, updated with atomic adds (uncontended: ~4 ns each): its 2.3 KiB of
 * latency buckets come from the slab. Per CPU they came from the per-CPU allocator's atomic
 * pool, which a few hundred processes starting at once ran dry (--all over a 200-child fork
 * storm lost the children's entries as stats_full). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IPC_DEFAULT_STATS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct syscall_key);
	__type(value, struct syscall_stats);
} syscall_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, IPC_DEFAULT_STATS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct proc_mech_key);
	__type(value, struct proc_mech_stats);
} proc_mech_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IPC_DEFAULT_PROCS);
	__type(key, u32); /* tgid */
	__type(value, struct proc_info);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, IPC_DEFAULT_STATS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct object_key);
	__type(value, struct object_stats);
} objects SEC(".maps");

/* (mechanism, object) -> name, for the objects that have one (FIFO, POSIX shm and mq). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IPC_DEFAULT_OBJECT_NAMES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct object_key);
	__type(value, struct object_name);
} object_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_COUNT);
	__type(key, u32);
	__type(value, u64);
} drops SEC(".maps");

static const struct syscall_stats zero_syscall_stats;
static const struct proc_mech_stats zero_proc_mech_stats;

static __always_inline void count_drop(u32 reason)
{
	u64 *n = bpf_map_lookup_elem(&drops, &reason);
	if (n)
		(*n)++;
}

/* The entry of key in a hash of aggregates, created from `zero` on the key's first event;
 * NULL when the map is full, counted as `drop`. *created: the key was missing at first. */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *zero, u32 drop, bool *created)
{
	void *value = bpf_map_lookup_elem(map, key);

	*created = false;
	if (value)
		return value;
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	value = bpf_map_lookup_elem(map, key);
	if (!value)
		count_drop(drop);
	*created = value != NULL;
	return value;
}

/* The current process's parent and name, on its first entry (global: verified once). */
__noinline int remember_proc(u32 tgid)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct proc_info info = {};

	if (bpf_map_lookup_elem(&procs, &tgid))
		return 0;
	info.ppid = BPF_CORE_READ(task, real_parent, tgid);
	BPF_CORE_READ_STR_INTO(&info.comm, task, group_leader, comm);
	if (bpf_map_update_elem(&procs, &tgid, &info, BPF_NOEXIST) && !bpf_map_lookup_elem(&procs, &tgid))
		count_drop(DROP_PROC_FULL);
	return 0;
}

/* A new statistics entry records its process (once: remember_proc looks first). */
static __always_inline struct syscall_stats *syscall_stats_for(struct syscall_key *key)
{
	bool created;
	struct syscall_stats *s = lookup_or_init(&syscall_stats, key, &zero_syscall_stats, DROP_STATS_FULL, &created);

	if (created)
		remember_proc(key->tgid);
	return s;
}

static __always_inline struct proc_mech_stats *proc_mech_for(u32 tgid, u8 mechanism)
{
	struct proc_mech_key key = {.tgid = tgid, .mechanism = mechanism};
	bool created;
	struct proc_mech_stats *s = lookup_or_init(&proc_mech_stats, &key, &zero_proc_mech_stats, DROP_STATS_FULL, &created);

	if (created)
		remember_proc(tgid);
	return s;
}

/* The thread's storage, created if missing; switches count from now. */
static __always_inline struct inflight *new_thread_storage(struct task_struct *task)
{
	struct inflight *c = bpf_task_storage_get(&inflight, task, 0, 0);

	if (c)
		return c;
	c = bpf_task_storage_get(&inflight, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (c) {
		c->mark_nvcsw = task->nvcsw;
		c->mark_nivcsw = task->nivcsw;
	}
	return c;
}

/* Into the process's MECH_NONE entry: the thread's syscalls since the last flush, and its
 * switches outside IPC calls (global: verified once per program, not per call site). */
__noinline int flush_thread(u32 tgid, struct inflight *c, u64 nvcsw, u64 nivcsw)
{
	struct proc_mech_stats *s;

	if (!c)
		return 0;
	s = proc_mech_for(tgid, MECH_NONE);
	if (s) {
		s->all_syscalls += c->syscalls;
		s->voluntary_switches += nvcsw - c->mark_nvcsw - c->in_call_nvcsw;
		s->involuntary_switches += nivcsw - c->mark_nivcsw - c->in_call_nivcsw;
	}
	c->syscalls = 0;
	c->mark_nvcsw = nvcsw;
	c->mark_nivcsw = nivcsw;
	c->in_call_nvcsw = c->in_call_nivcsw = 0;
	return 0;
}

static __always_inline void flush_syscalls(struct task_struct *task, struct inflight *c)
{
	flush_thread(task->tgid, c, task->nvcsw, task->nivcsw);
}

#endif /* IPCTRACE_MAPS_H */
