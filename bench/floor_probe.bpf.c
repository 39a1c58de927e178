// SPDX-License-Identifier: GPL-2.0
/* The bench's floor: what any raw_tp sys_enter/sys_exit tracer pays before it does anything.
 *   empty_*  programs that return at once: the tracepoints' own cost (the syscall slow path
 *            every task takes once a syscall tracepoint is enabled, and the program call)
 *   clock_*  the least a tracer that times calls must do: find the thread's state, read the
 *            clock at entry and at exit (one task-storage lookup and one bpf_ktime_get_ns each)
 * No vmlinux.h: the task pointer is only passed on, never read. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} started SEC(".maps");

SEC("raw_tp/sys_enter")
int empty_enter(void *ctx) { return 0; }

SEC("raw_tp/sys_exit")
int empty_exit(void *ctx) { return 0; }

SEC("raw_tp/sys_enter")
int clock_enter(void *ctx)
{
	__u64 *t = bpf_task_storage_get(&started, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (t)
		*t = bpf_ktime_get_ns();
	return 0;
}

SEC("raw_tp/sys_exit")
int clock_exit(void *ctx)
{
	__u64 *t = bpf_task_storage_get(&started, bpf_get_current_task_btf(), 0, 0);

	if (t)
		*t = bpf_ktime_get_ns() - *t;
	return 0;
}
