/* Descriptors passed over unix sockets (SCM_RIGHTS): at a successful sendmsg or recvmsg on a
 * unix socket, the control messages of the user's msghdr are walked and every passed
 * descriptor is counted with the kind of file behind it (fd_kinds.def). At sendmsg's exit the
 * descriptors are still the sender's; at recvmsg's exit they are already the receiver's, so
 * both sides read their own file table. With track_objects, the socket's object counts the
 * descriptors that crossed it (the map's "passed fd" edge) and each passed IPC file's own
 * object (a memfd, a pipe) gets the process as a user, so a memfd mapped by the receiver joins
 * the sender in the map. Part of ipctrace.bpf.c: included after classify.h and mmsg.h. Only
 * CLS_FD_MSG calls get here. */
#ifndef IPCTRACE_FD_PASSING_H
#define IPCTRACE_FD_PASSING_H

#define SOL_SOCKET 1
#define SCM_RIGHTS 1
#define SYS_SENDMSG_NR 46
#define SYS_SENDMMSG_NR 307
#define SYS_RECVMMSG_NR 299
#define IPC_MAX_CMSGS 4 /* control messages walked per call */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, IPC_DEFAULT_STATS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct proc_mech_key);
	__type(value, struct ipc_fd_pass_stats);
} fd_pass_stats SEC(".maps");

/* struct msghdr's msg_control and msg_controllen (x86_64: at offset 32). */
struct msg_control_raw {
	u64 control;
	u64 controllen;
};
#define MSGHDR_CONTROL_OFFSET 32

struct cmsghdr_raw {
	u64 len;
	s32 level;
	s32 type;
};

struct fd_walk {
	u64 base; /* the SCM_RIGHTS payload: an array of int */
	u32 n;
	u32 tgid;
	u32 sending;
	u32 counted;
	u32 kinds[FD_KIND_COUNT];
};

static __always_inline u32 fd_kind(struct file *file, u32 mechanism)
{
	switch (mechanism) {
	case MECH_PIPE:
	case MECH_FIFO:
		return FD_KIND_PIPE;
	case MECH_UNIX_STREAM:
	case MECH_UNIX_DGRAM:
	case MECH_TCP:
	case MECH_UDP:
		return FD_KIND_SOCKET;
	case MECH_EVENTFD:
		return FD_KIND_EVENTFD;
	case MECH_POSIX_SHM:
		return name_starts(BPF_CORE_READ(file, f_path.dentry, d_name.name), "memfd:", 6) ? FD_KIND_MEMFD : FD_KIND_OTHER;
	}
	if (file && (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) == S_IFSOCK)
		return FD_KIND_SOCKET; /* netlink, packet, …: a socket ipctrace has no mechanism for */
	return FD_KIND_OTHER;
}

/* One passed descriptor, read from the caller's own file table. Global, as the step below
 * calls it: verified once. */
__noinline int passed_fd_g(struct fd_walk *w, u32 i)
{
	struct file *file;
	u32 mechanism;
	s32 fd;

	if (!w || i >= w->n || bpf_probe_read_user(&fd, sizeof(fd), (void *)(w->base + (u64)i * sizeof(fd))))
		return 1;
	file = fd >= 0 ? file_of_fd(bpf_get_current_task_btf(), fd) : NULL;
	mechanism = classify_file_g((u64)file);
	w->kinds[fd_kind(file, mechanism) % FD_KIND_COUNT]++;
	w->counted++;
	if (track_objects && file && mechanism != MECH_NONE && mechanism != MECH_FILE) {
		struct object_key key = {.tgid = w->tgid, .mechanism = mechanism, .object = object_of_file(file, mechanism)};
		static const struct object_stats zero;
		struct object_stats *s;
		bool created;

		s = lookup_or_init(&objects, &key, &zero, DROP_OBJECTS_FULL, &created);
		if (s && w->sending)
			s->fds_sent++;
		else if (s)
			s->fds_received++;
	}
	return 0;
}

static long passed_fd_step(u32 i, void *ctx) { return passed_fd_g(ctx, i) ? 1 : 0; }

/* One message a successful sendmsg/recvmsg/sendmmsg/recvmmsg moved on a unix socket (msghdr:
 * its struct msghdr in the caller's memory): the descriptors its SCM_RIGHTS control messages
 * carried. Global: verified once. */
__noinline int fds_passed_exit(u64 msghdr, u64 object, u32 tgid, u32 mechanism, u32 sending)
{
	struct fd_walk w = {.tgid = tgid, .sending = sending};
	struct msg_control_raw mc;
	struct ipc_fd_pass_stats *s;
	u64 pos, end;

	if (!msghdr || bpf_probe_read_user(&mc, sizeof(mc), (void *)(msghdr + MSGHDR_CONTROL_OFFSET)))
		return 0;
	if (!mc.control || mc.controllen < sizeof(struct cmsghdr_raw))
		return 0; /* no control message: the common case */
	pos = mc.control;
	end = pos + (mc.controllen < 65536 ? mc.controllen : 65536);
	for (int i = 0; i < IPC_MAX_CMSGS; i++) {
		struct cmsghdr_raw h;

		if (pos + sizeof(h) > end || bpf_probe_read_user(&h, sizeof(h), (void *)pos))
			break;
		if (h.len < sizeof(h) || h.len > end - pos)
			break;
		if (h.level == SOL_SOCKET && h.type == SCM_RIGHTS) {
			w.base = pos + sizeof(h);
			w.n = (h.len - sizeof(h)) / sizeof(s32);
			if (w.n > IPC_MAX_PASSED_FDS)
				w.n = IPC_MAX_PASSED_FDS;
			bpf_loop(IPC_MAX_PASSED_FDS, passed_fd_step, &w, 0);
		}
		pos += (h.len + 7) & ~7ULL; /* CMSG_ALIGN */
	}
	if (!w.counted)
		return 0;
	{
		struct proc_mech_key key = {.tgid = tgid, .mechanism = mechanism};
		static const struct ipc_fd_pass_stats zero;
		bool created;

		s = lookup_or_init(&fd_pass_stats, &key, &zero, DROP_STATS_FULL, &created);
		if (s && created)
			remember_proc(tgid);
	}
	if (s) {
		if (sending)
			s->sent += w.counted;
		else
			s->received += w.counted;
		for (int k = 0; k < FD_KIND_COUNT; k++) {
			if (sending)
				s->sent_kinds[k] += w.kinds[k];
			else
				s->received_kinds[k] += w.kinds[k];
		}
	}
	if (track_objects) {
		struct object_key key = {.tgid = tgid, .mechanism = mechanism, .object = object};
		static const struct object_stats zero;
		struct object_stats *o;
		bool created;

		o = lookup_or_init(&objects, &key, &zero, DROP_OBJECTS_FULL, &created);
		if (o && sending)
			o->fds_sent += w.counted;
		else if (o)
			o->fds_received += w.counted;
	}
	return 0;
}

struct mmsg_fds_walk {
	u64 vec; /* the caller's struct mmsghdr array */
	u64 object;
	u32 n, tgid, mechanism, sending;
};

static long mmsg_fds_step(u32 i, void *ctx)
{
	struct mmsg_fds_walk *w = ctx;

	if (i >= w->n)
		return 1;
	fds_passed_exit(w->vec + (u64)i * MMSGHDR_SIZE, w->object, w->tgid, w->mechanism, w->sending);
	return 0;
}

/* sys_exit's hook for CLS_FD_MSG: only unix sockets carry descriptors. sendmsg/recvmsg pass
 * one msghdr; sendmmsg/recvmmsg a vector of them, of which the first `ret` moved. */
static __always_inline void fd_msg_exit(const struct syscall_key *key, const struct inflight *call, long ret, void *raw_regs)
{
	struct pt_regs *regs;
	u32 sending = key->nr == SYS_SENDMSG_NR || key->nr == SYS_SENDMMSG_NR;

	if (ret < 0 || (key->mechanism != MECH_UNIX_STREAM && key->mechanism != MECH_UNIX_DGRAM))
		return;
	regs = KERNEL_CAST(struct pt_regs, raw_regs);
	if (!regs)
		return;
	if (key->nr == SYS_SENDMMSG_NR || key->nr == SYS_RECVMMSG_NR) {
		struct mmsg_fds_walk w = {.vec = regs->si, .object = call->object, .n = ret, .tgid = key->tgid,
					  .mechanism = key->mechanism, .sending = sending};

		bpf_loop(IPC_MAX_MMSGS, mmsg_fds_step, &w, 0);
		return;
	}
	fds_passed_exit(regs->si, call->object, key->tgid, key->mechanism, sending);
}

#endif /* IPCTRACE_FD_PASSING_H */
