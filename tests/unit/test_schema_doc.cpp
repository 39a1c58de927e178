// docs/schema/ipctrace-report.schema.json against documents built here, no root needed:
// the schema itself is valid Draft 2020-12, report_to_json's output passes, and a field the
// schema does not know fails (the BPF tests validate real output of every command).
#include <gtest/gtest.h>

#include "common/mechanisms.h"
#include "model/report.h"
#include "render/report_json.h"
#include "schema_check.h"

namespace ipctrace {
namespace {

using testing::validate_json;

nlohmann::json sample_run_report() {
    Snapshot s;
    CallStats snd;
    snd.count = 10;
    snd.bytes_in = 10240;
    snd.hist[latency_bucket(1ull << 11)] = 10;
    s.calls[{100, MECH_SYSV_MSG, *syscall_number("msgsnd")}] = snd;
    CallStats write;
    write.count = 1;
    write.bytes_in = 5;
    s.calls[{100, MECH_FILE, *syscall_number("write")}] = write;  // file_io
    s.proc_mech[{100, MECH_SYSV_MSG}] = ProcMechStats{0, 1, 4, 1, 0, 0};
    s.proc_mech[{100, MECH_NONE}] = ProcMechStats{7, 0, 1, 0, 0, 0};
    s.procs[100] = ProcInfo{1, true, "ipctrace"};
    Report r = build_report(s);
    workloads::Result w;
    w.workload = "msgq";
    w.params.size = 1024;
    w.messages = 10;
    w.bytes = 10240;
    w.elapsed_ns = 1000;
    w.rtt_p50_ns = 100;  // rtt present, as in ping-pong
    w.rtt_p99_ns = 200;
    w.ok = w.verified = true;
    w.ops.assign(512, 0);
    w.ops[*syscall_number("msgsnd")] = 10;
    w.pids = {100, 101};
    r.workload = w;
    r.notes = {"a note"};
    r.self_cost = {ProgramCost{"sys_exit", 12, 3400}};
    return report_to_json(r);
}

TEST(Schema, AReportOfEveryPartIsValid) {
    const auto doc = sample_run_report();
    ASSERT_TRUE(doc.contains("file_io"));
    ASSERT_TRUE(doc["workload"].contains("rtt"));
    const auto v = validate_json(doc);
    EXPECT_TRUE(v.valid) << v.message;
}

TEST(Schema, AnUnknownFieldFailsWhereverItIs) {
    struct Case {
        const char* where;
        nlohmann::json::json_pointer at;
    };
    for (const Case& c : {Case{"top level", nlohmann::json::json_pointer("")},
                          Case{"workload", nlohmann::json::json_pointer("/workload")},
                          Case{"a syscall", nlohmann::json::json_pointer("/mechanisms/sysv_msg/syscalls/msgsnd")},
                          Case{"a process", nlohmann::json::json_pointer("/processes/0")},
                          Case{"drops", nlohmann::json::json_pointer("/drops")}}) {
        auto doc = sample_run_report();
        doc[c.at]["surprise"] = 1;
        const auto v = validate_json(doc);
        EXPECT_FALSE(v.valid) << c.where;
        EXPECT_NE(v.message.find("'surprise' was unexpected"), std::string::npos) << c.where << ": " << v.message;
    }
}

TEST(Schema, WrongValuesFail) {
    auto doc = sample_run_report();
    doc["schema_version"] = 2;
    EXPECT_FALSE(validate_json(doc).valid) << "a version bump must fail the version-1 schema";

    doc = sample_run_report();
    doc["mechanisms"]["carrier_pigeon"] = doc["mechanisms"]["sysv_msg"];
    EXPECT_FALSE(validate_json(doc).valid) << "an unknown mechanism key";

    doc = sample_run_report();
    doc["mechanisms"]["sysv_msg"]["syscalls"]["msgsnd"]["count"] = -1;
    EXPECT_FALSE(validate_json(doc).valid) << "a negative count";

    doc = sample_run_report();
    doc.erase("drops");
    EXPECT_FALSE(validate_json(doc).valid) << "a missing field";

    doc = sample_run_report();
    doc["traced"] = false;  // --no-trace has nothing under mechanisms
    EXPECT_FALSE(validate_json(doc).valid) << "mechanisms in an untraced run";

    doc = sample_run_report();
    doc["mode"] = "dream";
    EXPECT_FALSE(validate_json(doc).valid) << "an unknown mode";
}

}  // namespace
}  // namespace ipctrace
