// The probes driven directly through the Tracer API, on a forked child whose every IPC call
// is written out here: zero-copy calls, and one program using several mechanisms at once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>

#include "common/mechanisms.h"
#include "model/report.h"
#include "subprocess.h"
#include "probe/tracer.h"

namespace ipctrace::testing {
namespace {

// Runs `body` in a child that is a target before it makes a single syscall, and returns
// the report of what the probes saw. The child exits 0 when every call in `body` succeeded.
Report trace_child(const std::function<bool()>& body) {
    Tracer tracer(Tracer::Scope::Targets, false);
    tracer.attach();
    auto* flags = static_cast<std::atomic<int>*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    std::atomic<int>& armed = flags[0];
    std::atomic<int>& go = flags[1];
    armed.store(0);
    go.store(0);
    const pid_t child = fork();
    if (child == 0) {
        armed.store(1);  // the child's fault on this shared page happens before it is traced
        while (go.load() == 0) {
        }
        _exit(body() ? 0 : 1);
    }
    while (armed.load() == 0) {
    }
    tracer.add_target(child);
    go.store(1);
    int status = 0;
    waitpid(child, &status, 0);
    munmap(flags, 4096);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child's calls failed";
    tracer.detach();
    return build_report(tracer.snapshot());
}

const CallStats& call(const Report& r, Mechanism m, const char* name) {
    static const CallStats none;
    const auto mech = r.mechanisms.find(m);
    if (mech == r.mechanisms.end()) return none;
    const auto it = mech->second.syscalls.find(*syscall_number(name));
    return it == mech->second.syscalls.end() ? none : it->second;
}

TEST(DirectProbes, ZeroCopyCallsCountBytesMovedWithoutAUserCopy) {
    IPCTRACE_REQUIRE_ROOT();
    const Report r = trace_child([] {
        int p[2], q[2], s[2];
        if (pipe(p) || pipe(q) || socketpair(AF_UNIX, SOCK_STREAM, 0, s)) return false;
        static char page[4096];
        memset(page, 'x', sizeof page);
        iovec iov{page, sizeof page};
        bool ok = vmsplice(p[1], &iov, 1, 0) == 4096;             // user pages into pipe p
        ok = ok && tee(p[0], q[1], 4096, 0) == 4096;                // duplicate into pipe q
        ok = ok && splice(p[0], nullptr, s[0], nullptr, 4096, 0) == 4096;  // pipe p -> socket
        char buf[4096];
        ok = ok && read(s[1], buf, sizeof buf) == 4096 && read(q[0], buf, sizeof buf) == 4096;
        return ok;
    });
    EXPECT_EQ(call(r, MECH_PIPE, "vmsplice").count, 1u);
    EXPECT_EQ(call(r, MECH_PIPE, "vmsplice").bytes_zero_copy, 4096u);
    EXPECT_EQ(call(r, MECH_PIPE, "tee").bytes_zero_copy, 4096u);
    EXPECT_EQ(call(r, MECH_PIPE, "splice").bytes_zero_copy, 4096u);  // counted on its first fd, the pipe
    EXPECT_EQ(call(r, MECH_PIPE, "splice").bytes_in + call(r, MECH_PIPE, "splice").bytes_out, 0u);
    EXPECT_EQ(call(r, MECH_UNIX_STREAM, "read").bytes_out, 4096u);
    EXPECT_EQ(call(r, MECH_PIPE, "read").bytes_out, 4096u);
    EXPECT_EQ(r.mechanisms.at(MECH_PIPE).calls.bytes_zero_copy, 3u * 4096);
}

TEST(DirectProbes, SendfileFromAFileToASocket) {
    IPCTRACE_REQUIRE_ROOT();
    char path[] = "/tmp/ipctrace-sendfile-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, 8192), 0);
    const Report r = trace_child([fd] {
        int s[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, s)) return false;
        off_t off = 0;
        return sendfile(s[0], fd, &off, 8192) == 8192;
    });
    close(fd);
    unlink(path);
    // sendfile(out_fd, in_fd, …) is counted on its first fd: the socket it feeds.
    EXPECT_EQ(call(r, MECH_UNIX_STREAM, "sendfile").count, 1u);
    EXPECT_EQ(call(r, MECH_UNIX_STREAM, "sendfile").bytes_zero_copy, 8192u);
}

TEST(DirectProbes, ThreeMechanismsAtOnceGetThreeCorrectRows) {
    IPCTRACE_REQUIRE_ROOT();
    const Report r = trace_child([] {
        int p[2], s[2];
        const int q = msgget(IPC_PRIVATE, 0600);
        if (pipe(p) || socketpair(AF_UNIX, SOCK_DGRAM, 0, s) || q < 0) return false;
        struct {
            long type;
            char text[100];
        } msg{1, {}};
        char buf[300] = {};
        bool ok = true;
        for (int i = 0; i < 7; ++i) ok = ok && write(p[1], buf, 300) == 300 && read(p[0], buf, 300) == 300;
        for (int i = 0; i < 5; ++i) ok = ok && send(s[0], buf, 200, 0) == 200 && recv(s[1], buf, 300, 0) == 200;
        for (int i = 0; i < 3; ++i) ok = ok && msgsnd(q, &msg, 100, 0) == 0 && msgrcv(q, &msg, 100, 0, 0) == 100;
        msgctl(q, IPC_RMID, nullptr);
        return ok;
    });
    EXPECT_EQ(call(r, MECH_PIPE, "write").count, 7u);
    EXPECT_EQ(call(r, MECH_PIPE, "read").count, 7u);
    EXPECT_EQ(r.mechanisms.at(MECH_PIPE).calls.bytes_in, 2100u);
    EXPECT_EQ(r.mechanisms.at(MECH_PIPE).calls.bytes_out, 2100u);
    EXPECT_EQ(call(r, MECH_UNIX_DGRAM, "sendto").count, 5u);
    EXPECT_EQ(call(r, MECH_UNIX_DGRAM, "recvfrom").count, 5u);
    EXPECT_EQ(r.mechanisms.at(MECH_UNIX_DGRAM).calls.bytes_in, 1000u);
    EXPECT_EQ(r.mechanisms.at(MECH_UNIX_DGRAM).calls.bytes_out, 1000u);
    EXPECT_EQ(call(r, MECH_SYSV_MSG, "msgsnd").count, 3u);
    EXPECT_EQ(call(r, MECH_SYSV_MSG, "msgrcv").count, 3u);
    EXPECT_EQ(r.mechanisms.at(MECH_SYSV_MSG).calls.bytes_in, 300u);
    EXPECT_EQ(r.mechanisms.at(MECH_SYSV_MSG).calls.bytes_out, 300u);
    // A pipe is never a FIFO, a unix socket never tcp: nothing else was classified.
    std::set<Mechanism> seen;
    for (const auto& [m, f] : r.mechanisms)
        if (f.calls.count) seen.insert(m);
    EXPECT_EQ(seen, (std::set<Mechanism>{MECH_PIPE, MECH_UNIX_DGRAM, MECH_SYSV_MSG}));
}

TEST(DirectProbes, PrivateMappingsAreNotIpcSharedOnesAre) {
    IPCTRACE_REQUIRE_ROOT();
    const Report r = trace_child([] {
        void* priv = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        auto* shared = static_cast<char*>(mmap(nullptr, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
        if (priv == MAP_FAILED || shared == MAP_FAILED) return false;
        static_cast<char*>(priv)[0] = 1;
        for (int i = 0; i < 3; ++i) shared[i * 4096] = 1;
        return munmap(shared, 3 * 4096) == 0 && munmap(priv, 8192) == 0;
    });
    EXPECT_EQ(call(r, MECH_MMAP_ANON, "mmap").count, 1u);
    EXPECT_EQ(call(r, MECH_MMAP_ANON, "munmap").count, 1u);
    EXPECT_EQ(r.mechanisms.at(MECH_MMAP_ANON).events.page_faults, 3u);  // one per page touched
}

// The fault probe remembers the last mapping a thread faulted in. A mapping replaced at the
// same address (private -> shared -> private) must be classified afresh every time.
TEST(DirectProbes, AMappingReplacedAtTheSameAddressIsClassifiedAfresh) {
    IPCTRACE_REQUIRE_ROOT();
    constexpr size_t kPage = 4096, kPages = 4;
    const Report r = trace_child([] {
        auto* priv = static_cast<char*>(mmap(nullptr, kPages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (priv == MAP_FAILED) return false;
        priv[0] = 1;  // caches a private mapping over the whole range
        auto* shared = static_cast<char*>(mmap(priv, kPages * kPage, PROT_READ | PROT_WRITE,
                                               MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
        if (shared != priv) return false;
        for (size_t i = 0; i < kPages; ++i) shared[i * kPage] = 1;
        auto* again = static_cast<char*>(mmap(priv, kPages * kPage, PROT_READ | PROT_WRITE,
                                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
        if (again != priv) return false;
        for (size_t i = 0; i < 2; ++i) again[i * kPage] = 1;
        return munmap(again, kPages * kPage) == 0;
    });
    ASSERT_TRUE(r.mechanisms.count(MECH_MMAP_ANON));
    EXPECT_EQ(r.mechanisms.at(MECH_MMAP_ANON).events.page_faults, kPages);  // the shared pages, each once
    ASSERT_TRUE(r.mechanisms.count(MECH_NONE));
    EXPECT_GE(r.mechanisms.at(MECH_NONE).events.page_faults, 3u);  // the private pages
}

}  // namespace
}  // namespace ipctrace::testing
