// Output (-o FILE): created with the user's umask, never through a symlink, never into a
// kernel file, no hang on a FIFO nobody reads, an existing file intact until the report is
// written, and no empty file left when the report never came.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "render/output.h"
#include "subprocess.h"

namespace ipctrace {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

bool exists(const std::string& path) {
    struct stat st {};
    return lstat(path.c_str(), &st) == 0;
}

// The error Output throws for `path`, "" when it opens.
std::string open_error(const std::string& path) {
    try {
        Output out(path);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}

// A private directory for each test, removed with everything in it.
class OutputFile : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/ipctrace-test-output-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        if (!dir_.empty()) testing::run({"rm", "-rf", dir_});
    }
    std::string path(const std::string& name) const { return dir_ + "/" + name; }
    std::string dir_;
};

TEST_F(OutputFile, CreatedWithTheUsersUmask) {
    for (const mode_t mask : {mode_t{077}, mode_t{022}, mode_t{027}}) {
        const std::string p = path("report-" + std::to_string(mask));
        const mode_t old = umask(mask);
        {
            Output out(p);
            out.write("report\n");
        }
        umask(old);
        struct stat st {};
        ASSERT_EQ(stat(p.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0666 & ~mask) << "umask " << std::oct << mask;
        EXPECT_EQ(read_file(p), "report\n");
    }
}

TEST_F(OutputFile, ASymlinkIsRefusedNotFollowed) {
    const std::string target = path("precious"), link = path("report.json");
    write_file(target, "precious\n");
    ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
    const std::string err = open_error(link);
    EXPECT_NE(err.find("cannot write " + link), std::string::npos) << err;
    EXPECT_NE(err.find("symbolic link"), std::string::npos) << err;
    EXPECT_EQ(read_file(target), "precious\n");

    // A dangling link must not create its target either.
    const std::string absent = path("created-elsewhere"), dangling = path("dangling.json");
    ASSERT_EQ(symlink(absent.c_str(), dangling.c_str()), 0);
    EXPECT_NE(open_error(dangling).find("symbolic link"), std::string::npos);
    EXPECT_FALSE(exists(absent));
}

TEST_F(OutputFile, AnExistingFileKeepsItsContentsUntilTheReportIsWritten) {
    const std::string p = path("report.txt");
    write_file(p, "the previous report, longer than the next one\n");
    { Output out(p); }  // the run failed before its report
    EXPECT_EQ(read_file(p), "the previous report, longer than the next one\n");
    {
        Output out(p);
        out.write("new\n");
        out.write("more\n");
    }
    EXPECT_EQ(read_file(p), "new\nmore\n");
}

TEST_F(OutputFile, ACreatedFileIsRemovedWhenNoReportCame) {
    const std::string p = path("never-written.json");
    { Output out(p); }
    EXPECT_FALSE(exists(p));
    {
        Output out(p);
        out.write("");
    }
    EXPECT_TRUE(exists(p)) << "an empty report is still a report";
}

TEST_F(OutputFile, AFifoNobodyReadsFailsInsteadOfHanging) {
    const std::string fifo = path("fifo");
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_NE(open_error(fifo).find("cannot write " + fifo), std::string::npos);

    const int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(reader, 0);
    {
        Output out(fifo);
        out.write("through the fifo\n");
    }
    char buf[64] = {};
    EXPECT_EQ(read(reader, buf, sizeof buf - 1), 17);
    EXPECT_STREQ(buf, "through the fifo\n");
    close(reader);
}

TEST_F(OutputFile, KernelFilesDirectoriesAndMissingDirectoriesAreRefused) {
    for (const std::string& p : {std::string("/proc/self/comm"), std::string("/proc/version"), dir_, path("missing/report.txt")}) {
        const std::string err = open_error(p);
        EXPECT_EQ(err.rfind("cannot write " + p + ": ", 0), 0u) << p << ": " << err;
        EXPECT_EQ(err.find('\n'), std::string::npos);
    }
    EXPECT_NE(open_error("/proc/self/comm").find("kernel file"), std::string::npos);
    EXPECT_EQ(read_file("/proc/self/comm").find("report"), std::string::npos);
}

// Issue 13: the report takes the name by rename() from a temporary beside it, which keeps the
// replaced file's mode; nothing but the report remains in the directory.
TEST_F(OutputFile, ReplacedAtomicallyKeepingTheModeLeavingNoTemporary) {
    const std::string p = path("report.json");
    write_file(p, "old\n");
    ASSERT_EQ(chmod(p.c_str(), 0640), 0);
    struct stat old {};
    ASSERT_EQ(stat(p.c_str(), &old), 0);
    {
        Output out(p);
        std::vector<std::string> names;
        for (const auto& e : std::filesystem::directory_iterator(dir_)) names.push_back(e.path().filename());
        EXPECT_EQ(names.size(), 2u) << "the report and its temporary while the run goes on";
        EXPECT_EQ(read_file(p), "old\n") << "the old report stays until the new one is complete";
        out.write("new\n");
    }
    struct stat st {};
    ASSERT_EQ(stat(p.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_NE(st.st_ino, old.st_ino) << "a new file took the name";
    EXPECT_EQ(read_file(p), "new\n");
    size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) entries += e.exists() ? 1 : 0;
    EXPECT_EQ(entries, 1u) << "a temporary was left";
}

// A run killed by SIGKILL leaves its temporary: the next run writing that file removes it
// (its pid is gone); one of a process still running is left alone.
TEST_F(OutputFile, ATemporaryOfAKilledRunIsRemovedByTheNext) {
    const std::string p = path("r.json");
    const pid_t dead = fork();
    ASSERT_GE(dead, 0);
    if (dead == 0) _exit(0);
    ASSERT_EQ(waitpid(dead, nullptr, 0), dead);
    const std::string stale = path(".r.json.ipctrace-" + std::to_string(dead) + ".tmp");
    const std::string live = path(".r.json.ipctrace-" + std::to_string(getppid()) + ".tmp");
    write_file(stale, "half a rep");
    write_file(live, "another run's");
    {
        Output out(p);
        out.write("{}\n");
    }
    EXPECT_FALSE(exists(stale));
    EXPECT_TRUE(exists(live));
    EXPECT_EQ(read_file(p), "{}\n");
}

// -i (NDJSON): records are appended to the file itself as they come, each in one write.
TEST_F(OutputFile, LinesAreAppendedToTheFileAsTheyCome) {
    const std::string p = path("intervals.ndjson");
    write_file(p, "an older, longer file's contents\n");
    Output out(p, stdout, Output::Kind::Lines);
    out.write("{\"interval\": 0}\n");
    EXPECT_EQ(read_file(p), "{\"interval\": 0}\n") << "the old contents go at the first record";
    out.write("{\"interval\": 1}\n");
    EXPECT_EQ(read_file(p), "{\"interval\": 0}\n{\"interval\": 1}\n");
}

TEST_F(OutputFile, DevNullAndStdoutAreFine) {
    Output null("/dev/null");
    null.write("discarded\n");
    EXPECT_EQ(open_error("-"), "");
    EXPECT_EQ(open_error(""), "");
}

}  // namespace
}  // namespace ipctrace
