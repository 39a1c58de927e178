/* io_uring (issue 18): the operations a ring carries, counted by opcode and by the mechanism of
 * their file, from the kernel's io_uring tracepoints. Part of ipctrace.bpf.c: included after
 * maps.h, filter.h, task.h, objects.h and classify.h.
 *
 * A ring moves data without a syscall per operation, so sys_enter/sys_exit see only
 * io_uring_enter. io_uring_submit_req fires in the submitter (or its SQPOLL thread: a thread of
 * the same process) as each sqe becomes a request; io_uring_complete as its cqe is posted, which
 * may be in an io-wq worker, in task_work, or in another task: the process is taken from the
 * request (req->tctx->task, the task that submitted it), never from the current task. Raw
 * tracepoint arguments are untyped: every field is read with BPF_CORE_READ.
 *
 * Two kinds of cqe are posted without their request: a multishot operation's further results
 * (io_uring_complete with a NULL request) and any cqe that found the completion ring full
 * (io_uring_cqe_overflow, queued on the overflow list and later copied into the ring with no
 * tracepoint). Both name the ring and the cqe's user_data, so each submission is remembered
 * by that pair (uring_reqs) and such a cqe counts as its operation's. */
#ifndef IPCTRACE_IO_URING_H
#define IPCTRACE_IO_URING_H

#define IORING_CQE_F_NOTIF (1U << 3) /* send_zc's "buffer released" notification, not a result */
#define IPC_FFS_MASK (~3UL)          /* a fixed file's node keeps flags in the pointer's low bits */

struct uring_op_rule {
	unsigned char bytes;   /* enum ipc_uring_bytes */
	unsigned char on_file; /* the sqe's fd names the operation's file */
};

static const struct uring_op_rule uring_rules[IPC_URING_OPS] = {
#define IO_URING_OP(key, opcode, bytes, on_file) [opcode] = {bytes, on_file},
#include "io_uring_ops.def"
#undef IO_URING_OP
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, IPC_DEFAULT_STATS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct uring_op_key);
	__type(value, struct uring_op_stats);
} uring_ops SEC(".maps");

static const struct uring_op_stats zero_uring_op_stats;

/* (ring, user_data) -> the operation last submitted with them. LRU: never deleted (a final cqe
 * may be an overflowed one, after which nothing says the operation ended); the oldest go
 * first, and a cqe whose submission was evicted or came before the trace is a drop. */
struct uring_req_key {
	u64 ctx;
	u64 user_data;
};

struct uring_req_info {
	u64 file;
	u32 tgid;
	u8 mechanism;
	u8 opcode;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IPC_DEFAULT_URING_REQS);
	__type(key, struct uring_req_key);
	__type(value, struct uring_req_info);
} uring_reqs SEC(".maps");

/* The file a request works on. Once issued, req->file; at submission it is not assigned yet
 * (io_assign_file runs at issue): the sqe's fd, in the submitter's file table or, for
 * IOSQE_FIXED_FILE, in the ring's registered files. */
__noinline u64 uring_req_file_g(u64 req_addr)
{
	struct io_kiocb *req = (struct io_kiocb *)req_addr;
	struct file *file = BPF_CORE_READ(req, file);
	unsigned int fd;

	if (file)
		return (u64)file;
	fd = BPF_CORE_READ(req, cqe.fd);
	if (BPF_CORE_READ(req, flags) & (1ULL << REQ_F_FIXED_FILE_BIT)) {
		struct io_ring_ctx *ctx = BPF_CORE_READ(req, ctx);
		struct io_rsrc_node **nodes = BPF_CORE_READ(ctx, file_table.data.nodes);
		struct io_rsrc_node *node = NULL;

		if (fd >= BPF_CORE_READ(ctx, file_table.data.nr))
			return 0;
		bpf_probe_read_kernel(&node, sizeof(node), &nodes[fd]);
		return node ? BPF_CORE_READ(node, file_ptr) & IPC_FFS_MASK : 0;
	}
	return (u64)file_of_fd(bpf_get_current_task_btf(), fd);
}

/* The file of an operation that works on one, else 0. */
static __always_inline u64 uring_op_file(u64 req, u8 opcode)
{
	return opcode < IPC_URING_OPS && uring_rules[opcode].on_file ? uring_req_file_g(req) : 0;
}

/* The mechanism an operation is counted under: its file's, or io_uring's own for an operation
 * on no file (nop, timeout, openat) or on a file of no other mechanism (an epoll fd). */
static __always_inline u8 uring_mechanism(u64 file)
{
	u8 mechanism = file ? classify_file_g(file) : MECH_NONE;

	return mechanism == MECH_NONE ? MECH_IO_URING : mechanism;
}

/* trace's map: a completed operation is a call on its file's IPC object, as a syscall's is
 * (objects.h), so a ring's traffic links the processes at both ends. Global: verified on its
 * own, not inside every path of the completion program. */
__noinline int uring_count_object(u32 tgid, u32 mechanism, u64 file, u32 bytes, s32 res)
{
	struct object_key key = {.tgid = tgid, .mechanism = mechanism};
	static const struct object_stats zero;
	struct object_stats *s;
	bool created;

	if (!file)
		return 0;
	key.object = object_of_file((struct file *)file, mechanism);
	s = lookup_or_init(&objects, &key, &zero, DROP_OBJECTS_FULL, &created);
	if (!s)
		return 0;
	if (created && (mechanism == MECH_FIFO || mechanism == MECH_POSIX_SHM || mechanism == MECH_POSIX_MQ))
		name_file(&key, (struct file *)file);
	s->calls++;
	if (bytes == URING_BYTES_IN)
		s->bytes_in += res;
	else if (bytes == URING_BYTES_OUT)
		s->bytes_out += res;
	return 0;
}

static __always_inline struct uring_op_stats *uring_op_for(u32 tgid, u8 mechanism, u8 opcode)
{
	struct uring_op_key key = {.tgid = tgid, .mechanism = mechanism, .opcode = opcode};
	bool created;
	struct uring_op_stats *s = lookup_or_init(&uring_ops, &key, &zero_uring_op_stats, DROP_STATS_FULL, &created);

	if (created)
		remember_proc(tgid);
	return s;
}

/* io_uring_submit_req(req): runs in the submitting process. */
static __always_inline void uring_submitted(u64 req)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct uring_req_key key = {};
	struct uring_req_info info = {}, *known;
	struct uring_op_stats *s;
	u8 opcode;

	if (!is_target(tgid))
		return;
	opcode = BPF_CORE_READ((struct io_kiocb *)req, opcode);
	info.file = uring_op_file(req, opcode);
	info.mechanism = uring_mechanism(info.file);
	info.opcode = opcode;
	info.tgid = tgid;
	s = uring_op_for(tgid, info.mechanism, opcode);
	if (s)
		s->submitted++;
	key.ctx = (u64)BPF_CORE_READ((struct io_kiocb *)req, ctx);
	key.user_data = BPF_CORE_READ((struct io_kiocb *)req, cqe.user_data);
	/* Rings reuse their user_data (a connection's, or liburing's 0): rewritten in place, an
	 * entry costs a lookup; only a new pair takes an LRU insertion (~150 ns here). */
	known = bpf_map_lookup_elem(&uring_reqs, &key);
	if (known)
		*known = info;
	else
		bpf_map_update_elem(&uring_reqs, &key, &info, BPF_NOEXIST);
}

/* is_target for the submitter of a request, which need not be the current task: --cgroup
 * compares the submitter's own cgroup (what bpf_get_current_cgroup_id returns in its context). */
static __always_inline bool submitter_is_target(struct task_struct *submitter, u32 tgid)
{
	if (filter_mode == FILTER_CGROUP)
		return tgid != self_tgid && BPF_CORE_READ(submitter, cgroups, dfl_cgrp, kn, id) == target_cgroup;
	return is_target(tgid);
}

/* One cqe of an operation: its result under the operation's opcode and file (global: verified
 * once for the three places a cqe is seen). */
__noinline int uring_count_cqe(u32 tgid, u32 mechanism, u32 opcode, u64 file, s32 res)
{
	struct uring_op_stats *s = uring_op_for(tgid, mechanism, opcode);
	u8 bytes;

	if (!s)
		return 0;
	s->completed++;
	if (res < 0) {
		s->errors++;
		return 0;
	}
	bytes = opcode < IPC_URING_OPS ? uring_rules[opcode].bytes : URING_BYTES_NONE;
	if (bytes == URING_BYTES_IN)
		s->bytes_in += res;
	else if (bytes == URING_BYTES_OUT)
		s->bytes_out += res;
	else if (bytes == URING_BYTES_ZERO)
		s->bytes_zero_copy += res;
	if (track_objects && file && mechanism != MECH_IO_URING && (mechanism != MECH_FILE || track_file_objects))
		uring_count_object(tgid, mechanism, file, bytes, res);
	return 0;
}

/* A cqe posted without its request: counted as the operation last submitted on the ring with
 * its user_data, or as the drop uring_unattributed when none is remembered. */
static __always_inline void uring_count_orphan_cqe(u64 ctx, u64 user_data, s32 res, u32 cflags)
{
	struct uring_req_key key = {.ctx = ctx, .user_data = user_data};
	struct uring_req_info *info;

	if (cflags & IORING_CQE_F_NOTIF)
		return; /* its result was counted with its own cqe */
	info = bpf_map_lookup_elem(&uring_reqs, &key);
	if (info)
		uring_count_cqe(info->tgid, info->mechanism, info->opcode, info->file, res);
	else if (is_target(bpf_get_current_pid_tgid() >> 32))
		count_drop(DROP_URING_UNATTRIBUTED);
}

/* io_uring_complete(ctx, req, cqe): the request names its submitter, wherever this runs. */
static __always_inline void uring_completed(u64 ctx, u64 req, struct io_uring_cqe *cqe)
{
	struct task_struct *submitter;
	u8 opcode;
	u64 file;
	u32 tgid;

	if (!req) {
		/* A multishot's further result: the cqe names only the ring and user_data. */
		uring_count_orphan_cqe(ctx, BPF_CORE_READ(cqe, user_data), BPF_CORE_READ(cqe, res), BPF_CORE_READ(cqe, flags));
		return;
	}
	submitter = BPF_CORE_READ((struct io_kiocb *)req, tctx, task);
	tgid = BPF_CORE_READ(submitter, tgid);
	if (!tgid || !submitter_is_target(submitter, tgid))
		return;
	if (BPF_CORE_READ(cqe, flags) & IORING_CQE_F_NOTIF)
		return; /* its result was counted with its own cqe */
	opcode = BPF_CORE_READ((struct io_kiocb *)req, opcode);
	file = uring_op_file(req, opcode);
	uring_count_cqe(tgid, uring_mechanism(file), opcode, file, BPF_CORE_READ(cqe, res));
}

#endif /* IPCTRACE_IO_URING_H */
