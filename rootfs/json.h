// JSON for what rootfs prints and writes (deps --json, OCI documents),
// through nlohmann::json. File names are bytes, not text: one that is not
// valid UTF-8 cannot be a JSON string, so it is written losslessly as
// {"base64": "<its bytes in base64>"} instead.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/string_view.h"

namespace rootfs {

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsUtf8(absl::string_view s);

// A JSON string when s is valid UTF-8, else {"base64": "..."}.
nlohmann::ordered_json BytesToJson(absl::string_view s);

}  // namespace rootfs
