// Temporary files for the trace tests' reports, and parsing them.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

namespace ipctrace::testing {

// A temporary file name, removed at the end of the test.
class TempPath {
public:
    explicit TempPath(const std::string& tag) {
        std::string pattern = "/tmp/ipctrace-" + tag + "-XXXXXX";
        const int fd = mkstemp(pattern.data());
        if (fd >= 0) close(fd);
        path_ = pattern;
    }
    ~TempPath() { unlink(path_.c_str()); }
    TempPath(const TempPath&) = delete;
    TempPath& operator=(const TempPath&) = delete;
    const std::string& str() const { return path_; }
    std::string read() const {
        std::ifstream in(path_);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }

private:
    std::string path_;
};

// The JSON in `text`, or a failed expectation and a discarded value.
inline nlohmann::json parse(const std::string& text) {
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << "not JSON: " << text.substr(0, 400);
    return doc;
}

}  // namespace ipctrace::testing
