/* Page faults: which mechanism's mapping a fault hit, through the thread's one-mapping cache,
 * and the faults whose lookup had to wait for the thread's next sys_exit. Part of
 * ipctrace.bpf.c: included after maps.h, filter.h and classify.h. */
#ifndef IPCTRACE_FAULTS_H
#define IPCTRACE_FAULTS_H

#define USER_ADDR_LIMIT 0x00007ffffffff000ULL

static __always_inline u64 min_u64(u64 a, u64 b) { return a < b ? a : b; }
static __always_inline u64 max_u64(u64 a, u64 b) { return a < b ? b : a; }

/* The mm's mmap-lock sequence (6.4+): odd while a writer holds the lock (6.13+), moved by every
 * write unlock. False on kernels without it: there the fault cache stays off. */
static __always_inline bool mm_seq(struct mm_struct *mm, u32 *seq)
{
	if (!bpf_core_field_exists(mm->mm_lock_seq) || bpf_core_field_size(mm->mm_lock_seq) != 4)
		return false;
	return bpf_probe_read_kernel(seq, sizeof(*seq), (void *)mm + bpf_core_field_offset(mm->mm_lock_seq)) == 0;
}

/* The mapping at addr (mechanism, object, file) for the current thread, through its
 * one-mapping cache. A first pass over a shared ring faults thousands of times in one
 * mapping: one bpf_find_vma instead of each. 0 if it could not be looked up.
 * Global: verified once, so bpf_find_vma's callback is verified once too, not once for each
 * path of its callers (8 ms of the fault program's 15 ms). */
__noinline int fault_mapping_at_g(struct inflight *c, u64 addr, struct vma_lookup *out)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct mm_struct *mm;
	struct vma_lookup found = {};
	u32 before = 0, after = 0;
	bool cacheable;
	long err;

	if (!out)
		return 0;
	mm = task->mm;
	cacheable = c && mm && mm_seq(mm, &before) && !(before & 1);
	if (cacheable && c->vma_end && c->vma_mm == (u64)mm && c->vma_seq == before && addr >= c->vma_start &&
	    addr < c->vma_end) {
		out->mechanism = c->vma_mechanism;
		out->object = c->vma_object;
		out->file = c->vma_file;
		out->file_backed = c->vma_file_backed;
		return 1;
	}
	err = bpf_find_vma(task, addr, classify_vma, &found, 0); /* its context must be on the stack */
	if (err == -EBUSY)
		return 0;
	*out = found;
	/* Cache only a lookup that no writer overlapped: the same even sequence before and after. */
	if (cacheable && out->end && mm_seq(mm, &after) && after == before) {
		c->vma_start = out->start;
		c->vma_end = out->end;
		c->vma_mm = (u64)mm;
		c->vma_seq = before;
		c->vma_mechanism = out->mechanism;
		c->vma_object = out->object;
		c->vma_file = out->file;
		c->vma_file_backed = out->file_backed;
	}
	return 1;
}

/* At sys_enter of a shared futex call (track_objects): the shared mapping holding its word,
 * so sys_exit counts the call on that object, beside the object's faults. */
static __always_inline void futex_mapping(struct task_struct *task, struct inflight *c, u64 uaddr)
{
	struct vma_lookup out = {};

	c->sync_mechanism = 0;
	if (fault_mapping_at_g(c, uaddr, &out) && out.file && out.mechanism != MECH_NONE) {
		c->sync_mechanism = out.mechanism;
		c->object = out.object;
	}
}

/* At sys_exit: the futex call counted on its mapping's object. */
static __always_inline void count_sync_call(u32 tgid, struct inflight *c)
{
	struct object_stats *s = mapping_object_stats(tgid, c->sync_mechanism, c->object, 0);

	c->sync_mechanism = 0;
	if (s)
		s->sync_calls++;
}

/* A fault on a shared mapping counts for the mapping's mechanism; a kernel-mode fault on
 * a private user buffer inside an IPC call is that call's copy touching a fresh page.
 * Global: verified on its own, without the caller's state to carry through every path. */
__noinline int on_fault(u64 address, int kernel_mode)
{
	struct task_struct *task = bpf_get_current_task_btf();
	u32 tgid = task->tgid;
	struct vma_lookup at = {};
	struct proc_mech_stats *s;
	struct inflight *c;
	u8 mechanism;

	if (address >= USER_ADDR_LIMIT || !is_target_task(task, tgid, &c, true))
		return 0;
	if (!c) /* the storage holds the thread's mapping cache */
		c = new_thread_storage(task);
	mechanism = MECH_NONE;
	if (fault_mapping_at_g(c, address, &at)) {
		mechanism = at.mechanism;
	} else {
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
		if (s) {
			s->page_faults++;
			s->file_faults += at.file_backed;
		}
		if (track_objects && mechanism != MECH_NONE && at.file) { /* a SysV id may be 0 */
			struct object_stats *o = mapping_object_stats(tgid, mechanism, at.object, at.file);

			if (o)
				o->page_faults++;
		}
		return 0;
	}
	s = proc_mech_for(tgid, c && c->active ? c->mechanism : MECH_NONE);
	if (s)
		s->copy_faults++;
	return 0;
}

/* At sys_exit: moves the faults on_fault left pending from `other` to their mapping's
 * mechanism, and out of fault_unresolved, when the mappings are those they faulted in. */
__noinline int resolve_pending_faults(struct inflight *c)
{
	struct task_struct *task = bpf_get_current_task_btf(); /* global: verified once */
	struct vma_lookup out = {};
	struct mm_struct *mm = task->mm;
	struct proc_mech_stats *from, *to;
	u32 n, seq, reason = DROP_FAULT_UNRESOLVED;
	u64 *unresolved;

	if (!c)
		return 0;
	n = c->pend_n;
	c->pend_n = 0;
	if (!mm || !mm_seq(mm, &seq) || seq != c->pend_seq)
		return 0; /* the mappings changed since: the faults stay unresolved */
	if (bpf_find_vma(task, c->pend_lo, classify_vma, &out, 0) || c->pend_hi >= out.end)
		return 0;
	if (out.mechanism != MECH_NONE) {
		from = proc_mech_for(task->tgid, MECH_NONE);
		to = proc_mech_for(task->tgid, out.mechanism);
		if (!from || !to)
			return 0;
		/* Per-CPU counters: this CPU's may wrap, the sum over CPUs is right. */
		from->page_faults -= n;
		to->page_faults += n;
	}
	unresolved = bpf_map_lookup_elem(&drops, &reason);
	if (unresolved)
		*unresolved -= n;
	return 0;
}

#endif /* IPCTRACE_FAULTS_H */
