// Socket workloads: unix (AF_UNIX stream), unix-dgram, tcp and udp on 127.0.0.1.
// Messages go through send()/recv() (the kernel sees sendto/recvfrom). stream: role 0
// sends, role 1 receives; pingpong: role 1 answers every message.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>

#include "catalog.h"
#include "common.h"

namespace ipctrace::workloads {

namespace {

// Control::ids slots: the bound ports of tcp/udp (host order).
constexpr int kOwnerPort = 0, kPeerPort = 1;
constexpr char kStreamLeaf[] = "/stream.sock";
constexpr char kDgramLeaf[] = "/dgram.sock";
constexpr char kPeerSuffix[] = ".peer";  // unix-dgram: the peer's socket is "<path>.peer"

// Socket paths are Control::path-sized Paths (common.h): they must fit sun_path.
static_assert(sizeof(Path) == sizeof(sockaddr_un::sun_path));

// ---- socket calls, all counted -------------------------------------------------------

Fd make_socket(RoleResult& out, int domain, int type) {
    const long fd = counted(out, SYS_socket, domain, type | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_errno("socket");
    return Fd(out, fd);
}

sockaddr_un unix_addr(const char* path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path, std::strlen(path) + 1);  // fits: built by concat into a Path
    return a;
}

sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

template <class Addr>
void bind_to(RoleResult& out, const Fd& s, const Addr& a) {
    if (counted(out, SYS_bind, s.get(), &a, sizeof a) < 0) throw_errno("bind");
}

template <class Addr>
void connect_to(RoleResult& out, const Fd& s, const Addr& a) {
    if (counted_retry(out, SYS_connect, s.get(), &a, sizeof a) < 0) throw_errno("connect");
}

void listen_on(RoleResult& out, const Fd& s) {
    if (counted(out, SYS_listen, s.get(), 1) < 0) throw_errno("listen");
}

Fd accept_one(RoleResult& out, const Fd& listener) {
    const long fd = counted_retry(out, SYS_accept, listener.get(), nullptr, nullptr);
    if (fd < 0) throw_errno("accept");
    return Fd(out, fd);
}

uint16_t bound_port(RoleResult& out, const Fd& s) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (counted(out, SYS_getsockname, s.get(), &a, &len) < 0) throw_errno("getsockname");
    return ntohs(a.sin_port);
}

template <class T>
void set_option(RoleResult& out, const Fd& s, int level, int name, const T& value, const char* what) {
    if (counted(out, SYS_setsockopt, s.get(), level, name, &value, sizeof value) < 0) throw_errno(what);
}

void set_recv_timeout(RoleResult& out, const Fd& s, uint64_t ms) {
    const timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
    set_option(out, s, SOL_SOCKET, SO_RCVTIMEO, tv, "setsockopt SO_RCVTIMEO");
}

// ---- message channels ---------------------------------------------------------------

// Byte stream: send() takes part of a message only if a signal interrupts it, recv()
// returns what has arrived; common.h's loops make as many calls as that takes.
struct StreamChannel {
    Fd fd;
    RoleResult& out;

    void send(const unsigned char* p, uint64_t n, uint64_t msg) { write_all(out, fd.get(), p, n, msg, SYS_sendto); }
    void recv(unsigned char* p, uint64_t n, uint64_t msg) { read_exact(out, fd.get(), p, n, msg, SYS_recvfrom); }
};

// One message per datagram, whole or not at all.
struct DgramChannel {
    Fd fd;
    RoleResult& out;

    void send(const unsigned char* p, uint64_t n, uint64_t /*msg*/) {
        const long w = counted_retry(out, SYS_sendto, fd.get(), p, n, MSG_NOSIGNAL, nullptr, 0);
        if (w < 0 && errno == EMSGSIZE) too_big(n);
        if (w < 0) throw_errno("send");
        if (static_cast<uint64_t>(w) != n)  // cannot happen for datagrams; say so if it does
            throw_error("send: sent %ld of %llu bytes of a datagram", w, static_cast<unsigned long long>(n));
    }
    // The only limit an AF_UNIX datagram meets is the sender's buffer: name it (check()
    // catches the default; this is for a buffer smaller than net.core.wmem_default).
    [[noreturn]] void too_big(uint64_t n) {
        int sndbuf = 0;
        socklen_t len = sizeof sndbuf;
        counted(out, SYS_getsockopt, fd.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, &len);
        throw_error("send: a %llu-byte datagram exceeds SO_SNDBUF - 32 = %d bytes",
                    static_cast<unsigned long long>(n), sndbuf - 32);
    }
    // MSG_TRUNC: the datagram's real length, so a wrong-sized one cannot pass unnoticed.
    void recv(unsigned char* p, uint64_t n, uint64_t msg) {
        const long r = counted_retry(out, SYS_recvfrom, fd.get(), p, n, MSG_TRUNC, nullptr, nullptr);
        if (r < 0) throw_errno("recv");
        if (static_cast<uint64_t>(r) != n)
            throw_error("recv: message %llu is a %ld-byte datagram, expected %llu",
                        static_cast<unsigned long long>(msg), r, static_cast<unsigned long long>(n));
    }
};

// ---- unix ---------------------------------------------------------------------------

void unix_cleanup(Control& ctl) {
    if (ctl.path[0] == '\0') return;
    ::unlink(ctl.path);
    Path peer;
    if (concat(peer, ctl.path, kPeerSuffix)) ::unlink(peer);
}

void unix_role(Control& ctl, int role, RoleResult& out) {
    StreamChannel ch{Fd(), out};
    if (role == 0) {
        if (!concat(ctl.path, ctl.dir, kStreamLeaf)) throw_error("unix: path in %s too long", ctl.dir);
        Fd listener = make_socket(out, AF_UNIX, SOCK_STREAM);
        bind_to(out, listener, unix_addr(ctl.path));
        listen_on(out, listener);
        ctl.published.store(1, std::memory_order_release);
        ch.fd = accept_one(out, listener);
    } else {
        spin_until_at_least(ctl.published, 1);
        ch.fd = make_socket(out, AF_UNIX, SOCK_STREAM);
        connect_to(out, ch.fd, unix_addr(ctl.path));
        ctl.ready.store(1, std::memory_order_release);
    }
    exchange_messages(ctl.params, role, scratch_bytes(), ch, out);
}

// ---- unix-dgram ----------------------------------------------------------------------

// Each role binds its own socket (role 1's is "<path>.peer") and connects it to the other,
// so send() needs no address and only the partner can write to it.
void unix_dgram_role(Control& ctl, int role, RoleResult& out) {
    DgramChannel ch{Fd(), out};
    Path peer_path;
    if (role == 0) {
        if (!concat(ctl.path, ctl.dir, kDgramLeaf) || !concat(peer_path, ctl.path, kPeerSuffix))
            throw_error("unix-dgram: path in %s too long", ctl.dir);
        ch.fd = make_socket(out, AF_UNIX, SOCK_DGRAM);
        bind_to(out, ch.fd, unix_addr(ctl.path));
        ctl.published.store(1, std::memory_order_release);
        spin_until_at_least(ctl.ready, 1);
        connect_to(out, ch.fd, unix_addr(peer_path));
    } else {
        spin_until_at_least(ctl.published, 1);
        if (!concat(peer_path, ctl.path, kPeerSuffix)) throw_error("unix-dgram: path in %s too long", ctl.dir);
        ch.fd = make_socket(out, AF_UNIX, SOCK_DGRAM);
        bind_to(out, ch.fd, unix_addr(peer_path));
        connect_to(out, ch.fd, unix_addr(ctl.path));
        ctl.ready.store(1, std::memory_order_release);
    }
    exchange_messages(ctl.params, role, scratch_bytes(), ch, out);
}

// An AF_UNIX datagram must fit the sender's SO_SNDBUF (net.core.wmem_default) minus 32.
Status unix_dgram_check(const Params& p) {
    uint64_t wmem = 0;
    if (!read_sysctl("/proc/sys/net/core/wmem_default", wmem) || wmem < 32) return {};
    if (p.size <= wmem - 32) return {};
    return unexpected("unix-dgram: --size " + human_size(p.size) + " exceeds the largest AF_UNIX datagram, " +
                      std::to_string(wmem - 32) + " bytes (net.core.wmem_default " + std::to_string(wmem) +
                      " minus 32); raise it with sysctl net.core.wmem_default=" + std::to_string(p.size + 32));
}

// ---- tcp ----------------------------------------------------------------------------

void tcp_role(Control& ctl, int role, RoleResult& out) {
    StreamChannel ch{Fd(), out};
    // Messages go out as soon as they are written: with Nagle the tail segment of a message
    // larger than the MSS would wait for an ACK that delayed-ACK holds back.
    const int one = 1;
    if (role == 0) {
        Fd listener = make_socket(out, AF_INET, SOCK_STREAM);
        bind_to(out, listener, loopback(0));
        listen_on(out, listener);
        ctl.ids[kOwnerPort] = bound_port(out, listener);
        ctl.published.store(1, std::memory_order_release);
        ch.fd = accept_one(out, listener);
        set_option(out, ch.fd, IPPROTO_TCP, TCP_NODELAY, one, "setsockopt TCP_NODELAY");
        // Close with a reset, whenever and however this role ends: an orderly close leaves
        // one end in TIME_WAIT for a minute after the run. Nothing is lost by it: on the
        // normal path this role closes last, once the peer has received everything.
        const linger reset_on_close{1, 0};
        set_option(out, ch.fd, SOL_SOCKET, SO_LINGER, reset_on_close, "setsockopt SO_LINGER");
    } else {
        spin_until_at_least(ctl.published, 1);
        ch.fd = make_socket(out, AF_INET, SOCK_STREAM);
        set_option(out, ch.fd, IPPROTO_TCP, TCP_NODELAY, one, "setsockopt TCP_NODELAY");
        connect_to(out, ch.fd, loopback(static_cast<uint16_t>(ctl.ids[kOwnerPort])));
        ctl.ready.store(1, std::memory_order_release);
    }
    exchange_messages(ctl.params, role, scratch_bytes(), ch, out);
    if (role == 1) peer_done(ctl);
    else wait_peer_done(ctl);  // before the reset: the peer may still be reading
}

// ---- udp ----------------------------------------------------------------------------

// Every datagram starts with its 64-bit sequence number (so loss is countable), then the
// pattern of that message; replies carry reply_id(m). Control datagrams are a bare 8-byte
// number: kEnd marks the end of a stream, any other value is a credit.
//
// stream (default) is flow-controlled, so that its throughput is a UDP figure and not the
// start-up race of a sender outrunning the receiver's buffer: the receiver grants a window of
// datagrams its socket buffer holds, and returns credits (the next sequence it expects) every
// half window. lossy paces the sender at --rate with no flow control: loss is what it measures.
constexpr uint64_t kSeqBytes = sizeof(uint64_t);
constexpr uint64_t kEnd = ~uint64_t{0};
constexpr uint64_t kMaxUdpPayload = 65507;  // 65535 - IPv4 header - UDP header
constexpr int kEndMarkers = 3;              // the receiver may drop some: its buffer can be full
constexpr uint64_t kIdleMs = 200;           // receiver: resend a credit, or give up once the sender is done
constexpr uint64_t kCreditTimeoutMs = 5000;  // sender: no credit this long means the receiver is gone
constexpr uint64_t kReplyTimeoutMs = 5000;  // pingpong: one datagram in flight, loss means trouble
constexpr uint64_t kDefaultRate = 100'000;  // --mode lossy without --rate, datagrams per second
constexpr int kRcvBuf = 4 << 20;            // asked with SO_RCVBUFFORCE (root); else the default
constexpr int kWindowSlot = 2;              // Control::ids slot: the receiver's window

void put_datagram(unsigned char* buf, uint64_t size, uint64_t seq) {
    std::memcpy(buf, &seq, kSeqBytes);
    fill(buf + kSeqBytes, size - kSeqBytes, seq);
}

uint64_t seq_of(const unsigned char* buf) {
    uint64_t seq;
    std::memcpy(&seq, buf, kSeqBytes);
    return seq;
}

// One control datagram; counted as sent only when the kernel took all 8 bytes.
void send_control(RoleResult& out, const Fd& s, uint64_t value) {
    if (counted(out, SYS_sendto, s.get(), &value, kSeqBytes, 0, nullptr, 0) == static_cast<long>(kSeqBytes))
        ++out.control_sent;
}

// Datagrams the receiver's buffer surely holds: the buffer over twice a datagram's kernel
// footprint (its data rounded up to a power of two, plus the skb), at most 128.
uint64_t udp_window(RoleResult& out, const Fd& s, uint64_t size) {
    int rcvbuf = kRcvBuf;
    counted(out, SYS_setsockopt, s.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);  // EPERM: keep the default
    socklen_t len = sizeof rcvbuf;
    if (counted(out, SYS_getsockopt, s.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) < 0) throw_errno("getsockopt SO_RCVBUF");
    uint64_t footprint = 1;
    while (footprint < size + 512) footprint <<= 1;
    footprint += 512;
    return std::clamp<uint64_t>(static_cast<uint64_t>(rcvbuf) / (2 * footprint), 1, 128);
}

// Sender of a stream. Flow-controlled: never more than `window` datagrams beyond the last
// credit; credits are read without blocking every half window, and waited for when the
// window is full. lossy: paced at the rate by the clock (no syscall), never waits.
void udp_send_stream(Control& ctl, const Fd& s, RoleResult& out) {
    const Params& p = ctl.params;
    const bool lossy = p.mode == Mode::Lossy;
    const uint64_t window = static_cast<uint64_t>(ctl.ids[kWindowSlot]);
    const uint64_t every = std::max<uint64_t>(1, window / 2);
    const double ns_per = lossy ? 1e9 / static_cast<double>(p.rate ? p.rate : kDefaultRate) : 0;
    unsigned char* buf = scratch_bytes();
    uint64_t credited = 0;  // the receiver's next expected sequence, as last read
    if (!lossy) set_recv_timeout(out, s, kCreditTimeoutMs);
    auto read_credit = [&](int flags) {
        uint64_t v = 0;
        const long r = counted(out, SYS_recvfrom, s.get(), &v, kSeqBytes, flags | MSG_TRUNC, nullptr, nullptr);
        if (r < 0) return false;
        if (r != static_cast<long>(kSeqBytes)) throw_error("udp: a %ld-byte datagram where a credit was due", r);
        ++out.control_received;
        credited = std::max(credited, v);
        return true;
    };
    const uint64_t t0 = now_ns();
    message_loop(p, 0, out, p.size, [&](uint64_t m) {
        if (lossy) {
            const auto due = t0 + static_cast<uint64_t>(static_cast<double>(m) * ns_per);
            while (now_ns() < due) cpu_relax();
        } else {
            if (m % every == 0)
                while (read_credit(MSG_DONTWAIT)) {
                }
            while (m - credited >= window) {
                if (read_credit(0)) continue;
                if (errno == EINTR) continue;
                if (errno == EAGAIN)
                    throw_error("udp: no credit from the receiver for %llu ms (%llu sent, %llu credited)",
                                static_cast<unsigned long long>(kCreditTimeoutMs),
                                static_cast<unsigned long long>(m), static_cast<unsigned long long>(credited));
                throw_errno("recv credit");
            }
        }
        put_datagram(buf, p.size, m);
        const long w = counted_retry(out, SYS_sendto, s.get(), buf, p.size, 0, nullptr, 0);
        if (w < 0) throw_errno("send");
        ++out.sent;
    });
    ctl.published.store(2, std::memory_order_release);  // "all sent": the receiver may time out now
    // A marker may be refused (ECONNREFUSED) once the receiver has stopped: that is fine.
    for (int i = 0; i < kEndMarkers; ++i) send_control(out, s, kEnd);
}

void udp_receive_stream(Control& ctl, const Fd& s, RoleResult& out) {
    const Params& p = ctl.params;
    const bool lossy = p.mode == Mode::Lossy;
    const uint64_t every = std::max<uint64_t>(1, static_cast<uint64_t>(ctl.ids[kWindowSlot]) / 2);
    unsigned char* buf = scratch_bytes();
    set_recv_timeout(out, s, kIdleMs);
    uint64_t received = 0, next = 0;  // next: the sequence after the highest seen (a loss does not stall credits)
    const uint64_t t0 = now_ns();
    std::atomic_ref<uint64_t>(out.start_ns).store(t0, std::memory_order_relaxed);
    uint64_t t_last = t0;
    // Loopback queues a datagram on the sending CPU: a sender that migrates can have its end
    // marker overtake its last datagrams. So the marker only ends the wait for stragglers.
    bool ended = false;
    while (received < p.count) {
        const long r = counted(out, SYS_recvfrom, s.get(), buf, p.size, MSG_TRUNC, nullptr, nullptr);
        if (r < 0) {
            if (errno == EINTR) continue;
            // A credit sent after the sender closed its socket comes back as an ICMP error,
            // reported once on this socket: nothing was received, go on.
            if (errno == ECONNREFUSED) continue;
            if (errno != EAGAIN) throw_errno("recv");
            if (ended) break;
            // Idle for kIdleMs: the rest was lost if the sender is done; else a credit may
            // have been lost (or the sender is slow): grant again.
            if (ctl.published.load(std::memory_order_acquire) >= 2) break;
            if (!lossy) send_control(out, s, next);
            continue;
        }
        if (r == static_cast<long>(kSeqBytes) && seq_of(buf) == kEnd) {
            ++out.control_received;
            ended = true;
            continue;
        }
        if (static_cast<uint64_t>(r) != p.size || seq_of(buf) >= p.count)
            throw_error("udp: unexpected %ld-byte datagram (sequence %llu) after %llu received", r,
                        static_cast<unsigned long long>(r >= 8 ? seq_of(buf) : 0),
                        static_cast<unsigned long long>(received));
        verify(buf + kSeqBytes, p.size - kSeqBytes, seq_of(buf), out);
        next = std::max(next, seq_of(buf) + 1);
        ++received;
        ++out.received;
        publish_progress(out, received, received * p.size);
        t_last = now_ns();
        if (!lossy && received % every == 0) send_control(out, s, next);
    }
    out.elapsed_ns = t_last - t0;
    out.messages = received;
    out.bytes = received * p.size;
    out.lost = p.count > received ? p.count - received : 0;  // loopback does not duplicate
}

// Ping-pong: exactly one datagram in flight, so the receive buffer cannot overflow; a
// missing reply is an error rather than loss to be counted.
void udp_pingpong(Control& ctl, int role, const Fd& s, RoleResult& out) {
    const Params& p = ctl.params;
    unsigned char* buf = scratch_bytes();
    if (role == 0) set_recv_timeout(out, s, kReplyTimeoutMs);
    auto receive = [&](uint64_t want, uint64_t m) {
        const long r = counted_retry(out, SYS_recvfrom, s.get(), buf, p.size, MSG_TRUNC, nullptr, nullptr);
        if (r < 0 && errno == EAGAIN)
            throw_error("udp: no reply to message %llu within %llu ms", static_cast<unsigned long long>(m),
                        static_cast<unsigned long long>(kReplyTimeoutMs));
        if (r < 0) throw_errno("recv");
        if (static_cast<uint64_t>(r) != p.size || seq_of(buf) != want)
            throw_error("udp: expected datagram %llu%s, got %ld bytes with sequence %llx",
                        static_cast<unsigned long long>(m), want == m ? "" : " (reply)", r,
                        static_cast<unsigned long long>(seq_of(buf)));
        verify(buf + kSeqBytes, p.size - kSeqBytes, want, out);
        ++out.received;
    };
    auto send = [&](uint64_t seq) {
        put_datagram(buf, p.size, seq);
        if (counted_retry(out, SYS_sendto, s.get(), buf, p.size, 0, nullptr, 0) < 0) throw_errno("send");
        ++out.sent;
    };
    message_loop(p, role, out, p.size, [&](uint64_t m) {
        if (role == 0) {
            send(m);
            receive(reply_id(m), m);
        } else {
            receive(m, m);
            send(reply_id(m));
        }
    });
}

Status udp_check(const Params& p) {
    if (p.size < kSeqBytes)
        return unexpected("udp: --size must be at least 8 bytes (each datagram carries its sequence number)");
    if (p.size > kMaxUdpPayload)
        return unexpected("udp: --size " + human_size(p.size) + " exceeds the largest UDP/IPv4 datagram, " +
               std::to_string(kMaxUdpPayload) + " bytes");
    return {};
}

// Two sockets bound to 127.0.0.1 and connected to each other (ports via Control::ids).
void udp_role(Control& ctl, int role, RoleResult& out) {
    // resolve() runs udp_check; this guards the buffer arithmetic for a caller that did not.
    if (const auto st = udp_check(ctl.params); !st) throw_error("%s", st.error().c_str());
    Fd s = make_socket(out, AF_INET, SOCK_DGRAM);
    bind_to(out, s, loopback(0));
    const int mine = role == 0 ? kOwnerPort : kPeerPort;
    ctl.ids[mine] = bound_port(out, s);
    if (role == 0) {
        ctl.published.store(1, std::memory_order_release);
        spin_until_at_least(ctl.ready, 1);
        connect_to(out, s, loopback(static_cast<uint16_t>(ctl.ids[kPeerPort])));
    } else {
        spin_until_at_least(ctl.published, 1);
        connect_to(out, s, loopback(static_cast<uint16_t>(ctl.ids[kOwnerPort])));
        if (ctl.params.mode == Mode::Stream) ctl.ids[kWindowSlot] = static_cast<int64_t>(udp_window(out, s, ctl.params.size));
        ctl.ready.store(1, std::memory_order_release);
    }
    if (ctl.params.mode == Mode::PingPong) udp_pingpong(ctl, role, s, out);
    else if (role == 0) udp_send_stream(ctl, s, out);
    else udp_receive_stream(ctl, s, out);
}

}  // namespace

const Workload& workload_unix() {
    static const Workload w{
        .name = "unix",
        .description = "AF_UNIX stream socket in a private directory, send/recv",
        .mechanisms = {"unix_stream"},
        .default_count = 100000,
        .default_size = 4096,
        .syncs = {},
        .modes = {Mode::Stream, Mode::PingPong},
        .payload = true,
        .role = unix_role,
        .cleanup = unix_cleanup,
    };
    return w;
}

const Workload& workload_unix_dgram() {
    static const Workload w{
        .name = "unix-dgram",
        .description = "two connected AF_UNIX datagram sockets, one message per datagram",
        .mechanisms = {"unix_dgram"},
        .default_count = 100000,
        .default_size = 1024,
        .syncs = {},
        .modes = {Mode::Stream, Mode::PingPong},
        .payload = true,
        .role = unix_dgram_role,
        .cleanup = unix_cleanup,
        .check = unix_dgram_check,
    };
    return w;
}

const Workload& workload_tcp() {
    static const Workload w{
        .name = "tcp",
        .description = "TCP connection over 127.0.0.1 (TCP_NODELAY), send/recv",
        .mechanisms = {"tcp"},
        .default_count = 100000,
        .default_size = 4096,
        .syncs = {},
        .modes = {Mode::Stream, Mode::PingPong},
        .payload = true,
        .role = tcp_role,
        .cleanup = nullptr,  // ports and connections go with the processes
    };
    return w;
}

const Workload& workload_udp() {
    static const Workload w{
        .name = "udp",
        .description = "UDP datagrams over 127.0.0.1; stream flow-controlled by receiver credits, lossy paced at --rate",
        .mechanisms = {"udp"},
        .default_count = 100000,
        .default_size = 1024,
        .syncs = {},
        .modes = {Mode::Stream, Mode::PingPong, Mode::Lossy},
        .payload = true,
        .role = udp_role,
        .cleanup = nullptr,  // ports go with the processes
        .check = udp_check,
        .datagrams = true,
    };
    return w;
}

}  // namespace ipctrace::workloads
