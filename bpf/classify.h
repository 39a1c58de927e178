/* Which IPC mechanism a call uses (enum ipc_classify): by the file behind its fd, the
 * mapping at its address, its socket's family and type, its path or its flags. Part of
 * ipctrace.bpf.c: included after maps.h, task.h and objects.h. */
#ifndef IPCTRACE_CLASSIFY_H
#define IPCTRACE_CLASSIFY_H

/* Kernel constants that are macros, which vmlinux.h cannot carry. */
#define EBUSY 16
#define VM_SHARED 0x00000008UL
#define MAP_SHARED 0x01
#define MAP_SHARED_VALIDATE 0x03
#define MAP_ANONYMOUS 0x20
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000
#define S_IFCHR 0020000
#define FUTEX_PRIVATE_FLAG 128
#define S_IFIFO 0010000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_SEQPACKET 5
#define SOCK_TYPE_MASK 0xf
#define PIPEFS_MAGIC 0x50495045
#define TMPFS_MAGIC 0x01021994
#define HUGETLBFS_MAGIC 0x958458f6
#define ANON_INODE_FS_MAGIC 0x09041934

static __always_inline bool name_starts(const unsigned char *name, const char *prefix, int len)
{
	char buf[8] = {};

	if (bpf_probe_read_kernel(buf, len, name))
		return false;
	for (int i = 0; i < len && i < 8; i++)
		if (buf[i] != prefix[i])
			return false;
	return true;
}

/* A tmpfs file is POSIX shm when it is a memfd or lives on a tmpfs mounted on "shm". Mounts
 * stacked on /dev/shm sit on the root of the one below: climb to where it is mounted. */
static __always_inline bool is_posix_shm_file(struct file *file, const unsigned char *name)
{
	struct vfsmount *vfs = BPF_CORE_READ(file, f_path.mnt);
	struct mount *mnt = (void *)vfs - bpf_core_field_offset(struct mount, mnt);
	struct dentry *mountpoint = BPF_CORE_READ(mnt, mnt_mountpoint);
	char at[4] = {};

	if (name_starts(name, "memfd:", 6))
		return true;
	for (int i = 0; i < 4; i++) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt || mountpoint != BPF_CORE_READ(up, mnt.mnt_root))
			break;
		mnt = up;
		mountpoint = BPF_CORE_READ(mnt, mnt_mountpoint);
	}
	bpf_probe_read_kernel(at, sizeof(at), BPF_CORE_READ(mountpoint, d_name.name));
	return at[0] == 's' && at[1] == 'h' && at[2] == 'm' && at[3] == 0;
}

/* Global, as the other *_g below: verified once per program, not at each of its inlined call
 * sites (start-up is mostly the verifier's). Pointers travel as numbers: a global function's
 * arguments are scalars. */
__noinline int is_posix_shm_file_g(u64 file, u64 name)
{
	return is_posix_shm_file((struct file *)file, (const unsigned char *)name);
}

/* The mechanism of a file that is mapped MAP_SHARED. */
static __always_inline u8 classify_mapped_file(struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	unsigned long magic = BPF_CORE_READ(inode, i_sb, s_magic);
	umode_t mode = BPF_CORE_READ(inode, i_mode);
	const unsigned char *name = BPF_CORE_READ(file, f_path.dentry, d_name.name);

	if (magic == TMPFS_MAGIC || magic == HUGETLBFS_MAGIC) {
		if (name_starts(name, "SYSV", 4))
			return MECH_SYSV_SHM;
		if (name_starts(name, "dev/zero", 8))
			return MECH_MMAP_ANON;
		if (is_posix_shm_file_g((u64)file, (u64)name))
			return MECH_POSIX_SHM;
	}
	if ((mode & S_IFMT) == S_IFCHR && name_starts(name, "zero", 5))
		return MECH_MMAP_ANON; /* MAP_SHARED of /dev/zero: the kernel makes it shared anonymous */
	return (mode & S_IFMT) == S_IFREG ? MECH_MMAP_FILE : MECH_NONE;
}

static __always_inline u8 classify_socket(u16 family, u16 type)
{
	type &= SOCK_TYPE_MASK;
	if (family == AF_UNIX)
		return type == SOCK_STREAM ? MECH_UNIX_STREAM : MECH_UNIX_DGRAM;
	if (family == AF_INET || family == AF_INET6) {
		if (type == SOCK_STREAM)
			return MECH_TCP;
		if (type == SOCK_DGRAM)
			return MECH_UDP;
	}
	return MECH_NONE;
}

__noinline int classify_mapped_file_g(u64 file)
{
	return classify_mapped_file((struct file *)file);
}

/* What kind of IPC a file is: pipe or FIFO, which socket, eventfd, POSIX shm, a regular file. */
static __always_inline u8 classify_file(struct file *file, u64 file_addr)
{
	struct inode *inode;
	unsigned long magic;
	umode_t mode;

	if (!file)
		return MECH_NONE;
	/* file is cast (classify_file_g), so these are plain loads. */
	inode = file->f_inode;
	magic = inode->i_sb->s_magic;
	mode = inode->i_mode;

	switch (mode & S_IFMT) {
	case S_IFIFO:
		return magic == PIPEFS_MAGIC ? MECH_PIPE : MECH_FIFO;
	case S_IFSOCK: {
		struct socket *sock = KERNEL_CAST(struct socket, file->private_data);
		struct sock *sk = sock->sk;

		return sk ? classify_socket(sk->__sk_common.skc_family, sk->sk_type) : MECH_NONE;
	}
	case S_IFREG: {
		const unsigned char *name = BPF_CORE_READ(file, f_path.dentry, d_name.name);

		if (magic == TMPFS_MAGIC && is_posix_shm_file_g(file_addr, (u64)name))
			return MECH_POSIX_SHM;
		return MECH_FILE;
	}
	}
	if (magic == ANON_INODE_FS_MAGIC &&
	    name_starts(BPF_CORE_READ(file, f_path.dentry, d_name.name), "[eventfd", 8))
		return MECH_EVENTFD;
	return MECH_NONE;
}

__noinline int classify_file_g(u64 file)
{
	return classify_file(file ? KERNEL_CAST(struct file, file) : NULL, file);
}

/* What kind of IPC the file behind an fd is, read from the task's file table. */
static __always_inline u8 classify_fd(struct task_struct *task, unsigned long fd, u64 *object)
{
	struct file *file = file_of_fd(task, fd);
	u8 mechanism = classify_file_g((u64)file);

	if (track_objects && mechanism != MECH_NONE)
		*object = object_of_file(file, mechanism);
	return mechanism;
}

struct vma_lookup {
	u64 start, end; /* stay 0 when no mapping contains the address */
	u64 object;     /* the shared mapping's backing object (mapping_object), or 0 */
	u64 file;       /* its struct file, to name the object; read only through BPF_CORE_READ */
	u8 mechanism;
	u8 file_backed; /* a file's pages (private or shared), not anonymous memory */
};

/* bpf_find_vma's callback: the mechanism of a mapping (shared ones only), its backing object
 * and its bounds. A shared anonymous mapping has a shmem file too (shmem_zero_setup). */
static long classify_vma(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_lookup *out = data;
	struct file *file;

	out->start = BPF_CORE_READ(vma, vm_start);
	out->end = BPF_CORE_READ(vma, vm_end);
	file = BPF_CORE_READ(vma, vm_file);
	out->file_backed = file != NULL;
	if (!(BPF_CORE_READ(vma, vm_flags) & VM_SHARED))
		return 0; /* private mapping: not IPC */
	out->mechanism = file ? classify_mapped_file_g((u64)file) : MECH_MMAP_ANON;
	if (out->mechanism == MECH_MMAP_ANON)
		out->file_backed = 0; /* its shmem file is the kernel's, the memory anonymous */
	if (file && out->mechanism != MECH_NONE) {
		out->object = mapping_object(file, out->mechanism);
		out->file = (u64)file;
	}
	return 0;
}

/* The mechanism of the current task's mapping containing addr, or MECH_NONE (also when it could
 * not be looked up). Global: bpf_find_vma's callback is verified once, not per caller path. */
__noinline int mechanism_at(u64 addr)
{
	struct vma_lookup out = {};

	bpf_find_vma(bpf_get_current_task_btf(), addr, classify_vma, &out, 0);
	return out.mechanism;
}

/* mmap, munmap, mprotect, mremap of a traced process, IPC or not: its memory mappings. */
static __always_inline void count_mapping_call(u32 tgid, long nr, struct pt_regs *regs)
{
	struct proc_mech_stats *s;
	unsigned long flags;

	if (nr != 9 && nr != 10 && nr != 11 && nr != 25)
		return;
	s = proc_mech_for(tgid, MECH_NONE);
	if (!s)
		return;
	switch (nr) {
	case 9:
		flags = syscall_arg(regs, 3);
		if ((flags & MAP_SHARED_VALIDATE) == MAP_SHARED || (flags & MAP_SHARED_VALIDATE) == MAP_SHARED_VALIDATE)
			s->mmap_shared++;
		else if (flags & MAP_ANONYMOUS)
			s->mmap_private_anon++;
		else
			s->mmap_private_file++;
		break;
	case 10: s->mprotects++; break;
	case 11: s->munmaps++; break;
	case 25: s->mremaps++; break;
	}
}

/* The mechanism of a call; with track_objects, its object too (OBJ_FD and OBJ_ARG0). */
static __always_inline u8 classify_call(const struct syscall_rule *rule, struct pt_regs *regs, u64 *object)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (track_objects && rule->object == OBJ_ARG0)
		*object = syscall_arg(regs, 0);
	switch (rule->classify) {
	case CLS_WAIT:
	case CLS_EPOLL_CTL:
		return rule->mechanism;
	case CLS_FIXED:
		if (track_objects && rule->object == OBJ_FD)
			classify_fd(task, syscall_arg(regs, 0), object); /* an mqueue fd */
		return rule->mechanism;
	case CLS_FD:
	case CLS_FD_MSG:
		return classify_fd(task, syscall_arg(regs, 0), object);
	case CLS_MMAP: {
		unsigned long flags = syscall_arg(regs, 3);

		if ((flags & MAP_SHARED_VALIDATE) == 0 || (flags & MAP_SHARED_VALIDATE) == 2)
			return MECH_NONE; /* MAP_PRIVATE */
		if (flags & MAP_ANONYMOUS)
			return MECH_MMAP_ANON;
		{
			struct file *file = file_of_fd(task, syscall_arg(regs, 4));

			return file ? classify_mapped_file_g((u64)file) : MECH_NONE;
		}
	}
	case CLS_ADDR:
		return mechanism_at(syscall_arg(regs, 0));
	case CLS_SOCKET:
		return classify_socket(syscall_arg(regs, 0), syscall_arg(regs, 1));
	case CLS_SHM_PATH: {
		char path[10] = {};

		bpf_probe_read_user_str(path, sizeof(path), (void *)syscall_arg(regs, rule->arg));
		return name_starts((const unsigned char *)path, "/dev/shm", 8) && path[8] == '/' ? MECH_POSIX_SHM
												: MECH_NONE;
	}
	case CLS_MKNOD_FIFO:
		return (syscall_arg(regs, rule->arg) & S_IFMT) == S_IFIFO ? MECH_FIFO : MECH_NONE;
	case CLS_FUTEX:
		return syscall_arg(regs, rule->arg) & FUTEX_PRIVATE_FLAG ? MECH_NONE : rule->mechanism;
	case CLS_MAPPING:
		return MECH_NONE;
	}
	return MECH_NONE;
}

#endif /* IPCTRACE_CLASSIFY_H */
