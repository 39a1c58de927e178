/* Reading the current task: a syscall's arguments and the file behind an fd. Part of
 * ipctrace.bpf.c: included after vmlinux and the libbpf headers. x86_64: the argument
 * registers are its syscall ABI's. */
#ifndef IPCTRACE_TASK_H
#define IPCTRACE_TASK_H

/* regs is the tracepoint's typed argument: plain loads, no helper call. */
static __always_inline unsigned long syscall_arg(struct pt_regs *regs, u32 i)
{
	switch (i) {
	case 0: return regs->di;
	case 1: return regs->si;
	case 2: return regs->dx;
	case 3: return regs->r10;
	case 4: return regs->r8;
	default: return regs->r9;
	}
}

/* Typed view of a kernel pointer that BTF cannot follow (an array element, a void *, a raw
 * tracepoint's argument): bpf_rdonly_cast, which the verifier turns into a register move, so
 * loads through the result are plain loads. Called by hand rather than as a __ksym extern:
 * an extern makes libbpf load the kernel's whole BTF to find it (5+ MiB, ~40 ms of start-up).
 * The call's imm is IPC_KFUNC_RDONLY_CAST_MARK, which the collector replaces with the kfunc's
 * kernel BTF id at load (src/probe/kernel_btf); the type ids are kernel BTF ids it writes to
 * .rodata, so the verifier sees them as the constants the kfunc requires. */
#define KERNEL_TYPE(name) const volatile unsigned int kbtf_##name = 0;
#include "kernel_types.def"
#undef KERNEL_TYPE

#define IPC_STR_(x) #x
#define IPC_STR(x) IPC_STR_(x)
static __always_inline void *kernel_cast(const void *ptr, u32 btf_id)
{
	register const void *r1 asm("r1") = ptr;
	register u64 r2 asm("r2") = btf_id;
	register void *r0 asm("r0");

	/* call with src_reg BPF_PSEUDO_KFUNC_CALL (2): 0x85, regs 0x20, off 0, imm the mark */
	asm volatile(".byte 0x85, 0x20, 0, 0\n\t.long " IPC_STR(IPC_KFUNC_RDONLY_CAST_MARK)
		     : "=r"(r0), "+r"(r1), "+r"(r2)
		     :
		     : "r3", "r4", "r5", "memory");
	return r0;
}
/* The kernel BTF id of a type kernel_types.def lists (0 for another: the verifier refuses it). */
#define KERNEL_BTF_ID(type_)                                                                  \
	(__builtin_types_compatible_p(type_, struct file)      ? kbtf_file                    \
	 : __builtin_types_compatible_p(type_, struct socket)  ? kbtf_socket                  \
	 : __builtin_types_compatible_p(type_, struct pt_regs) ? kbtf_pt_regs                 \
	 : __builtin_types_compatible_p(type_, struct fd)      ? kbtf_fd                      \
							       : 0)
#define KERNEL_CAST(type, ptr) ((type *)kernel_cast((void *)(ptr), KERNEL_BTF_ID(type)))
/* The file behind fd. The task pointer is typed (bpf_get_current_task_btf), so the walk to
 * the fd table is plain loads. BTF does not type the table's slots (an array of pointers), so
 * a slot is cast to an 8-byte kernel struct whose first word is read: a plain load too, where
 * bpf_probe_read_kernel cost a helper call on every call classified by its fd. The file
 * stays untyped, a number the global classify_*_g functions can take: KERNEL_CAST it for
 * plain loads. */
static __always_inline struct file *file_of_fd(struct task_struct *task, unsigned long fd)
{
	struct files_struct *files = task->files;
	struct fdtable *fdt;
	u64 slots;

	if (!files)
		return NULL;
	fdt = files->fdt;
	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	slots = (u64)fdt->fd;
	return (struct file *)KERNEL_CAST(struct fd, slots + fd * sizeof(struct file *))->word;
}

/* The fork family's numbers (x86_64): a child's first event is its return from one of them. */
#define SYS_CLONE_NR 56
#define SYS_FORK_NR 57
#define SYS_VFORK_NR 58
#define SYS_CLONE3_NR 435

/* A thread or process a target forked, returning from the fork in its own context (sys_exit,
 * ret 0, no storage yet): its storage is made here, so that count_any_syscall counts every
 * call it makes from now on. on_fork runs in the parent, where a raw_tp's untyped child
 * pointer cannot reach task storage. */
static __always_inline void follow_new_task(struct task_struct *task, void *raw_regs, long ret)
{
	struct pt_regs *regs;
	struct inflight *c;
	unsigned long nr;

	if (ret != 0 || filter_mode != FILTER_TARGETS)
		return;
	regs = KERNEL_CAST(struct pt_regs, raw_regs);
	nr = regs->orig_ax;
	if (nr != SYS_CLONE_NR && nr != SYS_FORK_NR && nr != SYS_VFORK_NR && nr != SYS_CLONE3_NR)
		return;
	if (!is_target(task->tgid))
		return;
	c = new_thread_storage(task);
	if (c)
		c->traced = 1;
}

#endif /* IPCTRACE_TASK_H */
