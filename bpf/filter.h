/* Which processes are traced (enum ipc_filter_mode): decided first in every program. Part of
 * ipctrace.bpf.c: included after maps.h. */
#ifndef IPCTRACE_FILTER_H
#define IPCTRACE_FILTER_H

/* Every caller passes the tgid of the current task (sched_switch runs as prev). */
static __always_inline bool is_target(u32 tgid)
{
	if (filter_mode == FILTER_ALL)
		return tgid != self_tgid && tgid != 0;
	if (filter_mode == FILTER_CGROUP)
		return tgid != self_tgid && bpf_get_current_cgroup_id() == target_cgroup;
	return bpf_map_lookup_elem(&targets, &tgid) != NULL;
}

/* is_target for a thread whose storage (*storage, or NULL) the caller looked up: in
 * FILTER_TARGETS the hash is looked up once per thread instead of on every call, through the
 * flag in its storage. Sets *storage to the thread's storage (created for a target when create
 * is set). A target leaves `targets` only when its last thread exits, so a set flag never goes
 * stale. */
static __always_inline bool is_target_thread(struct task_struct *task, u32 tgid, struct inflight **storage,
					     bool create)
{
	struct inflight *c = *storage;

	if (filter_mode != FILTER_TARGETS)
		return is_target(tgid);
	if (c && c->traced)
		return true;
	if (!bpf_map_lookup_elem(&targets, &tgid))
		return false;
	if (!c && create)
		c = new_thread_storage(task);
	if (c)
		c->traced = 1;
	*storage = c;
	return true;
}

static __always_inline bool is_target_task(struct task_struct *task, u32 tgid, struct inflight **storage,
					   bool create)
{
	*storage = bpf_task_storage_get(&inflight, task, 0, 0);
	return is_target_thread(task, tgid, storage, create);
}

#define SYSCALL_FLUSH 64
#define SYS_EXIT_NR 60
#define SYS_EXIT_GROUP_NR 231

/* Every syscall of a traced thread, at sys_enter before anything else, given the thread's
 * storage (created for every traced thread by fork, exec or its first traced call): a thread
 * without one costs nothing more. */
static __always_inline void count_any_syscall(struct task_struct *task, struct inflight *c, long nr)
{
	if (!c || (filter_mode == FILTER_TARGETS ? !c->traced : !is_target(task->tgid)))
		return;
	if (nr == SYS_EXIT_NR || nr == SYS_EXIT_GROUP_NR)
		return; /* as strace -c: a call that never returns is not in its table */
	if (++c->syscalls >= SYSCALL_FLUSH)
		flush_syscalls(task, c);
}

#endif /* IPCTRACE_FILTER_H */
