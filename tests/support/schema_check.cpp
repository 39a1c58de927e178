#include "schema_check.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "subprocess.h"

namespace ipctrace::testing {
namespace {

// argv: schema, "1" for NDJSON or "0", file. Exit 0: valid; 1: invalid (the best match of
// the validator's errors, with where it is); anything else: the validator could not run.
const char* kValidator = R"PY(
import json, sys
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
schema_path, ndjson, path = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
with open(schema_path) as f:
    schema = json.load(f)
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
with open(path) as f:
    text = f.read()
docs = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()] if ndjson else [(1, text)]
if not docs:
    print(f"{path}: no document")
    sys.exit(1)
bad = 0
for n, doc in docs:
    error = best_match(validator.iter_errors(json.loads(doc)))
    if error is not None:
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        print(f"{path}:{n}: {error.message} at {where}")
        bad = 1
sys.exit(bad)
)PY";

}  // namespace

SchemaVerdict validate_file(const std::string& path, bool ndjson) {
    const CommandResult r = run({"/usr/bin/python3", "-c", kValidator, IPCTRACE_SCHEMA, ndjson ? "1" : "0", path});
    SchemaVerdict v;
    v.valid = r.exit_code == 0;
    v.message = r.out + r.err;
    if (r.exit_code != 0 && r.exit_code != 1) v.message = "the validator did not run (exit " + std::to_string(r.exit_code) + "): " + v.message;
    return v;
}

SchemaVerdict validate_json(const nlohmann::json& doc) {
    char path[] = "/tmp/ipctrace-schema-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) return {false, "mkstemp failed"};
    close(fd);
    {
        std::ofstream out(path);
        out << doc.dump() << "\n";
    }
    SchemaVerdict v = validate_file(path);
    unlink(path);
    return v;
}

}  // namespace ipctrace::testing
