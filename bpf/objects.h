/* The IPC objects of trace's communication map: their numbers (object_id.h), their names,
 * and who used which. Part of ipctrace.bpf.c: included after maps.h and task.h. */
#ifndef IPCTRACE_OBJECTS_H
#define IPCTRACE_OBJECTS_H

/* The IPC object behind a file, the same number for every process that shares it (object_id.h):
 * the inode of a pipe, FIFO or mqueue; both sockets of a connected unix pair; the ports and
 * addresses of an inet connection; the open file itself for an eventfd. */
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
		return ipc_unix_id(ino, peer ? BPF_CORE_READ(peer, sk_socket, file, f_inode, i_ino) : 0);
	}
	case MECH_TCP:
	case MECH_UDP: {
		struct socket *sock = BPF_CORE_READ(file, private_data);
		struct sock *sk = BPF_CORE_READ(sock, sk);
		u64 local = BPF_CORE_READ(sk, __sk_common.skc_num);
		u64 remote = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		u64 addrs = (u64)BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr) ^ BPF_CORE_READ(sk, __sk_common.skc_daddr);

		return ipc_inet_id(ino, local, remote, addrs);
	}
	case MECH_EVENTFD:
		return ipc_eventfd_id(file);
	case MECH_POSIX_SHM:
		return ipc_mapping_id(BPF_CORE_READ(file, f_inode, i_sb, s_dev), ino);
	}
	return ino;
}

/* The object behind a shared mapping's file, numbered as its calls number it: a SysV
 * segment by its id (newseg() gives the segment's shmem inode that number), the rest by
 * device and inode (ipc_mapping_id). */
static __always_inline u64 mapping_object(struct file *file, u8 mechanism)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	u64 ino = BPF_CORE_READ(inode, i_ino);

	if (mechanism == MECH_SYSV_SHM)
		return ino;
	return ipc_mapping_id(BPF_CORE_READ(inode, i_sb, s_dev), ino);
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
static __always_inline void name_file(const struct object_key *key, struct file *file)
{
	struct vfsmount *vfs = BPF_CORE_READ(file, f_path.mnt);
	struct object_key name_key = {.mechanism = key->mechanism, .object = key->object};
	struct name_walk w = {};
	u32 zero = 0;

	if (!file || bpf_map_lookup_elem(&object_names, &name_key))
		return; /* the object is named already */
	w.n = bpf_map_lookup_elem(&name_scratch, &zero);
	if (!w.n)
		return;
	w.n->truncated = 0;
	w.d = BPF_CORE_READ(file, f_path.dentry);
	w.mnt = (void *)vfs - bpf_core_field_offset(struct mount, mnt);
	/* Each name takes one step, each mount crossed one more. */
	bpf_loop(2 * IPC_NAME_PARTS, name_walk_step, &w, 0);
	if (w.depth == 0) { /* a pseudo file (memfd "memfd:NAME"): its own dentry is a root */
		bpf_probe_read_kernel_str(w.n->part[0], IPC_NAME_PART_LEN, BPF_CORE_READ(file, f_path.dentry, d_name.name));
		w.depth = 1;
	}
	w.n->depth = w.depth;
	bpf_map_update_elem(&object_names, &name_key, w.n, BPF_NOEXIST);
}

static __always_inline void name_object(const struct object_key *key, struct pt_regs *regs)
{
	struct file *file = file_of_fd(bpf_get_current_task_btf(), syscall_arg(regs, 0));

	if (file && object_of_file(file, key->mechanism) == key->object)
		name_file(key, file); /* else the fd changed under us */
}

/* The object's entry for this process: a fault in, or a futex call on, a shared mapping. A
 * named kind of object is named from the mapping's file on the process's first use. */
static __always_inline struct object_stats *mapping_object_stats(u32 tgid, u8 mechanism, u64 object, u64 file)
{
	struct object_key key = {.tgid = tgid, .mechanism = mechanism, .object = object};
	static const struct object_stats zero;
	struct object_stats *s;
	bool created;

	s = lookup_or_init(&objects, &key, &zero, DROP_OBJECTS_FULL, &created);
	if (s && created && file && (mechanism == MECH_POSIX_SHM || mechanism == MECH_MMAP_FILE))
		name_file(&key, (struct file *)file);
	return s;
}

/* One successful call on an IPC object: who used which object, and how many bytes moved
 * (batch_bytes: a sendmmsg/recvmmsg's, whose ret is a message count). */
static __always_inline void count_object(const struct syscall_key *call_key, const struct syscall_rule *rule,
					 const struct inflight *call, long ret, u64 batch_bytes, struct pt_regs *regs)
{
	struct object_key key = {.tgid = call_key->tgid, .mechanism = call_key->mechanism, .object = call->object};
	static const struct object_stats zero;
	struct object_stats *s;
	bool created;

	if (key.mechanism == MECH_FILE && !track_file_objects)
		return;
	if (rule->object == OBJ_RET)
		key.object = ret;
	s = lookup_or_init(&objects, &key, &zero, DROP_OBJECTS_FULL, &created);
	if (!s)
		return;
	if (created && rule->object == OBJ_FD &&
	    (key.mechanism == MECH_FIFO || key.mechanism == MECH_POSIX_SHM || key.mechanism == MECH_POSIX_MQ))
		name_object(&key, regs);
	s->calls++;
	if (rule->bytes == BYTES_RET_IN || rule->bytes == BYTES_DIRECT_TO)
		s->bytes_in += ret;
	else if (rule->bytes == BYTES_RET_OUT || rule->bytes == BYTES_DIRECT_FROM)
		s->bytes_out += ret;
	else if (rule->bytes == BYTES_ARG_IN)
		s->bytes_in += call->arg;
	else if (rule->bytes == BYTES_MMSG_IN)
		s->bytes_in += batch_bytes;
	else if (rule->bytes == BYTES_MMSG_OUT)
		s->bytes_out += batch_bytes;
}

#endif /* IPCTRACE_OBJECTS_H */
