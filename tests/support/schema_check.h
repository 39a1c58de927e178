// Validates ipctrace's JSON against docs/schema/ipctrace-report.schema.json with a real
// validator (Debian's python3-jsonschema, Draft 2020-12), not with our own reading of it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ipctrace::testing {

struct SchemaVerdict {
    bool valid = false;
    std::string message;  // the validator's words: "FILE:LINE: 'x' was unexpected at /workload", or why it could not run
};

// The whole file is one document, or with `ndjson` one document per non-empty line.
SchemaVerdict validate_file(const std::string& path, bool ndjson = false);
// Writes `doc` to a temporary file and validates it.
SchemaVerdict validate_json(const nlohmann::json& doc);

}  // namespace ipctrace::testing
