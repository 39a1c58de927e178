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

/* Typed view of a kernel pointer that BTF cannot follow (an array element, a void *):
 * the verifier turns the call into a register move, and loads through it are plain loads. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define KERNEL_CAST(type, ptr) ((type *)bpf_rdonly_cast((void *)(ptr), bpf_core_type_id_kernel(type)))

/* The file behind fd. The task pointer is typed (bpf_get_current_task_btf), so the walk to
 * the fd table is plain loads; only the table slot needs a read (BTF does not type it). */
static __always_inline struct file *file_of_fd(struct task_struct *task, unsigned long fd)
{
	struct files_struct *files = task->files;
	struct fdtable *fdt;
	struct file *file = NULL;

	if (!files)
		return NULL;
	fdt = files->fdt;
	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]);
	return file ? KERNEL_CAST(struct file, file) : NULL;
}

#endif /* IPCTRACE_TASK_H */
