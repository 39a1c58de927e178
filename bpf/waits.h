/* Waits attributed to what was waited on: epoll_wait, poll, select and their variants are
 * counted under MECH_WAIT with their blocked time, and at their return that time is split by
 * the mechanisms of the descriptors they returned ready, in equal shares per descriptor
 * (struct ipc_wait_stats). A wait that returned nothing ready (a timeout, an error) is idle.
 * For epoll, what a ready event is comes from its registration: epoll_ctl's epoll_data, which
 * the events return, is remembered with the mechanism of its fd. Part of ipctrace.bpf.c:
 * included after classify.h. Only CLS_WAIT and CLS_EPOLL_CTL calls get here. */
#ifndef IPCTRACE_WAITS_H
#define IPCTRACE_WAITS_H

#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3
#define SYS_POLL_NR 7
#define SYS_SELECT_NR 23
#define SYS_EPOLL_WAIT_NR 232
#define SYS_PSELECT6_NR 270
#define SYS_PPOLL_NR 271
#define SYS_EPOLL_PWAIT_NR 281
#define SYS_EPOLL_PWAIT2_NR 441

/* Per-wait counts are indexed by mechanism: a power of two above MECH_COUNT, so a mask bounds it. */
#define IPC_MECH_SLOTS 32
_Static_assert(MECH_COUNT <= IPC_MECH_SLOTS, "IPC_MECH_SLOTS must hold every mechanism");

/* (tgid, epfd, epoll_data) -> the registered fd and its mechanism, and (tgid, epfd, fd) -> data
 * for EPOLL_CTL_DEL. Entries of exited processes are deleted by the collector (Tracer::forget). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IPC_DEFAULT_EPOLL_REGS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct epoll_reg_key);
	__type(value, struct epoll_reg);
} epoll_regs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IPC_DEFAULT_EPOLL_REGS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct epoll_fd_key);
	__type(value, u64);
} epoll_fds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, IPC_DEFAULT_STATS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct proc_mech_key);
	__type(value, struct ipc_wait_stats);
} wait_stats SEC(".maps");

/* struct epoll_event as x86_64 lays it out: packed, 12 bytes. */
struct epoll_event_raw {
	u32 events;
	u32 data_lo;
	u32 data_hi;
};

struct pollfd_raw {
	s32 fd;
	s16 events;
	s16 revents;
};

static __always_inline struct ipc_wait_stats *wait_stats_for(u32 tgid, u32 mechanism)
{
	struct proc_mech_key key = {.tgid = tgid, .mechanism = mechanism};
	static const struct ipc_wait_stats zero;
	bool created;
	struct ipc_wait_stats *s = lookup_or_init(&wait_stats, &key, &zero, DROP_STATS_FULL, &created);

	if (created)
		remember_proc(tgid);
	return s;
}

/* One wait's ready descriptors, counted by mechanism, and how its time is handed out. */
struct wait_tally {
	u16 n[IPC_MECH_SLOTS];
	u32 total;    /* ready descriptors examined */
	u32 want;     /* the call's return: how many are ready (select counts a descriptor once per set) */
	u32 limit;    /* entries to scan: events, pollfds or select bits */
	u32 tgid;
	u32 epfd;
	u32 left_n;   /* while sharing: descriptors not yet given their share */
	u64 base;     /* the user array: events or pollfds */
	u64 sets[3];  /* select's read, write and except sets */
	u64 word;     /* select: the current 64 bits of the three sets, ORed */
	u64 duration;
	u64 left_ns;
};

static __always_inline void tally(struct wait_tally *t, u32 mechanism)
{
	/* clang knows the range a global function returns and drops the mask; the verifier does not */
	asm volatile("" : "+r"(mechanism));
	t->n[mechanism & (IPC_MECH_SLOTS - 1)]++;
	t->total++;
}

__noinline int fd_mechanism(u64 fd)
{
	return classify_file_g((u64)file_of_fd(bpf_get_current_task_btf(), fd));
}

/* One returned epoll event: its registration's mechanism. A registration made before the
 * trace began is not known: then a data that fits 32 bits is taken for the fd (redis, Python
 * and libuv store the fd there), anything else (a pointer) is other. */
__noinline int epoll_event_g(struct wait_tally *t, u32 i)
{
	struct epoll_event_raw ev;
	struct epoll_reg_key key = {};
	struct epoll_reg *reg;

	if (!t)
		return 1;
	key.tgid = t->tgid;
	key.epfd = t->epfd;
	if (i >= t->limit || bpf_probe_read_user(&ev, sizeof(ev), (void *)(t->base + (u64)i * sizeof(ev))))
		return 1;
	key.data = (u64)ev.data_hi << 32 | ev.data_lo;
	reg = bpf_map_lookup_elem(&epoll_regs, &key);
	if (reg)
		tally(t, reg->mechanism);
	else
		tally(t, ev.data_hi ? MECH_NONE : fd_mechanism(ev.data_lo));
	return 0;
}

/* Eight pollfds per step (one user read): those with revents set are ready. */
#define POLL_CHUNK 8
__noinline int poll_chunk_g(struct wait_tally *t, u32 i)
{
	struct pollfd_raw p[POLL_CHUNK] = {};
	u32 first = i * POLL_CHUNK;
	u64 n, size; /* 64-bit: a u32 clamped in a zero-extended copy left the register passed unbounded */

	if (!t || first >= t->limit || t->total >= t->want || t->total >= IPC_WAIT_MAX_READY)
		return 1;
	n = t->limit - first;
	if (n > POLL_CHUNK)
		n = POLL_CHUNK;
	size = n * sizeof(p[0]);
	if (size > sizeof(p))
		size = sizeof(p); /* for the verifier: n is at most POLL_CHUNK already */
	if (bpf_probe_read_user(p, size, (void *)(t->base + (u64)first * sizeof(p[0]))))
		return 1;
	for (u32 j = 0; j < POLL_CHUNK; j++) {
		if (j >= n || t->total >= IPC_WAIT_MAX_READY)
			break;
		if (p[j].revents && p[j].fd >= 0)
			tally(t, fd_mechanism(p[j].fd));
	}
	return 0;
}

/* One select bit: the 64-bit words of the three sets are read (and ORed: a descriptor ready
 * for reading and writing is one descriptor) at each word's first bit. */
__noinline int select_bit_g(struct wait_tally *t, u32 i)
{
	if (!t || i >= t->limit || t->total >= IPC_WAIT_MAX_READY || t->total >= t->want)
		return 1;
	if ((i & 63) == 0) {
		u64 x;

		t->word = 0;
		for (int k = 0; k < 3; k++)
			if (t->sets[k] && !bpf_probe_read_user(&x, sizeof(x), (void *)(t->sets[k] + (u64)(i / 64) * 8)))
				t->word |= x;
	}
	if (t->word >> (i & 63) & 1)
		tally(t, fd_mechanism(i));
	return 0;
}

/* Each mechanism's share of the wait: duration * its descriptors / all of them, the last share
 * the remainder, so the shares add up to the wait exactly. */
__noinline int share_g(struct wait_tally *t, u32 m)
{
	struct ipc_wait_stats *s;
	u64 share;
	u32 n;

	if (!t || m >= IPC_MECH_SLOTS)
		return 1;
	n = t->n[m];
	if (!n)
		return 0;
	t->left_n = t->left_n > n ? t->left_n - n : 0;
	share = t->left_n ? t->duration * n / t->total : t->left_ns;
	if (share > t->left_ns)
		share = t->left_ns;
	t->left_ns -= share;
	s = wait_stats_for(t->tgid, m);
	if (s) {
		s->wait_ns += share;
		s->ready_fds += n;
	}
	return 0;
}

/* bpf_loop's callbacks: each step is a global function, verified once, so the verifier does
 * not walk a step's body again for every state of the loop (that took it 75 ms per load). */
static long epoll_event_step(u32 i, void *ctx) { return epoll_event_g(ctx, i) ? 1 : 0; }
static long poll_chunk_step(u32 i, void *ctx) { return poll_chunk_g(ctx, i) ? 1 : 0; }
static long select_bit_step(u32 i, void *ctx) { return select_bit_g(ctx, i) ? 1 : 0; }
static long share_step(u32 m, void *ctx) { return share_g(ctx, m) ? 1 : 0; }

/* A wait returned: its time to the mechanisms of what became ready, or idle. Global: verified
 * once, not in sys_exit's every path. */
__noinline int wait_exit(u64 raw_regs, s64 ret, u64 duration, u32 tgid, u32 nr)
{
	struct pt_regs *regs = KERNEL_CAST(struct pt_regs, raw_regs);
	struct wait_tally t = {};
	struct ipc_wait_stats *s;

	if (!regs)
		return 0;
	if (ret <= 0) {
		s = wait_stats_for(tgid, MECH_NONE);
		if (s) {
			s->idle_ns += duration;
			s->timeouts += ret == 0;
		}
		return 0;
	}
	t.tgid = tgid;
	t.want = ret;
	switch (nr) {
	case SYS_EPOLL_WAIT_NR:
	case SYS_EPOLL_PWAIT_NR:
	case SYS_EPOLL_PWAIT2_NR:
		t.epfd = regs->di;
		t.base = regs->si;
		t.limit = ret < IPC_WAIT_MAX_READY ? ret : IPC_WAIT_MAX_READY;
		bpf_loop(IPC_WAIT_MAX_READY, epoll_event_step, &t, 0);
		break;
	case SYS_POLL_NR:
	case SYS_PPOLL_NR:
		t.base = regs->di;
		t.limit = regs->si < IPC_WAIT_MAX_FDS ? regs->si : IPC_WAIT_MAX_FDS;
		bpf_loop(IPC_WAIT_MAX_FDS / POLL_CHUNK, poll_chunk_step, &t, 0);
		break;
	case SYS_SELECT_NR:
	case SYS_PSELECT6_NR:
		t.limit = regs->di < IPC_WAIT_MAX_FDS ? regs->di : IPC_WAIT_MAX_FDS;
		t.sets[0] = regs->si;
		t.sets[1] = regs->dx;
		t.sets[2] = regs->r10;
		bpf_loop(IPC_WAIT_MAX_FDS, select_bit_step, &t, 0);
		break;
	}
	if (!t.total) {
		/* ready, but the events or sets could not be read: other */
		s = wait_stats_for(tgid, MECH_NONE);
		if (s)
			s->wait_ns += duration;
		return 0;
	}
	t.duration = duration;
	t.left_ns = duration;
	t.left_n = t.total;
	bpf_loop(IPC_MECH_SLOTS, share_step, &t, 0);
	return 0;
}

/* epoll_ctl succeeded: remember (or forget) what the registration is. ADD and MOD replace the
 * fd's previous registration, so a reused fd number or a changed data never leaves a stale one. */
__noinline int epoll_ctl_exit(u64 raw_regs, u32 tgid)
{
	struct pt_regs *regs = KERNEL_CAST(struct pt_regs, raw_regs);
	struct epoll_fd_key fd_key = {.tgid = tgid};
	struct epoll_reg_key reg_key = {.tgid = tgid};
	struct epoll_event_raw ev;
	struct epoll_reg reg = {};
	u64 *old, data;
	u32 op;

	if (!regs)
		return 0;
	fd_key.epfd = regs->di;
	fd_key.fd = regs->dx;
	reg_key.epfd = fd_key.epfd;
	op = regs->si;
	old = bpf_map_lookup_elem(&epoll_fds, &fd_key);
	if (old) {
		reg_key.data = *old;
		bpf_map_delete_elem(&epoll_regs, &reg_key);
	}
	if (op == EPOLL_CTL_DEL) {
		bpf_map_delete_elem(&epoll_fds, &fd_key);
		return 0;
	}
	if ((op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD) || bpf_probe_read_user(&ev, sizeof(ev), (void *)regs->r10))
		return 0;
	data = (u64)ev.data_hi << 32 | ev.data_lo;
	reg_key.data = data;
	reg.fd = fd_key.fd;
	reg.mechanism = fd_mechanism(fd_key.fd);
	if (bpf_map_update_elem(&epoll_regs, &reg_key, &reg, BPF_ANY) || bpf_map_update_elem(&epoll_fds, &fd_key, &data, BPF_ANY))
		count_drop(DROP_EPOLL_REGS_FULL);
	return 0;
}

/* sys_exit's hook for CLS_WAIT and CLS_EPOLL_CTL. */
static __always_inline void wait_call_exit(u8 classify, const struct syscall_key *key, long ret, u64 duration, void *raw_regs)
{
	if (classify == CLS_WAIT)
		wait_exit((u64)raw_regs, ret, duration, key->tgid, key->nr);
	else if (ret == 0)
		epoll_ctl_exit((u64)raw_regs, key->tgid);
}

#endif /* IPCTRACE_WAITS_H */
