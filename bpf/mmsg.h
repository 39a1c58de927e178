/* sendmmsg/recvmmsg: a batch of messages in one call. The return value is how many messages
 * moved, not bytes; the kernel writes each message's byte count into its mmsghdr's msg_len,
 * so at sys_exit the first `ret` entries of the caller's vector say what crossed. Part of
 * ipctrace.bpf.c: included after task.h. */
#ifndef IPCTRACE_MMSG_H
#define IPCTRACE_MMSG_H

/* struct mmsghdr (x86_64): a struct msghdr of 56 bytes, then unsigned int msg_len. */
#define MMSGHDR_SIZE 64
#define MMSGHDR_LEN_OFFSET 56
#define IPC_MAX_MMSGS 1024 /* UIO_MAXIOV: the kernel caps vlen there */

struct mmsg_walk {
	u64 vec;   /* the caller's struct mmsghdr array */
	u32 n;     /* messages the call moved */
	u64 bytes; /* their msg_len, summed */
};

static long mmsg_len_step(u32 i, void *ctx)
{
	struct mmsg_walk *w = ctx;
	u32 len;

	if (i >= w->n || bpf_probe_read_user(&len, sizeof(len), (void *)(w->vec + (u64)i * MMSGHDR_SIZE + MMSGHDR_LEN_OFFSET)))
		return 1;
	w->bytes += len;
	return 0;
}

/* The bytes of the `n` messages a successful sendmmsg/recvmmsg moved (vector: its second
 * argument). Global: verified once, and only these two calls pay for it. */
__noinline u64 mmsg_bytes_g(u64 raw_regs, u32 n)
{
	struct pt_regs *regs = KERNEL_CAST(struct pt_regs, raw_regs);
	struct mmsg_walk w = {.n = n};

	if (!regs)
		return 0;
	w.vec = regs->si;
	bpf_loop(IPC_MAX_MMSGS, mmsg_len_step, &w, 0);
	return w.bytes;
}

#endif /* IPCTRACE_MMSG_H */
