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
//   uring_peer COUNT SIZE [async|fork]
// async: every sqe has IOSQE_ASYNC, so the kernel runs it in an io-wq worker thread and posts
// its completion from there, not from the submitting thread.
// fork: the parent only sends and writes, a forked child only receives and reads (its lines
// are prefixed "child "), each through its own ring: two processes linked by the ring's traffic.
#include <liburing.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

}  // namespace

int main(int argc, char** argv) {
    const bool async = argc == 4 && std::strcmp(argv[3], "async") == 0, forked = argc == 4 && std::strcmp(argv[3], "fork") == 0;
    if (argc != 3 && !async && !forked) {
        std::fprintf(stderr, "usage: uring_peer COUNT SIZE [async|fork]\n");
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
