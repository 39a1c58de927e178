#include <gtest/gtest.h>

#include "common/number_parse.h"

namespace ipctrace {
namespace {

uint64_t ok(const Expected<uint64_t>& p) {
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error());
    return p.ok() ? *p : 0;
}

std::string error(const Expected<uint64_t>& p) {
    EXPECT_FALSE(p.ok());
    return p.ok() ? "" : p.error();
}

TEST(ParseSize, BinarySuffixes) {
    EXPECT_EQ(ok(parse_size("4096")), 4096u);
    EXPECT_EQ(ok(parse_size("4K")), 4096u);
    EXPECT_EQ(ok(parse_size("4k")), 4096u);
    EXPECT_EQ(ok(parse_size("64KiB")), 65536u);
    EXPECT_EQ(ok(parse_size("1M")), 1048576u);
    EXPECT_EQ(ok(parse_size("1mb")), 1048576u);
    EXPECT_EQ(ok(parse_size("2G")), 2147483648u);
    EXPECT_EQ(ok(parse_size("0")), 0u);  // rejected later, with its own message
}

TEST(ParseSize, RejectsWithOneLine) {
    for (const char* bad : {"", "abc", "-1", "4X", "12KQ", "99999999999999999999", "16777216T"}) {
        const std::string e = error(parse_size(bad));
        EXPECT_NE(e.find("--size"), std::string::npos) << bad << ": " << e;
        EXPECT_EQ(e.find('\n'), std::string::npos);
    }
}

TEST(ParseCount, DecimalSuffixes) {
    EXPECT_EQ(ok(parse_count("100000")), 100000u);
    EXPECT_EQ(ok(parse_count("100k")), 100000u);
    EXPECT_EQ(ok(parse_count("1M")), 1000000u);
    EXPECT_NE(error(parse_count("1KiB")).find("--count"), std::string::npos);
    EXPECT_NE(error(parse_count("-5")).find("positive"), std::string::npos);
}

TEST(FormatBytes, HumanUnits) {
    EXPECT_EQ(format_bytes(0), "0 B");
    EXPECT_EQ(format_bytes(1023), "1023 B");
    EXPECT_EQ(format_bytes(4096), "4.0 KiB");
    EXPECT_EQ(format_bytes(1.5 * 1048576), "1.5 MiB");
}

// What the user typed goes back into a one-line error: escaped, and cut when long.
TEST(Quote, ControlCharactersAreEscaped) {
    EXPECT_EQ(one_line("a\nb\rc\td\x01" "e\x7f"), "a\\nb\\rc\\td\\x01e\\x7f");
    EXPECT_EQ(quote("4\nK"), "'4\\nK'");
    EXPECT_EQ(quote(std::string(100, 'x')), "'" + std::string(64, 'x') + "…'");
    const std::string e = error(parse_size("4\nK"));
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    EXPECT_NE(e.find("'4\\nK'"), std::string::npos) << e;
}

}  // namespace
}  // namespace ipctrace
