/* Where a traced process's time went, for compare's per-message time budget: every moment of
 * a thread is on CPU outside IPC calls, on CPU inside one (moving bytes or not), off CPU (inside
 * a call or outside), or in ipctrace's own programs. Each is summed from timestamps taken at the
 * events that switch between them (sys_enter/sys_exit of a traced call, sched_switch), never
 * derived from the others. The struct is shared with the collector; the code is BPF only and
 * part of ipctrace.bpf.c (included after maps.h). */
#ifndef IPCTRACE_BUDGET_H
#define IPCTRACE_BUDGET_H

/* Per tgid, summed over the process's threads, in ns. */
struct ipc_budget {
	unsigned long long outside_ns;   /* on CPU outside traced IPC calls: user code, other syscalls, faults there */
	unsigned long long copy_call_ns; /* on CPU inside IPC calls that move bytes (read, write, send, msgsnd…) */
	unsigned long long sync_call_ns; /* on CPU inside IPC calls that move none (futex, semop, setup calls) */
	unsigned long long off_call_ns;  /* off CPU while inside an IPC call: blocked on the peer, or preempted */
	unsigned long long off_other_ns; /* off CPU outside IPC calls: preempted, or blocked elsewhere */
	unsigned long long probe_ns;     /* ipctrace's own programs, run for this process */
};

#if defined(__bpf__) || defined(__BPF__)

/* Set by the collector before load, for compare's traced runs only: off, the verifier drops
 * every line below and run and trace pay nothing for it. */
const volatile bool track_budget = false;

/* A timestamp only when the budget is kept. */
static __always_inline u64 budget_now(void)
{
	return track_budget ? bpf_ktime_get_ns() : 0;
}

enum { BUDGET_OUTSIDE = 0, BUDGET_COPY_CALL, BUDGET_SYNC_CALL };

struct budget_task {
	unsigned long long mark; /* when the current segment began (0: not seen yet) */
	unsigned char state;     /* BUDGET_* */
	unsigned char off;       /* switched out, since mark */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct budget_task);
} budget_tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, IPC_DEFAULT_PROCS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, u32); /* tgid */
	__type(value, struct ipc_budget);
} budget_stats SEC(".maps");

/* When this CPU last switched tasks: when the task running on it now got the CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} budget_cpu_switch SEC(".maps");

static const struct ipc_budget zero_budget;

static __always_inline struct ipc_budget *budget_of(u32 tgid)
{
	bool created;

	return lookup_or_init(&budget_stats, &tgid, &zero_budget, DROP_STATS_FULL, &created);
}

static __always_inline void budget_add(struct ipc_budget *b, u8 state, bool off, u64 ns)
{
	if (off)
		*(state == BUDGET_OUTSIDE ? &b->off_other_ns : &b->off_call_ns) += ns;
	else if (state == BUDGET_COPY_CALL)
		b->copy_call_ns += ns;
	else if (state == BUDGET_SYNC_CALL)
		b->sync_call_ns += ns;
	else
		b->outside_ns += ns;
}

/* A target thread switched out is running again: its off-CPU time ended when this CPU last
 * switched, which was to it (any later switch here would have switched it out). Settled at
 * its first event back, since a raw_tp sched_switch cannot reach the next task's storage. */
static __always_inline void budget_settle(struct budget_task *bt, u32 tgid)
{
	u32 zero = 0;
	u64 *in;
	struct ipc_budget *b;

	if (!bt->off)
		return;
	bt->off = 0;
	in = bpf_map_lookup_elem(&budget_cpu_switch, &zero);
	if (!in)
		return;
	b = budget_of(tgid);
	if (b && bt->mark && *in > bt->mark)
		budget_add(b, bt->state, true, *in - bt->mark);
	bt->mark = *in;  /* on CPU since then */
}

/* sched_switch, after the leaving task's part: the next task gets the CPU now. */
static __always_inline void budget_cpu_switched(void)
{
	u32 zero = 0;
	u64 *at;

	if (!track_budget)
		return;
	at = bpf_map_lookup_elem(&budget_cpu_switch, &zero);
	if (at)
		*at = bpf_ktime_get_ns();
}

/* A program of ipctrace ran for a target thread from t0 on: the segment before it ends at
 * t0, the program's own time (to now) is the tracer's, and the next segment, in `state`,
 * begins now. */
static __always_inline void budget_step(struct budget_task *bt, u32 tgid, u64 t0, u8 state)
{
	struct ipc_budget *b = budget_of(tgid);
	u64 t1;

	if (!b)
		return;
	budget_settle(bt, tgid);
	if (bt->mark && t0 > bt->mark)
		budget_add(b, bt->state, false, t0 - bt->mark);
	t1 = bpf_ktime_get_ns();
	b->probe_ns += t1 - t0;
	bt->state = state;
	bt->mark = t1;
}

/* sys_enter of a traced IPC call (the thread is a target). */
static __always_inline void budget_call_enter(struct task_struct *task, u32 tgid, u64 t0, bool copies)
{
	struct budget_task *bt;

	if (!track_budget)
		return;
	bt = bpf_task_storage_get(&budget_tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (bt)
		budget_step(bt, tgid, t0, copies ? BUDGET_COPY_CALL : BUDGET_SYNC_CALL);
}

/* sys_exit of a traced IPC call. */
static __always_inline void budget_call_exit(struct task_struct *task, u32 tgid, u64 t0)
{
	struct budget_task *bt;

	if (!track_budget)
		return;
	bt = bpf_task_storage_get(&budget_tasks, task, 0, 0);
	if (bt)
		budget_step(bt, tgid, t0, BUDGET_OUTSIDE);
}

/* Another program (a page fault's) ran for the current thread from t0 on. */
static __always_inline void budget_probe_ran(struct task_struct *task, u64 t0)
{
	struct budget_task *bt;

	if (!track_budget)
		return;
	bt = bpf_task_storage_get(&budget_tasks, task, 0, 0);
	if (bt)
		budget_step(bt, task->tgid, t0, bt->state);  /* settles a return to the CPU first */
}

/* sched_switch: a target thread leaves the CPU (its segment ends, its off-CPU time begins). */
static __always_inline void budget_switch_out(struct task_struct *prev, u32 tgid, u64 t0)
{
	struct budget_task *bt;

	if (!track_budget)
		return;
	bt = bpf_task_storage_get(&budget_tasks, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!bt)
		return;
	budget_step(bt, tgid, t0, bt->state);
	bt->off = 1;
}

#endif /* BPF */
#endif /* IPCTRACE_BUDGET_H */
