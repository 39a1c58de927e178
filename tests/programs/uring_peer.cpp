// N sends and N receives over a unix socketpair, then N writes and N reads over a pipe, all
// through one io_uring (liburing): the io_uring test's oracle is what it prints, one line per
// opcode with the completions it reaped and the bytes their res said:
//   send 100 409600
//   recv 100 409600
//   write 100 409600
//   read 100 409600
//   enter 800
// Each operation is submitted and reaped on its own (one sqe in flight, one io_uring_enter),
// so a completion's res is that operation's and a short one is counted as what it was.
//
//   uring_peer COUNT SIZE [async|fork|multishot|overflow]
// async: every sqe has IOSQE_ASYNC, so the kernel runs it in an io-wq worker thread and posts
// its completion from there, not from the submitting thread.
// fork: the parent only sends and writes, a forked child only receives and reads (its lines
// are prefixed "child "), each through its own ring: two processes linked by the ring's traffic.
// multishot: one multishot recv (IORING_RECV_MULTISHOT, buffers from a registered buffer ring)
// receives COUNT messages that plain send(2) calls write, then the end of the stream; it prints
// "recv CQES BYTES" (every cqe of the one recv, the last one's res 0) and "send COUNT BYTES".
// The kernel posts every result but the last without the request.
// overflow: a completion ring of 4 entries, and rounds of 16 pipe writes then 16 reads each
// submitted before any cqe is reaped, so 12 of each round's cqes overflow the ring; it prints
// "write" and "read" lines as above (io_uring_enter calls are liburing's business here: no
// "enter" line).
#include <liburing.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Tally {
    unsigned long long ops = 0, bytes = 0;
};

unsigned long long g_enters = 0;  // io_uring_enter calls: one per operation
unsigned g_sqe_flags = 0;         // IOSQE_ASYNC with `async`

// Submits the prepared sqe and waits for its cqe in one io_uring_enter (liburing makes exactly
// that one syscall), then takes the cqe from the ring without another: its res, or -1.
int run_one(io_uring& ring, io_uring_sqe* sqe, const char* what) {
    io_uring_sqe_set_flags(sqe, g_sqe_flags);
    ++g_enters;
    if (const int n = io_uring_submit_and_wait(&ring, 1); n != 1) {
        std::fprintf(stderr, "uring_peer: submit %s: %s\n", what, n < 0 ? std::strerror(-n) : "not submitted");
        return -1;
    }
    io_uring_cqe* cqe = nullptr;
    if (const int err = io_uring_peek_cqe(&ring, &cqe); err < 0) {
        std::fprintf(stderr, "uring_peer: peek %s: %s\n", what, std::strerror(-err));
        return -1;
    }
    const int res = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    if (res < 0) std::fprintf(stderr, "uring_peer: %s: %s\n", what, std::strerror(-res));
    return res;
}

// One writing operation (send on the socket, write on the pipe) of `len` bytes: its res.
int put(io_uring& ring, int fd, bool socket, std::vector<char>& buf, size_t len) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (socket) io_uring_prep_send(sqe, fd, buf.data(), len, 0);
    else io_uring_prep_write(sqe, fd, buf.data(), static_cast<unsigned>(len), 0);
    return run_one(ring, sqe, socket ? "send" : "write");
}

// One reading operation (recv, read) of at most `len` bytes: its res.
int get(io_uring& ring, int fd, bool socket, std::vector<char>& buf, size_t len) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (socket) io_uring_prep_recv(sqe, fd, buf.data(), len, 0);
    else io_uring_prep_read(sqe, fd, buf.data(), static_cast<unsigned>(len), 0);
    return run_one(ring, sqe, socket ? "recv" : "read");
}

// Reads until `total` bytes arrived, however many operations it takes; each tallied.
bool drain(io_uring& ring, int fd, bool socket, std::vector<char>& buf, unsigned long long total, Tally& got) {
    for (unsigned long long left = total; left > 0;) {
        const int n = get(ring, fd, socket, buf, std::min<unsigned long long>(left, buf.size()));
        if (n <= 0) return false;
        ++got.ops;
        got.bytes += static_cast<unsigned>(n);
        left -= static_cast<unsigned>(n);
    }
    return true;
}

// One message from `out` to `in`: the writing op, then what reads it back; each tallied.
bool exchange(io_uring& ring, int out, int in, bool socket, std::vector<char>& buf, Tally& wrote, Tally& got) {
    const int sent = put(ring, out, socket, buf, buf.size());
    if (sent < 0) return false;
    ++wrote.ops;
    wrote.bytes += static_cast<unsigned>(sent);
    return drain(ring, in, socket, buf, static_cast<unsigned>(sent), got);
}

bool init(io_uring& ring) {
    if (const int err = io_uring_queue_init(8, &ring, 0); err < 0) {
        std::fprintf(stderr, "uring_peer: io_uring_queue_init: %s\n", std::strerror(-err));
        return false;
    }
    return true;
}

// fork: the parent sends and writes, a child receives and reads, each through its own ring.
int two_processes(long count, std::vector<char>& buf, int sv[2], int pfd[2]) {
    std::fflush(stdout);
    const pid_t child = fork();
    if (child < 0) {
        std::perror("uring_peer: fork");
        return 1;
    }
    io_uring ring{};
    if (!init(ring)) return 1;
    if (child == 0) {
        close(sv[0]);
        close(pfd[1]);
        Tally recv, read;
        const unsigned long long total = static_cast<unsigned long long>(count) * buf.size();
        if (!drain(ring, sv[1], true, buf, total, recv) || !drain(ring, pfd[0], false, buf, total, read)) _exit(1);
        std::printf("child recv %llu %llu\nchild read %llu %llu\nchild enter %llu\n", recv.ops, recv.bytes, read.ops, read.bytes,
                    g_enters);
        std::fflush(stdout);
        _exit(0);
    }
    close(sv[1]);
    close(pfd[0]);
    Tally send, write;
    // A send into a full socket may complete short: the rest goes in the next operation.
    for (int pass = 0; pass < 2; ++pass)
        for (unsigned long long left = static_cast<unsigned long long>(count) * buf.size(); left > 0;) {
            Tally& t = pass == 0 ? send : write;
            const int n = put(ring, pass == 0 ? sv[0] : pfd[1], pass == 0, buf, std::min<unsigned long long>(left, buf.size()));
            if (n <= 0) return 1;
            ++t.ops;
            t.bytes += static_cast<unsigned>(n);
            left -= static_cast<unsigned>(n);
        }
    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
    std::printf("send %llu %llu\nwrite %llu %llu\nenter %llu\n", send.ops, send.bytes, write.ops, write.bytes, g_enters);
    return 0;
}

// multishot: one recv armed once, COUNT messages from plain send(2), then EOF.
int multishot(long count, std::vector<char>& buf, int sv[2]) {
    constexpr unsigned kBuffers = 8, kGroup = 7;
    io_uring ring{};
    if (!init(ring)) return 1;
    const size_t ring_bytes = kBuffers * sizeof(io_uring_buf);
    void* mem = mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) {
        std::perror("uring_peer: mmap buffer ring");
        return 1;
    }
    auto* br = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_ring_init(br);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<unsigned long>(br);
    reg.ring_entries = kBuffers;
    reg.bgid = kGroup;
    if (const int err = io_uring_register_buf_ring(&ring, &reg, 0); err < 0) {
        std::fprintf(stderr, "uring_peer: io_uring_register_buf_ring: %s\n", std::strerror(-err));
        return 1;
    }
    std::vector<std::vector<char>> buffers(kBuffers, std::vector<char>(buf.size()));
    for (unsigned i = 0; i < kBuffers; ++i)
        io_uring_buf_ring_add(br, buffers[i].data(), static_cast<unsigned>(buf.size()), static_cast<unsigned short>(i),
                              io_uring_buf_ring_mask(kBuffers), static_cast<int>(i));
    io_uring_buf_ring_advance(br, kBuffers);

    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recv_multishot(sqe, sv[1], nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kGroup;
    if (io_uring_submit(&ring) != 1) {
        std::fprintf(stderr, "uring_peer: submit recv_multishot\n");
        return 1;
    }
    Tally sent, got;
    bool more = true;
    // One message at a time, its cqes reaped before the next; the end of the stream is the
    // multishot's last cqe (res 0, no IORING_CQE_F_MORE).
    for (long i = 0; i <= count && more; ++i) {
        unsigned long long want = buf.size();
        if (i < count) {
            const ssize_t n = send(sv[0], buf.data(), buf.size(), 0);
            if (n != static_cast<ssize_t>(buf.size())) return 1;
            ++sent.ops;
            sent.bytes += static_cast<unsigned long long>(n);
        } else {
            shutdown(sv[0], SHUT_WR);
            want = 0;
        }
        for (unsigned long long have = 0; more && (have < want || (want == 0 && have == 0));) {
            io_uring_cqe* cqe = nullptr;
            if (const int err = io_uring_wait_cqe(&ring, &cqe); err < 0) {
                std::fprintf(stderr, "uring_peer: wait recv_multishot: %s\n", std::strerror(-err));
                return 1;
            }
            const int res = cqe->res;
            more = (cqe->flags & IORING_CQE_F_MORE) != 0;
            if (res < 0) {
                std::fprintf(stderr, "uring_peer: recv_multishot: %s\n", std::strerror(-res));
                return 1;
            }
            ++got.ops;
            got.bytes += static_cast<unsigned>(res);
            if (res > 0) {  // give the buffer back to the ring
                const unsigned id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
                io_uring_buf_ring_add(br, buffers[id].data(), static_cast<unsigned>(buf.size()), static_cast<unsigned short>(id),
                                      io_uring_buf_ring_mask(kBuffers), 0);
                io_uring_buf_ring_advance(br, 1);
            }
            io_uring_cqe_seen(&ring, cqe);
            if (res == 0) break;
            have += static_cast<unsigned>(res);
        }
    }
    if (more) {
        std::fprintf(stderr, "uring_peer: recv_multishot did not end with the stream\n");
        return 1;
    }
    io_uring_queue_exit(&ring);
    std::printf("send %llu %llu\nrecv %llu %llu\n", sent.ops, sent.bytes, got.ops, got.bytes);
    return 0;
}

// overflow: rounds of kBatch operations submitted with no cqe reaped, into a ring of kCq cqes.
int overflow(long count, std::vector<char>& buf, int pfd[2]) {
    constexpr unsigned kBatch = 16, kCq = 4;
    if (static_cast<size_t>(buf.size()) * kBatch > 65536) {
        std::fprintf(stderr, "uring_peer: overflow needs SIZE * %u within a pipe's 64 KiB\n", kBatch);
        return 2;
    }
    io_uring_params params{};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = kCq;
    io_uring ring{};
    if (const int err = io_uring_queue_init_params(kCq, &ring, &params); err < 0) {
        std::fprintf(stderr, "uring_peer: io_uring_queue_init_params: %s\n", std::strerror(-err));
        return 1;
    }
    Tally write, read;
    bool overflowed = false;
    for (long done = 0; done < count;) {
        const unsigned n = static_cast<unsigned>(std::min<long>(kBatch, count - done));
        for (int pass = 0; pass < 2; ++pass) {
            for (unsigned i = 0; i < n; ++i) {  // the SQ holds 4: submit as it fills
                io_uring_sqe* sqe = io_uring_get_sqe(&ring);
                if (!sqe) {
                    io_uring_submit(&ring);
                    sqe = io_uring_get_sqe(&ring);
                }
                if (pass == 0) io_uring_prep_write(sqe, pfd[1], buf.data(), static_cast<unsigned>(buf.size()), 0);
                else io_uring_prep_read(sqe, pfd[0], buf.data(), static_cast<unsigned>(buf.size()), 0);
            }
            io_uring_submit(&ring);
            overflowed = overflowed || io_uring_cq_has_overflow(&ring);
            Tally& t = pass == 0 ? write : read;
            for (unsigned got = 0; got < n; ++got) {  // liburing flushes the overflow list as it waits
                io_uring_cqe* cqe = nullptr;
                if (const int err = io_uring_wait_cqe(&ring, &cqe); err < 0) {
                    std::fprintf(stderr, "uring_peer: wait: %s\n", std::strerror(-err));
                    return 1;
                }
                if (cqe->res != static_cast<int>(buf.size())) {
                    std::fprintf(stderr, "uring_peer: %s returned %d\n", pass == 0 ? "write" : "read", cqe->res);
                    return 1;
                }
                ++t.ops;
                t.bytes += static_cast<unsigned>(cqe->res);
                io_uring_cqe_seen(&ring, cqe);
            }
        }
        done += n;
    }
    if (!overflowed) {
        std::fprintf(stderr, "uring_peer: the completion ring never overflowed\n");
        return 1;
    }
    io_uring_queue_exit(&ring);
    std::printf("write %llu %llu\nread %llu %llu\n", write.ops, write.bytes, read.ops, read.bytes);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc == 4 ? argv[3] : "";
    const bool async = mode == "async", forked = mode == "fork";
    if (argc < 3 || argc > 4 || (argc == 4 && !async && !forked && mode != "multishot" && mode != "overflow")) {
        std::fprintf(stderr, "usage: uring_peer COUNT SIZE [async|fork|multishot|overflow]\n");
        return 2;
    }
    if (async) g_sqe_flags = IOSQE_ASYNC;
    const long count = std::strtol(argv[1], nullptr, 10), size = std::strtol(argv[2], nullptr, 10);
    if (count <= 0 || count > 1000000 || size <= 0 || size > 65536) {
        std::fprintf(stderr, "uring_peer: COUNT must be 1..1000000 and SIZE 1..65536\n");
        return 2;
    }
    int sv[2], pfd[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || pipe(pfd) != 0) {
        std::perror("uring_peer: socketpair/pipe");
        return 1;
    }
    std::vector<char> buf(static_cast<size_t>(size), 'x');
    if (forked) return two_processes(count, buf, sv, pfd);
    if (mode == "multishot") return multishot(count, buf, sv);
    if (mode == "overflow") return overflow(count, buf, pfd);
    io_uring ring{};
    if (!init(ring)) return 1;
    Tally send, recv, write, read;
    for (long i = 0; i < count; ++i)
        if (!exchange(ring, sv[0], sv[1], true, buf, send, recv)) return 1;
    for (long i = 0; i < count; ++i)
        if (!exchange(ring, pfd[1], pfd[0], false, buf, write, read)) return 1;
    io_uring_queue_exit(&ring);
    std::printf("send %llu %llu\nrecv %llu %llu\nwrite %llu %llu\nread %llu %llu\nenter %llu\n", send.ops, send.bytes, recv.ops,
                recv.bytes, write.ops, write.bytes, read.ops, read.bytes, g_enters);
    return 0;
}
