// Batches of datagrams over a unix socketpair with sendmmsg and recvmmsg, the first message of
// each batch carrying a pipe's read end (SCM_RIGHTS): the oracle of the batch-call test is what
// it prints, per call, the calls made, the messages and bytes they moved (each message's
// msg_len, as the kernel set it) and the descriptors passed:
//   sendmmsg CALLS MESSAGES BYTES FDS
//   recvmmsg CALLS MESSAGES BYTES FDS
//
//   mmsg_peer BATCHES PER_BATCH   (PER_BATCH ≤ 8: a unix datagram queue holds 10)
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

struct Tally {
    unsigned long long calls = 0, messages = 0, bytes = 0, fds = 0;
};

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: mmsg_peer BATCHES PER_BATCH\n");
        return 2;
    }
    const unsigned batches = static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10));
    const unsigned per = static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10));
    if (per == 0 || per > 8) {
        std::fprintf(stderr, "mmsg_peer: PER_BATCH must be 1..8\n");
        return 2;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) die("socketpair");
    constexpr size_t kMax = 1000;
    constexpr size_t kControl = CMSG_SPACE(sizeof(int));
    std::vector<char> out(per * kMax, 'x'), in(per * kMax);
    std::vector<char> out_control(kControl), in_control(per * kControl);
    Tally sent, received;

    for (unsigned b = 0; b < batches; ++b) {
        int pipe_fds[2];
        if (pipe(pipe_fds) != 0) die("pipe");
        std::vector<mmsghdr> msgs(per);
        std::vector<iovec> iov(per);
        for (unsigned i = 0; i < per; ++i) {
            iov[i] = {out.data() + i * kMax, 1 + (b * 131 + i * 37) % kMax};  // sizes differ
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        // The first message carries the pipe's read end.
        std::memset(out_control.data(), 0, kControl);
        msgs[0].msg_hdr.msg_control = out_control.data();
        msgs[0].msg_hdr.msg_controllen = kControl;
        cmsghdr* c = CMSG_FIRSTHDR(&msgs[0].msg_hdr);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &pipe_fds[0], sizeof(int));
        const int n = sendmmsg(sv[0], msgs.data(), per, 0);
        ++sent.calls;
        if (n != static_cast<int>(per)) die("sendmmsg");
        for (int i = 0; i < n; ++i) sent.bytes += msgs[i].msg_len;
        sent.messages += n;
        ++sent.fds;
        close(pipe_fds[0]);
        close(pipe_fds[1]);

        for (unsigned got = 0; got < per;) {
            std::vector<mmsghdr> rmsgs(per - got);
            std::vector<iovec> riov(per - got);
            for (unsigned i = 0; i < per - got; ++i) {
                riov[i] = {in.data() + i * kMax, kMax};
                rmsgs[i] = {};
                rmsgs[i].msg_hdr.msg_iov = &riov[i];
                rmsgs[i].msg_hdr.msg_iovlen = 1;
                rmsgs[i].msg_hdr.msg_control = in_control.data() + i * kControl;
                rmsgs[i].msg_hdr.msg_controllen = kControl;
            }
            const int r = recvmmsg(sv[1], rmsgs.data(), per - got, MSG_WAITFORONE, nullptr);
            ++received.calls;
            if (r <= 0) die("recvmmsg");
            for (int i = 0; i < r; ++i) {
                received.bytes += rmsgs[i].msg_len;
                for (cmsghdr* h = CMSG_FIRSTHDR(&rmsgs[i].msg_hdr); h; h = CMSG_NXTHDR(&rmsgs[i].msg_hdr, h))
                    if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
                        int fd;
                        std::memcpy(&fd, CMSG_DATA(h), sizeof(int));
                        close(fd);
                        ++received.fds;
                    }
            }
            received.messages += r;
            got += r;
        }
    }
    std::printf("sendmmsg %llu %llu %llu %llu\n", sent.calls, sent.messages, sent.bytes, sent.fds);
    std::printf("recvmmsg %llu %llu %llu %llu\n", received.calls, received.messages, received.bytes, received.fds);
    return 0;
}
