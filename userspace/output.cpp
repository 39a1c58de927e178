#include "output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace ipctrace {

void Output::Closer::operator()(FILE* f) const {
    if (f != stdout) std::fclose(f);
}

Output::Output(const std::string& path) : path_(path) {
    if (path.empty() || path == "-") {
        file_.reset(stdout);
        return;
    }
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    file_.reset(fdopen(fd, "w"));
    if (!file_) {
        const int err = errno;
        close(fd);
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(err));
    }
}

void Output::write(const std::string& text) {
    if (std::fwrite(text.data(), 1, text.size(), file_.get()) != text.size() || std::fflush(file_.get()) != 0)
        throw std::runtime_error("cannot write " + (path_.empty() ? std::string("stdout") : path_) + ": " + std::strerror(errno));
}

}  // namespace ipctrace
