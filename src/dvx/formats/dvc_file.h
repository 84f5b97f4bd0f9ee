// `.dvc` files (single-stage files, formats.md §2): validation against DVC's schema, a typed
// view, the writer of new files and DVC's round-trip update of existing ones.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/formats/yaml.h"

namespace dvx::formats {

// One entry of `outs:`.
struct DvcOut {
  std::optional<std::string> md5;  // value of the md5 key, lower-cased (may end in ".dir")
  std::optional<int64_t> size, nfiles;
  bool isexec = false;
  std::optional<std::string> hash;  // "md5" for 3.x entries; nullopt = legacy 2.x entry (md5-dos2unix)
  std::string path;                 // required, POSIX, relative to the .dvc file's dir
  bool cache = true, persist = false, push = true;
  std::optional<std::string> remote;
  // Other valid keys in source order (etag, checksum, version_id, cloud, fs_config, desc, type,
  // labels, meta, metric, plot, files); a mapping node, or null when there are none.
  yaml::Node extra;
  int line = 0;  // source line of this entry (for error messages), 0 when built in code

  // True for a directory output: md5 ends with ".dir" or nfiles is present.
  bool is_dir() const;
  // True for a 2.x entry (no `hash` key): hashed with md5-dos2unix, stored in the legacy cache.
  bool is_legacy() const { return !hash.has_value(); }
};

// A whole `.dvc` file.
struct DvcFile {
  std::vector<DvcOut> outs;
  std::vector<yaml::Node> deps;  // kept as raw nodes (imports are later work)
  std::optional<std::string> md5;  // stage checksum (imports only)
  bool frozen = false;             // `frozen` (or its old spelling `locked`)
  std::optional<std::string> wdir;
  std::optional<std::string> desc;
  bool always_changed = false;
  std::optional<yaml::Node> meta;
  yaml::Node doc;  // the parsed document, for round-trip updates (null for a file built in code)
};

// Parses and validates a .dvc file; errors read
// "'<file>':<line>:<col>: validation failed: extra keys not allowed, in outs -> 0 -> foo".
Result<DvcFile> parse_dvc_file(std::string_view text, const std::string& filename);

// The document DVC would dump for `f` (key order of §2.1/§2.2, only truthy values).
yaml::Node dvc_file_to_node(const DvcFile& f);

// The text of a new .dvc file for `f`.
std::string emit_dvc_file(const DvcFile& f);

// The text of `original` updated to the content of `updated` the way DVC rewrites an existing
// file: existing keys keep their position, new keys are appended, removed keys deleted.
std::string update_dvc_file(const DvcFile& original, const DvcFile& updated);

}  // namespace dvx::formats
