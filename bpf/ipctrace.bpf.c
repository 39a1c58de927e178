// SPDX-License-Identifier: GPL-2.0
/* ipctrace: where inter-process communication spends its time.
 *
 * Everything is aggregated here, in per-CPU maps; user space only reads the maps.
 * Only raw_tp programs: they need neither tracefs nor kprobes, one sys_enter / sys_exit pair
 * driven by syscall_table.h covers every traced syscall, and unlike tp_btf they attach without
 * libbpf loading the kernel's BTF (5+ MiB read and parsed: most of a tp_btf start-up). Their
 * arguments are untyped u64s: the task is the current one (bpf_get_current_task_btf, typed),
 * pt_regs is cast (KERNEL_CAST, a register move), the rest is read with BPF_CORE_READ.
 *
 * The helpers are split by concern into headers, all part of this one compilation unit
 * (one object, one skeleton); only the programs are here:
 *   maps.h      the settings, every map, and the lookup-or-create of an aggregate
 *   filter.h    which processes are traced
 *   task.h      syscall arguments and the file behind an fd
 *   objects.h   the IPC objects of trace's communication map: numbers, names, use
 *   classify.h  which mechanism a call uses
 *   faults.h    which mechanism's mapping a page fault hit
 *   budget.h    where a traced process's time went (compare's time budget)
 *   waits.h     epoll/poll/select time, split by what became ready
 *   mmsg.h      the bytes of a sendmmsg/recvmmsg batch
 *   fd_passing.h  descriptors passed with SCM_RIGHTS
 *   io_uring.h  the operations an io_uring carries, by opcode and file (issue 18) */
#include "vmlinux-6.18.h" /* kernel types from a 6.18 kernel's BTF; CO-RE relocates them to the running one */
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ipctrace.h"
#include "maps.h"
#include "filter.h"
#include "task.h"
#include "objects.h"
#include "classify.h"
#include "faults.h"
#include "budget.h"
#include "waits.h"
#include "mmsg.h"
#include "fd_passing.h"
#include "io_uring.h"

char LICENSE[] SEC("license") = "GPL";

static const struct syscall_rule rules[IPC_MAX_SYSCALL_NR] = {
#define IPC_SYSCALL(name, nr, classify, mechanism, bytes, arg, object) [nr] = {classify, mechanism, bytes, arg, object},
#include "syscall_table.h"
#undef IPC_SYSCALL
};

SEC("raw_tp/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *raw_regs, long nr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs;
	const struct syscall_rule *rule;
	struct inflight *call = bpf_task_storage_get(&inflight, task, 0, 0);
	u64 object = 0, t0;
	u8 mechanism;

	count_any_syscall(task, call, nr);
	if ((unsigned long)nr >= IPC_MAX_SYSCALL_NR)
		return 0;
	rule = &rules[nr];
	if (rule->classify == CLS_NONE)
		return 0; /* not a traced syscall: the common case, decided first */
	if (!is_target_thread(task, task->tgid, &call, true))
		return 0;
	t0 = budget_now();

	regs = KERNEL_CAST(struct pt_regs, raw_regs);
	count_mapping_call(task->tgid, nr, regs);
	mechanism = classify_call(rule, regs, &object);
	if (mechanism == MECH_NONE)
		return 0;
	if (!call)
		call = new_thread_storage(task);
	if (!call) {
		count_drop(DROP_INFLIGHT_FULL);
		return 0;
	}
	call->mechanism = mechanism;
	call->object = object;
	call->nr = nr;
	call->arg = rule->bytes == BYTES_ARG_IN ? syscall_arg(regs, rule->arg) : 0;
	call->sync_mechanism = 0;
	if (track_objects && rule->classify == CLS_FUTEX)
		futex_mapping(task, call, syscall_arg(regs, 0));
	call->active = 1;
	call->enter_nvcsw = task->nvcsw;
	call->enter_nivcsw = task->nivcsw;
	call->start_ns = bpf_ktime_get_ns();
	budget_call_enter(task, task->tgid, t0, rule->bytes != BYTES_NONE);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *raw_regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct inflight *call = bpf_task_storage_get(&inflight, task, 0, 0);
	struct syscall_key key = {};
	struct syscall_stats *s;
	const struct syscall_rule *rule;
	u64 duration, t0, nvcsw, nivcsw, batch_bytes = 0;

	if (!call) {
		follow_new_task(task, raw_regs, ret);
		return 0; /* not traced, or a target's new child (its storage just made) */
	}
	if (call->pend_n)
		resolve_pending_faults(call);
	if (!call->active)
		return 0; /* not traced, or entered before tracing started */
	call->active = 0;
	t0 = bpf_ktime_get_ns();
	duration = t0 - call->start_ns;
	key.tgid = task->tgid;
	key.nr = call->nr;
	key.mechanism = call->mechanism;
	if (key.nr >= IPC_MAX_SYSCALL_NR)
		return 0;
	rule = &rules[key.nr];
	/* The call's switches, by the scheduler's rule for nvcsw/nivcsw (so getrusage checks them) */
	nvcsw = task->nvcsw - call->enter_nvcsw;
	nivcsw = task->nivcsw - call->enter_nivcsw;
	call->in_call_nvcsw += nvcsw;
	call->in_call_nivcsw += nivcsw;

	if (ret > 0 && (rule->bytes == BYTES_MMSG_IN || rule->bytes == BYTES_MMSG_OUT))
		batch_bytes = mmsg_bytes_g((u64)raw_regs, ret);

	s = syscall_stats_for(&key);
	if (s) {
		u32 bucket = ipc_hist_bucket(duration);

		if (bucket >= IPC_HIST_BUCKETS) /* for the verifier */
			bucket = IPC_HIST_BUCKETS - 1;
		/* One entry for all CPUs (see maps.h): atomic adds, a process's threads share it. */
		__sync_fetch_and_add(&s->total_ns, duration);
		__sync_fetch_and_add(&s->hist[bucket], 1);
		if (nvcsw)
			__sync_fetch_and_add(&s->voluntary_switches, nvcsw);
		if (nivcsw)
			__sync_fetch_and_add(&s->involuntary_switches, nivcsw);
		if (ret < 0) {
			__sync_fetch_and_add(&s->errors, 1);
		} else {
			switch (rule->bytes) {
			case BYTES_RET_IN: __sync_fetch_and_add(&s->bytes_in, ret); break;
			case BYTES_RET_OUT: __sync_fetch_and_add(&s->bytes_out, ret); break;
			case BYTES_ARG_IN: __sync_fetch_and_add(&s->bytes_in, call->arg); break;
			case BYTES_RET_ZERO: __sync_fetch_and_add(&s->bytes_zero_copy, ret); break;
			case BYTES_DIRECT_FROM: case BYTES_DIRECT_TO: __sync_fetch_and_add(&s->bytes_direct, ret); break;
			case BYTES_MMSG_IN: __sync_fetch_and_add(&s->bytes_in, batch_bytes); break;
			case BYTES_MMSG_OUT: __sync_fetch_and_add(&s->bytes_out, batch_bytes); break;
			}
		}
	}
	if (track_objects && rule->object != OBJ_NONE && ret >= 0)
		count_object(&key, rule, call, ret, batch_bytes, KERNEL_CAST(struct pt_regs, raw_regs));
	if (track_objects && call->sync_mechanism)
		count_sync_call(key.tgid, call);
	if (track_app_io && (rule->classify == CLS_WAIT || rule->classify == CLS_EPOLL_CTL))
		wait_call_exit(rule->classify, &key, ret, duration, raw_regs);
	else if (track_app_io && rule->classify == CLS_FD_MSG)
		fd_msg_exit(&key, call, ret, raw_regs);
	budget_call_exit(task, key.tgid, t0);
	return 0;
}

/* One program for both fault tracepoints (the collector attaches it to page_fault_kernel
 * too): verified once, which is a sixth of start-up. The mode is the kernel's own test,
 * user_mode(regs), on the regs both tracepoints pass. */
SEC("raw_tp/page_fault_user")
int BPF_PROG(on_page_fault, unsigned long address, struct pt_regs *raw_regs)
{
	struct pt_regs *regs = KERNEL_CAST(struct pt_regs, raw_regs);
	u64 t0 = budget_now();

	on_fault(address, (regs->cs & 3) == 0);
	budget_probe_ran(bpf_get_current_task_btf(), t0);
	return 0;
}

/* compare's time budget only (track_budget: not even loaded otherwise). Context switches are
 * counted from the scheduler's own counters at sys_exit and at each flush. */
SEC("raw_tp/sched_switch")
int BPF_PROG(on_sched_switch)
{
	struct task_struct *prev = bpf_get_current_task_btf(); /* the tracepoint fires before the switch */
	u32 tgid = prev->tgid;
	struct inflight *call;

	if (is_target_task(prev, tgid, &call, false))
		budget_switch_out(prev, tgid, budget_now());
	budget_cpu_switched();
	return 0;
}

SEC("raw_tp/signal_generate")
int BPF_PROG(on_signal_generate)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct proc_mech_stats *s;

	if (!is_target(tgid))
		return 0;
	s = proc_mech_for(tgid, MECH_SIGNAL);
	if (s)
		s->signals_sent++;
	return 0;
}

SEC("raw_tp/signal_deliver")
int BPF_PROG(on_signal_deliver)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct proc_mech_stats *s;

	if (!is_target(tgid))
		return 0;
	s = proc_mech_for(tgid, MECH_SIGNAL);
	if (s)
		s->signals_delivered++;
	return 0;
}

/* io_uring's operations (bpf/io_uring.h). */
SEC("raw_tp/io_uring_submit_req")
int BPF_PROG(on_uring_submit, struct io_kiocb *req)
{
	uring_submitted((u64)req);
	return 0;
}

SEC("raw_tp/io_uring_complete")
int BPF_PROG(on_uring_complete, struct io_ring_ctx *ring, void *req, struct io_uring_cqe *cqe)
{
	uring_completed((u64)ring, (u64)req, cqe);
	return 0;
}

/* The completion ring was full: the cqe waits on the overflow list (ocqe; NULL when even that
 * failed and the cqe is lost, which the ring's own overflow counter tells the application).
 * Either way the operation completed here, and no io_uring_complete follows for it. */
SEC("raw_tp/io_uring_cqe_overflow")
int BPF_PROG(on_uring_overflow, void *ring, u64 user_data, s32 res, u32 cflags)
{
	uring_count_orphan_cqe((u64)ring, user_data, res, cflags);
	return 0;
}

/* Follow the traced tree: a child process of a target is a target from its first instruction. */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *raw_parent, struct task_struct *child)
{
	struct task_struct *parent = bpf_get_current_task_btf(); /* fork runs in the parent */
	u32 parent_tgid = parent->tgid, child_tgid = BPF_CORE_READ(child, tgid);
	struct proc_info info = {};
	u8 one = 1;

	if (filter_mode != FILTER_TARGETS || !is_target(parent_tgid))
		return 0; /* not ours, or a filter that needs no following */
	/* The child's storage (traced from its first syscall) is made when it returns from the
	 * fork in its own context, in sys_exit: a raw_tp's child pointer cannot reach it here. */
	if (child_tgid == parent_tgid)
		return 0; /* a new thread: its process is followed already */
	if (bpf_map_update_elem(&targets, &child_tgid, &one, BPF_ANY)) {
		count_drop(DROP_TARGETS_FULL);
		return 0;
	}
	info.ppid = parent_tgid;
	BPF_CORE_READ_STR_INTO(&info.comm, parent, comm);
	if (bpf_map_update_elem(&procs, &child_tgid, &info, BPF_ANY))
		count_drop(DROP_PROC_FULL);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(on_exec)
{
	struct task_struct *p = bpf_get_current_task_btf(); /* exec's task is the current one */
	u32 tgid = p->tgid;
	struct proc_info *info;

	struct inflight *c;

	if (!is_target(tgid))
		return 0;
	/* The command trace started: traced from its execve on. That call entered before the
	 * storage existed, so it is counted here. */
	c = bpf_task_storage_get(&inflight, p, 0, 0);
	if (!c) {
		c = new_thread_storage(p);
		if (c) {
			c->traced = 1;
			c->syscalls = 1;
		}
	}
	remember_proc(tgid);
	info = bpf_map_lookup_elem(&procs, &tgid);
	if (info)
		BPF_CORE_READ_STR_INTO(&info->comm, p, comm);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(on_exit)
{
	struct task_struct *p = bpf_get_current_task_btf(); /* the exiting task is the current one */
	struct inflight *c = bpf_task_storage_get(&inflight, p, 0, 0);
	u32 tgid = p->tgid;
	struct proc_info *info;

	if (c)
		flush_syscalls(p, c); /* every thread's own counts, before its storage goes */
	if (BPF_CORE_READ(p, signal, live.counter) != 0 || !is_target(tgid))
		return 0; /* other threads live on, or not ours */
	info = bpf_map_lookup_elem(&procs, &tgid);
	if (info) {
		info->exited = 1;
		/* the process's name, not the last thread's (redis's last is "bio_close_file") */
		BPF_CORE_READ_STR_INTO(&info->comm, p, group_leader, comm);
	}
	if (filter_mode == FILTER_TARGETS)
		bpf_map_delete_elem(&targets, &tgid);
	return 0;
}
