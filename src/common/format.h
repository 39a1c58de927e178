// Numbers as people read them, and printf into a std::string.
#pragma once

#include <string>
#include <string_view>

namespace ipctrace {

std::string fmt(const char* format, ...) __attribute__((format(printf, 1, 2)));
// 4096 -> "4.0 KiB"; whole bytes below 1 KiB.
std::string format_bytes(double bytes);
// "1.23 s", "412.0 us", "87 ns"
std::string format_ns(double ns);
// What the user typed, for an error line: 'text', with control characters escaped (\n,
// \x01) so the message stays one line, and cut after 64 characters.
std::string quote(std::string_view text);
// `text` with every control character escaped: what report_error prints is one line.
std::string one_line(std::string_view text);

}  // namespace ipctrace
