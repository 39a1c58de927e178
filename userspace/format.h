// Numbers as people read them, and printf into a std::string.
#pragma once

#include <string>

namespace ipctrace {

std::string fmt(const char* format, ...) __attribute__((format(printf, 1, 2)));
// 4096 -> "4.0 KiB"; whole bytes below 1 KiB.
std::string format_bytes(double bytes);
// "1.23 s", "412.0 us", "87 ns"
std::string format_ns(double ns);

}  // namespace ipctrace
