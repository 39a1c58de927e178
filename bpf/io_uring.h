/* io_uring (issue 18): the operations a ring carries, counted by opcode and by the mechanism of
 * their file, from the kernel's io_uring tracepoints. Part of ipctrace.bpf.c: included after
 * maps.h, filter.h, task.h, objects.h and classify.h.
 *
 * A ring moves data without a syscall per operation, so sys_enter/sys_exit see only
 * io_uring_enter. io_uring_submit_req fires in the submitter (or its SQPOLL thread: a thread of
 * the same process) as each sqe becomes a request; io_uring_complete as its cqe is posted, which
 * may be in an io-wq worker, in task_work, or in another task: the process is taken from the
 * request (req->tctx->task, the task that submitted it), never from the current task. Raw
 * tracepoint arguments are untyped: every field is read with BPF_CORE_READ. */
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
	struct uring_op_stats *s;
	u8 opcode;

	if (!is_target(tgid))
		return;
	opcode = BPF_CORE_READ((struct io_kiocb *)req, opcode);
	s = uring_op_for(tgid, uring_mechanism(uring_op_file(req, opcode)), opcode);
	if (s)
		s->submitted++;
}

/* is_target for the submitter of a request, which need not be the current task: --cgroup
 * compares the submitter's own cgroup (what bpf_get_current_cgroup_id returns in its context). */
static __always_inline bool submitter_is_target(struct task_struct *submitter, u32 tgid)
{
	if (filter_mode == FILTER_CGROUP)
		return tgid != self_tgid && BPF_CORE_READ(submitter, cgroups, dfl_cgrp, kn, id) == target_cgroup;
	return is_target(tgid);
}

/* io_uring_complete(ctx, req, cqe): the request names its submitter, wherever this runs. */
static __always_inline void uring_completed(u64 req, struct io_uring_cqe *cqe)
{
	struct task_struct *submitter;
	struct uring_op_stats *s;
	u8 opcode, bytes, mechanism;
	u64 file;
	u32 tgid;
	s32 res;

	if (!req) {
		/* An auxiliary cqe (a multishot's further results): no request to name its operation. */
		if (is_target(bpf_get_current_pid_tgid() >> 32))
			count_drop(DROP_URING_UNATTRIBUTED);
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
	mechanism = uring_mechanism(file);
	s = uring_op_for(tgid, mechanism, opcode);
	if (!s)
		return;
	s->completed++;
	res = BPF_CORE_READ(cqe, res);
	if (res < 0) {
		s->errors++;
		return;
	}
	bytes = opcode < IPC_URING_OPS ? uring_rules[opcode].bytes : URING_BYTES_NONE;
	if (bytes == URING_BYTES_IN)
		s->bytes_in += res;
	else if (bytes == URING_BYTES_OUT)
		s->bytes_out += res;
	else if (bytes == URING_BYTES_ZERO)
		s->bytes_zero_copy += res;
	if (track_objects && file && mechanism != MECH_IO_URING)
		uring_count_object(tgid, mechanism, file, bytes, res);
}

#endif /* IPCTRACE_IO_URING_H */
