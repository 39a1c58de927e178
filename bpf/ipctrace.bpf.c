// SPDX-License-Identifier: GPL-2.0
/* ipctrace: where inter-process communication spends its time.
 *
 * Everything is aggregated here, in per-CPU maps; user space only reads the maps.
 * Only tp_btf programs: they need neither tracefs nor kprobes, and one sys_enter /
 * sys_exit pair driven by syscall_table.h covers every traced syscall. */
#include "vmlinux-6.18.h" /* kernel types from a 6.18 kernel's BTF; CO-RE relocates them to the running one */
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ipctrace.h"

char LICENSE[] SEC("license") = "GPL";

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
#define USER_ADDR_LIMIT 0x00007ffffffff000ULL

/* Set by the collector before load. */
const volatile unsigned int filter_mode = FILTER_TARGETS;
const volatile unsigned int self_tgid = 0;
const volatile unsigned long long target_cgroup = 0; /* FILTER_CGROUP */
const volatile bool track_objects = false;           /* fill `objects` (trace's communication map) */

static const struct syscall_rule rules[IPC_MAX_SYSCALL_NR] = {
#define IPC_SYSCALL(name, nr, classify, mechanism, bytes, arg, object) [nr] = {classify, mechanism, bytes, arg, object},
#include "syscall_table.h"
#undef IPC_SYSCALL
};

static const struct syscall_stats zero_syscall_stats;
static const struct proc_mech_stats zero_proc_mech_stats;

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
	 * mappings takes the mmap write lock, which moves the sequence. */
	unsigned long long vma_start;
	unsigned long long vma_end; /* 0: nothing cached */
	unsigned long long vma_mm;
	unsigned int vma_seq;
	unsigned char vma_mechanism;
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
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
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
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct syscall_key);
	__type(value, struct syscall_stats);
} syscall_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct proc_mech_key);
	__type(value, struct proc_mech_stats);
} proc_mech_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, u32); /* tgid */
	__type(value, struct proc_info);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct object_key);
	__type(value, struct object_stats);
} objects SEC(".maps");

/* (mechanism, object) -> name, for the objects that have one (FIFO, POSIX shm and mq). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
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

static __always_inline void count_drop(u32 reason)
{
	u64 *n = bpf_map_lookup_elem(&drops, &reason);
	if (n)
		(*n)++;
}

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

static __always_inline void remember_proc(u32 tgid, struct task_struct *task)
{
	struct proc_info info = {};

	if (bpf_map_lookup_elem(&procs, &tgid))
		return;
	info.ppid = BPF_CORE_READ(task, real_parent, tgid);
	BPF_CORE_READ_STR_INTO(&info.comm, task, group_leader, comm);
	if (bpf_map_update_elem(&procs, &tgid, &info, BPF_NOEXIST) && !bpf_map_lookup_elem(&procs, &tgid))
		count_drop(DROP_PROC_FULL);
}

static __always_inline u32 log2_slot(u64 v)
{
	u32 r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r < IPC_HIST_SLOTS ? r : IPC_HIST_SLOTS - 1;
}

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
		if (is_posix_shm_file(file, name))
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

/* What kind of IPC a file is: pipe or FIFO, which socket, eventfd, POSIX shm, a regular file. */
static __always_inline u8 classify_file(struct file *file)
{
	struct inode *inode;
	unsigned long magic;
	umode_t mode;

	if (!file)
		return MECH_NONE;
	/* file comes from file_of_fd: typed, so these are plain loads. */
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

		if (magic == TMPFS_MAGIC && is_posix_shm_file(file, name))
			return MECH_POSIX_SHM;
		return MECH_FILE;
	}
	}
	if (magic == ANON_INODE_FS_MAGIC &&
	    name_starts(BPF_CORE_READ(file, f_path.dentry, d_name.name), "[eventfd", 8))
		return MECH_EVENTFD;
	return MECH_NONE;
}

static __always_inline u64 min_u64(u64 a, u64 b) { return a < b ? a : b; }
static __always_inline u64 max_u64(u64 a, u64 b) { return a < b ? b : a; }

/* The IPC object behind a file, the same number for every process that shares it: the
 * inode of a pipe, FIFO or mqueue; the inode numbers of both sockets of a connected unix
 * pair, lower one in the high half (sockfs numbers them with 32-bit get_next_ino(); the
 * addresses of socks are reused as soon as a connection is freed, which merged unrelated
 * short connections); only its own socket's once the peer has closed (user space finds the
 * pair holding it); the port pair and addresses of an inet connection; the open file
 * itself for an eventfd. */
static __always_inline u64 object_of_file(struct file *file, u8 mechanism)
{
	u64 ino = BPF_CORE_READ(file, f_inode, i_ino);

	switch (mechanism) {
	case MECH_UNIX_STREAM:
	case MECH_UNIX_DGRAM: {
		struct socket *sock = BPF_CORE_READ(file, private_data);
		struct unix_sock *sk = (struct unix_sock *)BPF_CORE_READ(sock, sk);
		struct sock *peer = BPF_CORE_READ(sk, peer);
		/* 0 when there is no peer or it was closed (its sk_socket is cleared then) */
		u64 peer_ino = peer ? BPF_CORE_READ(peer, sk_socket, file, f_inode, i_ino) & 0xffffffff : 0;

		ino &= 0xffffffff;
		return peer_ino ? min_u64(ino, peer_ino) << 32 | max_u64(ino, peer_ino) : ino;
	}
	case MECH_TCP:
	case MECH_UDP: {
		struct socket *sock = BPF_CORE_READ(file, private_data);
		struct sock *sk = BPF_CORE_READ(sock, sk);
		u64 local = BPF_CORE_READ(sk, __sk_common.skc_num);
		u64 remote = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		u64 addrs = (u64)BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr) ^ BPF_CORE_READ(sk, __sk_common.skc_daddr);

		if (!remote)
			return ino; /* not connected: the socket itself */
		return min_u64(local, remote) << 48 | max_u64(local, remote) << 32 | (addrs & 0xffffffff);
	}
	case MECH_EVENTFD:
		return (u64)file;
	}
	return ino;
}

/* What kind of IPC the file behind an fd is, read from the task's file table. */
static __always_inline u8 classify_fd(struct task_struct *task, unsigned long fd, u64 *object)
{
	struct file *file = file_of_fd(task, fd);
	u8 mechanism = classify_file(file);

	if (track_objects && mechanism != MECH_NONE)
		*object = object_of_file(file, mechanism);
	return mechanism;
}

struct vma_lookup {
	u64 start, end; /* stay 0 when no mapping contains the address */
	u8 mechanism;
};

static long classify_vma(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_lookup *out = data;
	struct file *file;

	out->start = BPF_CORE_READ(vma, vm_start);
	out->end = BPF_CORE_READ(vma, vm_end);
	if (!(BPF_CORE_READ(vma, vm_flags) & VM_SHARED))
		return 0; /* private mapping: not IPC */
	file = BPF_CORE_READ(vma, vm_file);
	out->mechanism = file ? classify_mapped_file(file) : MECH_MMAP_ANON;
	return 0;
}

/* The mechanism of the mapping containing addr, or MECH_NONE; false if it could not be looked up. */
static __always_inline bool mechanism_at(struct task_struct *task, u64 addr, u8 *mechanism)
{
	struct vma_lookup out = {0, 0, MECH_NONE};
	long err = bpf_find_vma(task, addr, classify_vma, &out, 0);

	*mechanism = out.mechanism;
	return err != -EBUSY;
}

/* The mm's mmap-lock sequence (6.4+): odd while a writer holds the lock (6.13+), moved by every
 * write unlock. False on kernels without it: there the fault cache stays off. */
static __always_inline bool mm_seq(struct mm_struct *mm, u32 *seq)
{
	if (!bpf_core_field_exists(mm->mm_lock_seq) || bpf_core_field_size(mm->mm_lock_seq) != 4)
		return false;
	return bpf_probe_read_kernel(seq, sizeof(*seq), (void *)mm + bpf_core_field_offset(mm->mm_lock_seq)) == 0;
}

/* mechanism_at for the faulting thread, through its one-mapping cache. A first pass over a
 * shared ring faults thousands of times in one mapping: one bpf_find_vma instead of each. */
static __always_inline bool fault_mechanism_at(struct task_struct *task, struct inflight *c, u64 addr,
						u8 *mechanism)
{
	struct mm_struct *mm = task->mm;
	struct vma_lookup out = {0, 0, MECH_NONE};
	u32 before = 0, after = 0;
	bool cacheable;
	long err;

	cacheable = c && mm && mm_seq(mm, &before) && !(before & 1);
	if (cacheable && c->vma_end && c->vma_mm == (u64)mm && c->vma_seq == before && addr >= c->vma_start &&
	    addr < c->vma_end) {
		*mechanism = c->vma_mechanism;
		return true;
	}
	err = bpf_find_vma(task, addr, classify_vma, &out, 0);
	*mechanism = out.mechanism;
	if (err == -EBUSY)
		return false;
	/* Cache only a lookup that no writer overlapped: the same even sequence before and after. */
	if (cacheable && out.end && mm_seq(mm, &after) && after == before) {
		c->vma_start = out.start;
		c->vma_end = out.end;
		c->vma_mm = (u64)mm;
		c->vma_seq = before;
		c->vma_mechanism = out.mechanism;
	}
	return true;
}

/* The mechanism of a call; with track_objects, its object too (OBJ_FD and OBJ_ARG0). */
static __always_inline u8 classify_call(const struct syscall_rule *rule, struct pt_regs *regs, u64 *object)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (track_objects && rule->object == OBJ_ARG0)
		*object = syscall_arg(regs, 0);
	switch (rule->classify) {
	case CLS_FIXED:
		if (track_objects && rule->object == OBJ_FD)
			classify_fd(task, syscall_arg(regs, 0), object); /* an mqueue fd */
		return rule->mechanism;
	case CLS_FD:
		return classify_fd(task, syscall_arg(regs, 0), object);
	case CLS_MMAP: {
		unsigned long flags = syscall_arg(regs, 3);

		if ((flags & MAP_SHARED_VALIDATE) == 0 || (flags & MAP_SHARED_VALIDATE) == 2)
			return MECH_NONE; /* MAP_PRIVATE */
		if (flags & MAP_ANONYMOUS)
			return MECH_MMAP_ANON;
		{
			struct file *file = file_of_fd(task, syscall_arg(regs, 4));

			return file ? classify_mapped_file(file) : MECH_NONE;
		}
	}
	case CLS_ADDR: {
		u8 mechanism;

		mechanism_at(task, syscall_arg(regs, 0), &mechanism);
		return mechanism;
	}
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
	}
	return MECH_NONE;
}

static __always_inline void resolve_pending_faults(struct task_struct *task, struct inflight *c);

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long nr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct syscall_rule *rule;
	struct inflight *call;
	u64 object = 0;
	u8 mechanism;

	if ((unsigned long)nr >= IPC_MAX_SYSCALL_NR)
		return 0;
	rule = &rules[nr];
	if (rule->classify == CLS_NONE)
		return 0; /* not a traced syscall: the common case, decided first */
	if (!is_target_task(task, task->tgid, &call, true))
		return 0;

	mechanism = classify_call(rule, regs, &object);
	if (mechanism == MECH_NONE)
		return 0;
	if (!call)
		call = bpf_task_storage_get(&inflight, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!call) {
		count_drop(DROP_INFLIGHT_FULL);
		return 0;
	}
	call->mechanism = mechanism;
	call->object = object;
	call->nr = nr;
	call->arg = rule->bytes == BYTES_ARG_IN ? syscall_arg(regs, rule->arg) : 0;
	call->active = 1;
	call->start_ns = bpf_ktime_get_ns();
	return 0;
}

static __always_inline struct syscall_stats *syscall_stats_for(struct syscall_key *key)
{
	struct syscall_stats *s = bpf_map_lookup_elem(&syscall_stats, key);

	if (s)
		return s;
	bpf_map_update_elem(&syscall_stats, key, &zero_syscall_stats, BPF_NOEXIST);
	s = bpf_map_lookup_elem(&syscall_stats, key);
	if (!s)
		count_drop(DROP_STATS_FULL);
	else
		remember_proc(key->tgid, bpf_get_current_task_btf());
	return s;
}

/* A scratch name: struct object_name is too large for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct object_name);
} name_scratch SEC(".maps");

/* The state of a path walk, one name per bpf_loop step. */
struct name_walk {
	struct dentry *d;
	struct mount *mnt;
	struct object_name *n;
	u32 depth;
};

/* One step up from w->d: across a mount to where it is mounted, or to the parent with the
 * name recorded. Returns 1 (stop) at the root of the mount tree or when the names are full.
 * A bpf_loop callback is verified once, where an unrolled walk multiplied sys_exit's states. */
static long name_walk_step(u32 index, void *ctx)
{
	struct name_walk *w = ctx;
	/* Locals, not w->…, inside BPF_CORE_READ: struct name_walk is not the kernel's. */
	struct dentry *d = w->d;
	struct mount *mnt = w->mnt;
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	u32 depth = w->depth;

	if (d == parent || d == BPF_CORE_READ(mnt, mnt.mnt_root)) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt)
			return 1; /* the root of the mount tree */
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		return 0;
	}
	if (depth >= IPC_NAME_PARTS) {
		w->n->truncated = 1;
		return 1;
	}
	bpf_probe_read_kernel_str(w->n->part[depth], IPC_NAME_PART_LEN, BPF_CORE_READ(d, d_name.name));
	w->depth = depth + 1;
	w->d = parent;
	return 0;
}

/* Records the path of the file behind fd arg0 as the name of `key`'s object, once: called
 * when a process first uses a FIFO, POSIX shm or mq object, so at most once per process and
 * object. The path is walked up d_parent and across mounts (struct mount's mountpoint), as
 * d_path does, at most IPC_NAME_PARTS names; a file unlinked since keeps its last name. */
static __always_inline void name_object(const struct object_key *key, struct pt_regs *regs)
{
	struct file *file = file_of_fd(bpf_get_current_task_btf(), syscall_arg(regs, 0));
	struct vfsmount *vfs = BPF_CORE_READ(file, f_path.mnt);
	struct object_key name_key = {.mechanism = key->mechanism, .object = key->object};
	struct name_walk w = {};
	u32 zero = 0;

	if (!file || BPF_CORE_READ(file, f_inode, i_ino) != key->object ||
	    bpf_map_lookup_elem(&object_names, &name_key))
		return; /* the fd changed under us, or the object is named already */
	w.n = bpf_map_lookup_elem(&name_scratch, &zero);
	if (!w.n)
		return;
	w.n->truncated = 0;
	w.d = BPF_CORE_READ(file, f_path.dentry);
	w.mnt = (void *)vfs - bpf_core_field_offset(struct mount, mnt);
	/* Each name takes one step, each mount crossed one more. */
	bpf_loop(2 * IPC_NAME_PARTS, name_walk_step, &w, 0);
	w.n->depth = w.depth;
	bpf_map_update_elem(&object_names, &name_key, w.n, BPF_NOEXIST);
}

/* One successful call on an IPC object: who used which object, and how many bytes moved. */
static __always_inline void count_object(const struct syscall_key *call_key, const struct syscall_rule *rule,
					 const struct inflight *call, long ret, struct pt_regs *regs)
{
	struct object_key key = {.tgid = call_key->tgid, .mechanism = call_key->mechanism, .object = call->object};
	static const struct object_stats zero;
	struct object_stats *s;

	if (rule->object == OBJ_RET)
		key.object = ret;
	s = bpf_map_lookup_elem(&objects, &key);
	if (!s) {
		bpf_map_update_elem(&objects, &key, &zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&objects, &key);
		if (!s) {
			count_drop(DROP_OBJECTS_FULL);
			return;
		}
		if (rule->object == OBJ_FD && (key.mechanism == MECH_FIFO || key.mechanism == MECH_POSIX_SHM ||
					       key.mechanism == MECH_POSIX_MQ))
			name_object(&key, regs);
	}
	s->calls++;
	if (rule->bytes == BYTES_RET_IN)
		s->bytes_in += ret;
	else if (rule->bytes == BYTES_RET_OUT)
		s->bytes_out += ret;
	else if (rule->bytes == BYTES_ARG_IN)
		s->bytes_in += call->arg;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct inflight *call = bpf_task_storage_get(&inflight, task, 0, 0);
	struct syscall_key key = {};
	struct syscall_stats *s;
	const struct syscall_rule *rule;
	u64 duration;

	if (call && call->pend_n)
		resolve_pending_faults(task, call);
	if (!call || !call->active)
		return 0; /* not traced, or entered before tracing started */
	call->active = 0;
	duration = bpf_ktime_get_ns() - call->start_ns;
	key.tgid = task->tgid;
	key.nr = call->nr;
	key.mechanism = call->mechanism;
	if (key.nr >= IPC_MAX_SYSCALL_NR)
		return 0;
	rule = &rules[key.nr];

	s = syscall_stats_for(&key);
	if (s) {
		s->count++;
		s->total_ns += duration;
		s->hist[log2_slot(duration)]++;
		if (ret < 0) {
			s->errors++;
		} else {
			switch (rule->bytes) {
			case BYTES_RET_IN: s->bytes_in += ret; break;
			case BYTES_RET_OUT: s->bytes_out += ret; break;
			case BYTES_ARG_IN: s->bytes_in += call->arg; break;
			case BYTES_RET_ZERO: s->bytes_zero_copy += ret; break;
			}
		}
	}
	if (track_objects && rule->object != OBJ_NONE && ret >= 0)
		count_object(&key, rule, call, ret, regs);
	return 0;
}

static __always_inline struct proc_mech_stats *proc_mech_for(u32 tgid, u8 mechanism)
{
	struct proc_mech_key key = {.tgid = tgid, .mechanism = mechanism};
	struct proc_mech_stats *s = bpf_map_lookup_elem(&proc_mech_stats, &key);

	if (s)
		return s;
	bpf_map_update_elem(&proc_mech_stats, &key, &zero_proc_mech_stats, BPF_NOEXIST);
	s = bpf_map_lookup_elem(&proc_mech_stats, &key);
	if (!s)
		count_drop(DROP_STATS_FULL);
	else
		remember_proc(tgid, bpf_get_current_task_btf());
	return s;
}

/* A fault on a shared mapping counts for the mapping's mechanism; a kernel-mode fault on
 * a private user buffer inside an IPC call is that call's copy touching a fresh page. */
static __always_inline void on_fault(u64 address, bool kernel_mode)
{
	struct task_struct *task = bpf_get_current_task_btf();
	u32 tgid = task->tgid;
	struct proc_mech_stats *s;
	struct inflight *c;
	u8 mechanism;

	if (address >= USER_ADDR_LIMIT || !is_target_task(task, tgid, &c, true))
		return;
	if (!c) /* the storage holds the thread's mapping cache */
		c = bpf_task_storage_get(&inflight, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!fault_mechanism_at(task, c, address, &mechanism)) {
		u32 seq;

		count_drop(DROP_FAULT_UNRESOLVED);
		if (c && !kernel_mode && task->mm && mm_seq(task->mm, &seq) && !(seq & 1)) {
			if (!c->pend_n || c->pend_seq != seq) {
				c->pend_lo = c->pend_hi = address;
				c->pend_n = 0; /* older ones stay unresolved */
				c->pend_seq = seq;
			}
			c->pend_lo = min_u64(c->pend_lo, address);
			c->pend_hi = max_u64(c->pend_hi, address);
			c->pend_n++;
		}
		kernel_mode = false; /* unknown mapping: "other", never a copy fault */
	}
	if (mechanism != MECH_NONE || !kernel_mode) {
		s = proc_mech_for(tgid, mechanism);
		if (s)
			s->page_faults++;
		return;
	}
	s = proc_mech_for(tgid, c && c->active ? c->mechanism : MECH_NONE);
	if (s)
		s->copy_faults++;
}

static __always_inline void resolve_pending_faults(struct task_struct *task, struct inflight *c)
{
	struct vma_lookup out = {0, 0, MECH_NONE};
	struct mm_struct *mm = task->mm;
	struct proc_mech_stats *from, *to;
	u32 n = c->pend_n, seq, reason = DROP_FAULT_UNRESOLVED;
	u64 *unresolved;

	c->pend_n = 0;
	if (!mm || !mm_seq(mm, &seq) || seq != c->pend_seq)
		return; /* the mappings changed since: the faults stay unresolved */
	if (bpf_find_vma(task, c->pend_lo, classify_vma, &out, 0) || c->pend_hi >= out.end)
		return;
	if (out.mechanism != MECH_NONE) {
		from = proc_mech_for(task->tgid, MECH_NONE);
		to = proc_mech_for(task->tgid, out.mechanism);
		if (!from || !to)
			return;
		/* Per-CPU counters: this CPU's may wrap, the sum over CPUs is right. */
		from->page_faults -= n;
		to->page_faults += n;
	}
	unresolved = bpf_map_lookup_elem(&drops, &reason);
	if (unresolved)
		*unresolved -= n;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(on_page_fault_user, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	on_fault(address, false);
	return 0;
}

SEC("tp_btf/page_fault_kernel")
int BPF_PROG(on_page_fault_kernel, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	on_fault(address, true);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	u32 tgid = prev->tgid;
	struct proc_mech_stats *s;
	struct inflight *call;

	if (!is_target_task(prev, tgid, &call, false))
		return 0;
	s = proc_mech_for(tgid, call && call->active ? call->mechanism : MECH_NONE);
	if (!s)
		return 0;
	/* The scheduler's own rule for nvcsw/nivcsw, so getrusage() can check us. */
	if (!preempt && prev_state != 0)
		s->voluntary_switches++;
	else
		s->involuntary_switches++;
	return 0;
}

SEC("tp_btf/signal_generate")
int BPF_PROG(on_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task, int group,
	     int result)
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

SEC("tp_btf/signal_deliver")
int BPF_PROG(on_signal_deliver, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
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

/* Follow the traced tree: a child process of a target is a target from its first instruction. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	u32 parent_tgid = parent->tgid, child_tgid = child->tgid;
	struct proc_info info = {};
	u8 one = 1;

	if (child_tgid == parent_tgid || filter_mode != FILTER_TARGETS || !is_target(parent_tgid))
		return 0; /* a new thread, not ours, or a filter that needs no following */
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

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	u32 tgid = p->tgid;
	struct proc_info *info;

	if (!is_target(tgid))
		return 0;
	remember_proc(tgid, p);
	info = bpf_map_lookup_elem(&procs, &tgid);
	if (info)
		BPF_CORE_READ_STR_INTO(&info->comm, p, comm);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	u32 tgid = p->tgid;
	struct proc_info *info;

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
