// The kernel/user contracts, kept by code: the rows of bpf/mechanisms.def and bpf/drops.def are
// the enums the BPF program counts by, the names the collector writes and the keys the report
// schema allows; an object's number (bpf/object_id.h) decodes to what was encoded. No root.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <linux/io_uring.h>

#include <nlohmann/json.hpp>

#include "common/mechanisms.h"
#include "model/report.h"

namespace ipctrace {
namespace {

struct MechanismRow {
    unsigned id;
    std::string key;
    bool ipc;
};
const std::vector<MechanismRow> kMechanismRows = {
#define IPC_MECHANISM(id, key, is_ipc) {id, key, is_ipc != 0},
#include "mechanisms.def"
#undef IPC_MECHANISM
};

struct DropRow {
    unsigned id;
    std::string key;
    std::string description;
};
const std::vector<DropRow> kDropRows = {
#define IPC_DROP(id, key, description) {id, key, description},
#include "drops.def"
#undef IPC_DROP
};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

nlohmann::json schema_defs() {
    const std::string text = slurp(IPCTRACE_SCHEMA);
    EXPECT_FALSE(text.empty()) << "cannot read " << IPCTRACE_SCHEMA;
    return nlohmann::json::parse(text).at("$defs");
}

std::vector<std::string> strings(const nlohmann::json& array) {
    std::vector<std::string> out;
    for (const auto& s : array) out.push_back(s.get<std::string>());
    return out;
}

TEST(Contract, TheTablesNumberTheEnumsByRow) {
    // The collector indexes its names by the enum: rows and enum values must not drift apart.
    ASSERT_EQ(kMechanismRows.size(), static_cast<size_t>(MECH_COUNT));
    for (size_t i = 0; i < kMechanismRows.size(); ++i) EXPECT_EQ(kMechanismRows[i].id, i) << kMechanismRows[i].key;
    EXPECT_EQ(kMechanismRows[MECH_NONE].key, "other");
    ASSERT_EQ(kDropRows.size(), static_cast<size_t>(DROP_COUNT));
    for (size_t i = 0; i < kDropRows.size(); ++i) EXPECT_EQ(kDropRows[i].id, i) << kDropRows[i].key;
}

TEST(Contract, TheSchemaMechanismKeysAreTheTable) {
    // Every mechanism but MECH_NONE is a key of "mechanisms" and "by_mechanism"; what is not
    // IPC is reported under "other" fields of its own, never as a mechanism key.
    std::vector<std::string> expected;
    for (const auto& row : kMechanismRows)
        if (row.id != MECH_NONE) expected.push_back(row.key);
    EXPECT_EQ(strings(schema_defs().at("mechanism_key").at("enum")), expected);
}

TEST(Contract, TheSchemaDropKeysAreTheTable) {
    const auto drops = schema_defs().at("drops");
    std::vector<std::string> expected;
    for (const auto& row : kDropRows) expected.push_back(row.key);
    EXPECT_EQ(strings(drops.at("required")), expected);
    std::set<std::string> properties;
    for (const auto& [key, value] : drops.at("properties").items()) properties.insert(key);
    EXPECT_EQ(properties, std::set<std::string>(expected.begin(), expected.end()));
    EXPECT_EQ(drops.at("additionalProperties"), false);
}

TEST(Contract, EveryMechanismRoundTripsKeyAndEnum) {
    std::set<std::string> keys;
    for (const auto& row : kMechanismRows) {
        const auto m = static_cast<Mechanism>(row.id);
        EXPECT_TRUE(keys.insert(row.key).second) << "key used twice: " << row.key;
        EXPECT_EQ(mechanism_key(m), row.key);
        const auto back = mechanism_from_key(row.key);
        ASSERT_TRUE(back.has_value()) << row.key;
        EXPECT_EQ(*back, m) << row.key;
        EXPECT_EQ(is_ipc(m), row.ipc) << row.key;
    }
    // What the reports leave out of the IPC figures: outside any IPC, regular-file I/O, and the
    // waits (their time is attributed to the mechanisms that became ready, wait_ns).
    for (const auto& row : kMechanismRows)
        EXPECT_EQ(row.ipc, row.id != MECH_NONE && row.id != MECH_FILE && row.id != MECH_WAIT) << row.key;
    EXPECT_EQ(mechanism_key(MECH_COUNT), "other");
    EXPECT_FALSE(is_ipc(MECH_COUNT));
    EXPECT_FALSE(mechanism_from_key("").has_value());
    EXPECT_FALSE(mechanism_from_key("shm").has_value());
}

TEST(Contract, EveryDropReasonHasItsKeyAndIsDocumented) {
    const std::string json_doc = slurp(std::string(IPCTRACE_DOCS) + "/json.md");
    ASSERT_FALSE(json_doc.empty());
    for (const auto& row : kDropRows) {
        EXPECT_EQ(drop_key(row.id), row.key);
        EXPECT_FALSE(row.description.empty()) << row.key;
        EXPECT_NE(json_doc.find("`" + row.key + "`"), std::string::npos) << "docs/json.md does not explain " << row.key;
    }
    EXPECT_EQ(drop_key(DROP_COUNT), "unknown");
}

TEST(Contract, TheDocumentedTableSizesAreTheBuiltInOnes) {
    const std::string trace_doc = slurp(std::string(IPCTRACE_DOCS) + "/trace.md");
    const auto row = trace_doc.find("| `--max-procs N` |");
    ASSERT_NE(row, std::string::npos);
    const std::string line = trace_doc.substr(row, trace_doc.find('\n', row) - row);
    for (const unsigned size : {IPC_DEFAULT_TARGETS, IPC_DEFAULT_PROCS, IPC_DEFAULT_STATS})
        EXPECT_NE(line.find(std::to_string(size)), std::string::npos) << size << " is not in: " << line;
}

TEST(Contract, AUnixPairIsOneNumberFromEitherEnd) {
    const uint64_t a = ipc_unix_id(5000, 4000), b = ipc_unix_id(4000, 5000);
    EXPECT_EQ(a, b);
    EXPECT_TRUE(ipc_unix_id_is_pair(a));
    EXPECT_EQ(ipc_unix_id_first(a), 4000u);
    EXPECT_EQ(ipc_unix_id_second(a), 5000u);
    // sockfs inode numbers are 32-bit: anything above is not part of the number
    EXPECT_EQ(ipc_unix_id(0x100000007ull, 5), ipc_unix_id(7, 5));
    // a socket whose peer closed is its own inode, found again through the pair holding it
    const uint64_t lone = ipc_unix_id(5000, 0);
    EXPECT_FALSE(ipc_unix_id_is_pair(lone));
    EXPECT_EQ(lone, 5000u);
    EXPECT_TRUE(ipc_unix_id_first(a) == lone || ipc_unix_id_second(a) == lone);
}

TEST(Contract, AnInetConnectionIsOneNumberFromEitherEnd) {
    const uint64_t client_addr = 0x0100007f, server_addr = 0x0200007f;
    const uint64_t client = ipc_inet_id(11, 41000, 5000, client_addr ^ server_addr);
    const uint64_t server = ipc_inet_id(12, 5000, 41000, server_addr ^ client_addr);
    EXPECT_EQ(client, server);
    EXPECT_TRUE(ipc_inet_id_is_connection(client));
    EXPECT_EQ(ipc_inet_id_low_port(client), 5000u);
    EXPECT_EQ(ipc_inet_id_high_port(client), 41000u);
    EXPECT_NE(client, ipc_inet_id(11, 41001, 5000, client_addr ^ server_addr)) << "another connection";
    // a listening or unconnected socket: its inode
    EXPECT_EQ(ipc_inet_id(1234, 5000, 0, 0), 1234u);
    EXPECT_FALSE(ipc_inet_id_is_connection(ipc_inet_id(1234, 5000, 0, 0)));
}

TEST(Contract, AnEventfdIsItsFile) {
    alignas(64) static char file[128];
    const uint64_t id = ipc_eventfd_id(file);
    EXPECT_EQ(id, reinterpret_cast<uintptr_t>(file));
    EXPECT_NE(ipc_eventfd_id_tag(id), ipc_eventfd_id_tag(ipc_eventfd_id(file + 64))) << "the next allocation";
}

// bpf/io_uring_ops.def numbers the opcodes as the kernel's uapi does (the system header may be
// older than the kernel: every opcode it knows is checked), and names each as IORING_OP_* in
// lower case.
TEST(Contract, TheIoUringOpcodesAreTheKernels) {
    struct Row {
        std::string key;
        unsigned opcode;
    };
    const std::vector<Row> rows = {
#define IO_URING_OP(key, opcode, bytes, on_file) {key, opcode},
#include "io_uring_ops.def"
#undef IO_URING_OP
    };
    for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].opcode, i) << rows[i].key << ": one row per opcode, in order";
    EXPECT_LE(rows.size(), static_cast<size_t>(IPC_URING_OPS));
    EXPECT_GE(rows.size(), static_cast<size_t>(IORING_OP_LAST)) << "every opcode the system header knows";
    const std::map<std::string, unsigned> uapi = {
        {"nop", IORING_OP_NOP},         {"readv", IORING_OP_READV},     {"writev", IORING_OP_WRITEV},
        {"sendmsg", IORING_OP_SENDMSG}, {"recvmsg", IORING_OP_RECVMSG}, {"accept", IORING_OP_ACCEPT},
        {"connect", IORING_OP_CONNECT}, {"read", IORING_OP_READ},       {"write", IORING_OP_WRITE},
        {"send", IORING_OP_SEND},       {"recv", IORING_OP_RECV},       {"splice", IORING_OP_SPLICE},
        {"tee", IORING_OP_TEE},         {"msg_ring", IORING_OP_MSG_RING}, {"send_zc", IORING_OP_SEND_ZC},
        {"sendmsg_zc", IORING_OP_SENDMSG_ZC}};
    for (const auto& [key, opcode] : uapi) EXPECT_EQ(uring_op_name(opcode), key);
    EXPECT_EQ(uring_op_name(200), "op_200");
}

}  // namespace
}  // namespace ipctrace
