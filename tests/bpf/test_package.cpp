// Issue 17: the Debian package CPack makes from this build installs, runs and removes cleanly.
// dpkg is the witness: what `dpkg-deb -c` says the package holds is on disk after `dpkg -i`,
// the installed ipctrace traces a workload, and after `dpkg -r` none of it is left.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "subprocess.h"
#include "temp_path.h"
#include "workload_check.h"

namespace ipctrace::testing {
namespace {

namespace fs = std::filesystem;

bool package_installed() {
    const CommandResult r = run({"dpkg-query", "-W", "-f=${Status}", "ipctrace"});
    return r.exit_code == 0 && r.out.find("install ok installed") != std::string::npos;
}

// The files (not directories) a .deb holds, as absolute paths.
std::vector<std::string> files_of(const std::string& deb) {
    const CommandResult r = run({"dpkg-deb", "-c", deb});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == 'd') continue;  // "-rw-r--r-- root/root 3488 date time ./usr/…"
        const size_t at = line.find(" ./");
        if (at != std::string::npos) out.push_back(line.substr(at + 2));
    }
    return out;
}

TEST(DebianPackage, InstallsRunsAndRemovesWithNothingLeft) {
    IPCTRACE_REQUIRE_ROOT();
    ASSERT_FALSE(package_installed()) << "an ipctrace package is already installed: this test installs and removes its own";
    char dir[] = "/tmp/ipctrace-deb-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    struct Cleanup {
        std::string dir;
        ~Cleanup() {
            if (package_installed()) run({"dpkg", "-P", "ipctrace"});
            fs::remove_all(dir);
        }
    } cleanup{dir};

    const CommandResult pack = run({"cpack", "-G", "DEB", "--config", std::string(IPCTRACE_BUILD_DIR) + "/CPackConfig.cmake", "-B", dir});
    ASSERT_EQ(pack.exit_code, 0) << pack.out << pack.err;
    std::string deb;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".deb") deb = e.path();
    ASSERT_FALSE(deb.empty()) << pack.out;

    // Depends come from the libraries the binary links (dpkg-shlibdeps), libbpf first of all.
    const CommandResult depends = run({"dpkg-deb", "-f", deb, "Depends"});
    EXPECT_NE(depends.out.find("libbpf"), std::string::npos) << depends.out;
    const auto files = files_of(deb);
    for (const char* want : {"/usr/bin/ipctrace", "/usr/share/man/man1/ipctrace.1", "/usr/share/bash-completion/completions/ipctrace",
                             "/usr/share/doc/ipctrace/schema/ipctrace-report.schema.json",
                             "/usr/share/doc/ipctrace/dashboards/grafana.json"})
        EXPECT_NE(std::find(files.begin(), files.end(), want), files.end()) << want << " is not in the package";

    const CommandResult install = run({"dpkg", "-i", deb});
    ASSERT_EQ(install.exit_code, 0) << install.out << install.err;
    for (const auto& f : files) EXPECT_TRUE(fs::exists(f)) << f;
    const CommandResult man = run({"man", "-w", "ipctrace"});
    EXPECT_EQ(man.out, "/usr/share/man/man1/ipctrace.1\n") << man.err;

    const auto before = leftovers();
    const CommandResult shm = run({"/usr/bin/ipctrace", "run", "shm", "--count", "1000", "--json"});
    ASSERT_EQ(shm.exit_code, 0) << shm.err;
    const auto doc = nlohmann::json::parse(shm.out);
    EXPECT_EQ(doc["workload"]["messages"], 1000);
    EXPECT_TRUE(doc["mechanisms"].contains("sysv_shm")) << doc["mechanisms"].dump();
    EXPECT_EQ(leftovers(), before) << "the packaged ipctrace left IPC objects";

    const CommandResult remove = run({"dpkg", "-r", "ipctrace"});
    ASSERT_EQ(remove.exit_code, 0) << remove.out << remove.err;
    EXPECT_FALSE(package_installed());
    for (const auto& f : files) EXPECT_FALSE(fs::exists(f)) << f << " is left after dpkg -r";
    for (const char* d : {"/usr/share/doc/ipctrace"}) EXPECT_FALSE(fs::exists(d)) << d;
}

}  // namespace
}  // namespace ipctrace::testing
