#include "common/snapshot.h"

namespace ipctrace {

Log2Slots log2_slots(const LatencyBuckets& hist) {
    Log2Slots slots{};
    for (unsigned b = 0; b < hist.size(); ++b) slots[ipc_hist_slot(b)] += hist[b];
    return slots;
}

CallStats& CallStats::operator+=(const CallStats& o) {
    count += o.count;
    errors += o.errors;
    total_ns += o.total_ns;
    bytes_in += o.bytes_in;
    bytes_out += o.bytes_out;
    bytes_zero_copy += o.bytes_zero_copy;
    bytes_direct += o.bytes_direct;
    for (size_t i = 0; i < hist.size(); ++i) hist[i] += o.hist[i];
    return *this;
}

ObjectStats& ObjectStats::operator+=(const ObjectStats& o) {
    calls += o.calls;
    bytes_in += o.bytes_in;
    bytes_out += o.bytes_out;
    page_faults += o.page_faults;
    sync_calls += o.sync_calls;
    fds_sent += o.fds_sent;
    fds_received += o.fds_received;
    return *this;
}

WaitStats& WaitStats::operator+=(const WaitStats& o) {
    wait_ns += o.wait_ns;
    ready_fds += o.ready_fds;
    idle_ns += o.idle_ns;
    timeouts += o.timeouts;
    return *this;
}

FdPassStats& FdPassStats::operator+=(const FdPassStats& o) {
    sent += o.sent;
    received += o.received;
    for (size_t i = 0; i < sent_kinds.size(); ++i) {
        sent_kinds[i] += o.sent_kinds[i];
        received_kinds[i] += o.received_kinds[i];
    }
    return *this;
}

UringOpStats& UringOpStats::operator+=(const UringOpStats& o) {
    submitted += o.submitted;
    completed += o.completed;
    errors += o.errors;
    bytes_in += o.bytes_in;
    bytes_out += o.bytes_out;
    bytes_zero_copy += o.bytes_zero_copy;
    return *this;
}

ProcMechStats& ProcMechStats::operator+=(const ProcMechStats& o) {
    page_faults += o.page_faults;
    copy_faults += o.copy_faults;
    voluntary_switches += o.voluntary_switches;
    involuntary_switches += o.involuntary_switches;
    signals_sent += o.signals_sent;
    all_syscalls += o.all_syscalls;
    mmap_private_file += o.mmap_private_file;
    mmap_private_anon += o.mmap_private_anon;
    mmap_shared += o.mmap_shared;
    munmaps += o.munmaps;
    mprotects += o.mprotects;
    mremaps += o.mremaps;
    file_faults += o.file_faults;
    signals_delivered += o.signals_delivered;
    waits += o.waits;
    fds_passed += o.fds_passed;
    return *this;
}

TimeBudget& TimeBudget::operator+=(const TimeBudget& o) {
    outside_ns += o.outside_ns;
    copy_call_ns += o.copy_call_ns;
    sync_call_ns += o.sync_call_ns;
    off_call_ns += o.off_call_ns;
    off_other_ns += o.off_other_ns;
    probe_ns += o.probe_ns;
    return *this;
}

TimeBudget& TimeBudget::operator-=(const TimeBudget& o) {
    auto minus = [](uint64_t& a, uint64_t b) { a = a > b ? a - b : 0; };
    minus(outside_ns, o.outside_ns);
    minus(copy_call_ns, o.copy_call_ns);
    minus(sync_call_ns, o.sync_call_ns);
    minus(off_call_ns, o.off_call_ns);
    minus(off_other_ns, o.off_other_ns);
    minus(probe_ns, o.probe_ns);
    return *this;
}

}  // namespace ipctrace
