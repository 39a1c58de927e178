// Real output of every command validated against docs/schema/ipctrace-report.schema.json
// by Debian's python3-jsonschema: run (traced, ping-pong, --no-trace, --self-cost, file I/O
// as IPC and apart from it) and compare.
#include <gtest/gtest.h>

#include <unistd.h>

#include <string>
#include <vector>

#include "schema_check.h"
#include "subprocess.h"

namespace ipctrace::testing {
namespace {

// A temporary file for one command's output, removed at the end of the test.
class TempFile {
public:
    TempFile() {
        char path[] = "/tmp/ipctrace-schema-test-XXXXXX";
        const int fd = mkstemp(path);
        if (fd >= 0) close(fd);
        path_ = path;
    }
    ~TempFile() { unlink(path_.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Runs ipctrace with `args` plus --json -o FILE and validates FILE.
void expect_valid_output(std::vector<std::string> args) {
    TempFile out;
    std::vector<std::string> argv{ipctrace_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--json", "-o", out.path()});
    std::string cmdline;
    for (const auto& a : argv) cmdline += " " + a;
    const CommandResult r = run(argv);
    ASSERT_EQ(r.exit_code, 0) << cmdline << "\n" << r.err;
    const SchemaVerdict v = validate_file(out.path());
    EXPECT_TRUE(v.valid) << cmdline << "\n" << v.message;
}

TEST(Schema, RunReports) {
    IPCTRACE_REQUIRE_ROOT();
    expect_valid_output({"run", "msgq", "--count", "500"});
    expect_valid_output({"run", "shm", "--count", "500", "--mode", "pingpong"});  // workload.rtt
    expect_valid_output({"run", "pipe", "--count", "500", "--no-trace"});         // traced false
    expect_valid_output({"run", "unix", "--count", "200", "--self-cost"});        // self_cost
    expect_valid_output({"run", "file", "--count", "50"});                        // mechanisms.file
    expect_valid_output({"run", "mmap", "--count", "200"});                       // file_io
    expect_valid_output({"run", "signal", "--count", "100"});                     // signals
    expect_valid_output({"run", "udp", "--count", "200"});
}

TEST(Schema, CompareReportWithItsRuns) {
    IPCTRACE_REQUIRE_ROOT();
    expect_valid_output({"compare", "pipe", "msgq", "--count", "200", "--repeat", "1"});
    expect_valid_output({"compare", "tcp", "--sizes", "64,4K", "--count", "100", "--repeat", "2", "--mode", "pingpong"});
}

}  // namespace
}  // namespace ipctrace::testing
