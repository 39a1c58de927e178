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

/* is_target for a thread, through the flag in its storage: in FILTER_TARGETS the hash is
 * looked up once per thread instead of on every call and switch. Sets *storage to the
 * thread's storage (created for a target when create is set), or NULL. A target leaves
 * `targets` only when its last thread exits, so a set flag never goes stale. */
static __always_inline bool is_target_task(struct task_struct *task, u32 tgid, struct inflight **storage,
					   bool create)
{
	struct inflight *c = bpf_task_storage_get(&inflight, task, 0, 0);

	*storage = c;
	if (filter_mode != FILTER_TARGETS)
		return is_target(tgid);
	if (c && c->traced)
		return true;
	if (!bpf_map_lookup_elem(&targets, &tgid))
		return false;
	if (!c && create)
		c = bpf_task_storage_get(&inflight, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (c)
		c->traced = 1;
	*storage = c;
	return true;
}

#define SYSCALL_FLUSH 64
#define SYS_EXIT_NR 60
#define SYS_EXIT_GROUP_NR 231

/* Every syscall of a traced thread, at sys_enter before anything else: the thread's storage
 * (created for every traced thread by fork, exec or its first traced call) says whether it
 * is traced, so a thread without one costs one lookup and nothing else. */
static __always_inline void count_any_syscall(struct task_struct *task, long nr)
{
	struct inflight *c = bpf_task_storage_get(&inflight, task, 0, 0);

	if (!c || (filter_mode == FILTER_TARGETS ? !c->traced : !is_target(task->tgid)))
		return;
	if (nr == SYS_EXIT_NR || nr == SYS_EXIT_GROUP_NR)
		return; /* as strace -c: a call that never returns is not in its table */
	if (++c->syscalls >= SYSCALL_FLUSH)
		flush_syscalls(task->tgid, c);
}

#endif /* IPCTRACE_FILTER_H */
