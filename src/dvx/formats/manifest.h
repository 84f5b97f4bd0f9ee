// The `.dir` tree object of a tracked directory (formats.md §3.3): a JSON list of
// {"md5", "relpath"} written exactly as DVC's json.dumps(sort_keys=True) does.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dvx/base/result.h"

namespace dvx::formats {

// One file of a directory: its path relative to the directory (POSIX) and its md5 oid.
struct ManifestEntry {
  std::string relpath;
  std::string md5;
  bool operator==(const ManifestEntry&) const = default;
};

// The manifest bytes as DVC writes them; entries are sorted by relpath bytes first; empty -> "[]".
std::string encode_manifest(std::vector<ManifestEntry> entries);

// Encodes entries that are already sorted by relpath (memcmp order), without copying them.
std::string encode_sorted_manifest(const std::vector<ManifestEntry>& entries);

// Reads a manifest: a JSON list of objects with string "md5" and "relpath" (any key order, extra
// keys ignored), entries kept in file order; errors name the file and the line:column.
Result<std::vector<ManifestEntry>> decode_manifest(std::string_view bytes, const std::string& filename);

}  // namespace dvx::formats
