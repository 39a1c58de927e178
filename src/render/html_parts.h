// The pieces every HTML page is made of: escaping, the page itself (inline CSS, the report's
// JSON embedded as a data block, no script, nothing fetched), the header that says what was
// measured where, the per-mechanism table and the latency histograms.
//
// Every number a page shows is read from the JSON document the page embeds and is marked with
// data-json="<JSON pointer>", so a reader (and tests/support/browser_check.py) can hold each
// shown number to the document.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace ipctrace::html {

using json = nlohmann::ordered_json;

std::string escape(const std::string& text);

// How a number is shown: a count as it is, bytes and durations with units, a rate, a share.
enum class Shown { Count, Bytes, Nanoseconds, Rate, Decimal, Percent };

// <span data-json="pointer">formatted value</span>; "–" when the document has no such number.
std::string number(const json& doc, const std::string& pointer, Shown how);

// "Traced" / "Measured" lines of the header, label -> value (already escaped HTML).
using Facts = std::vector<std::pair<std::string, std::string>>;

// The whole page: title, header facts (the machine, kernel and ipctrace are added from
// `doc`'s tool and this machine), the body sections, and `doc` embedded.
std::string page(const std::string& title, const Facts& facts, const std::string& body, const json& doc);

// The mechanisms of doc["mechanisms"] (a run's or a trace's), busiest first.
std::string mechanism_table(const json& doc);

// What a trace saw of the applications' I/O, as tables: waits by the mechanism waited for,
// io_uring operations, descriptors passed; "" when there was none of it.
std::string app_io_tables(const json& doc);

// One bar chart per mechanism of its calls' latencies (the syscalls' histograms summed).
std::string latency_histograms(const json& doc);

}  // namespace ipctrace::html
