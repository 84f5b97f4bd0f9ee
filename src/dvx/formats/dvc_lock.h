// `dvc.lock` (formats.md §7): parsing, and writing byte for byte as DVC 3.64 does, stage
// entries updated in place (other stages' entries untouched, new stages appended).
// Also the entry hashing of the run-cache (formats.md §11), which uses the same entry form.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/formats/yaml.h"

namespace dvx::formats {

// One dep or out entry of a lock stage.
struct LockEntry {
  std::string path;                 // as written in dvc.yaml
  std::optional<std::string> hash;  // "md5" (nullopt for 2.x entries)
  std::optional<std::string> md5;   // object id ("...dir" for directories)
  std::optional<int64_t> size, nfiles;
  bool isexec = false;
};

// One stage entry.
struct LockStage {
  yaml::Node cmd;  // string or sequence
  std::vector<LockEntry> deps;  // sorted by path when written
  // file -> (key -> value); written with params.yaml first then files sorted, keys sorted.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, yaml::Node>>>> params;
  std::vector<LockEntry> outs;  // sorted by path when written
};

// A dvc.lock document.
class DvcLock {
 public:
  // Parses and validates (schema '2.0'); errors name file and line.
  static Result<DvcLock> parse(std::string_view text, const std::string& filename);
  // The same from a document yaml::parse already read (validation only).
  static Result<DvcLock> from_document(yaml::Node doc, const std::string& filename);

  // The entry of a stage, nullopt when absent.
  std::optional<LockStage> stage(std::string_view name) const;
  // The same without a copy: the entry held by this object (valid until it is next changed),
  // nullptr when absent.
  const LockStage* stage_ref(std::string_view name) const;
  // Stage names in file order.
  std::vector<std::string> stage_names() const;
  // Replaces a stage's entry in place or appends it.
  void set_stage(const std::string& name, const LockStage& st);
  // Removes a stage's entry; returns whether it was there.
  bool remove_stage(std::string_view name);
  // Moves the entries of `names` (those present) to the end, in that order; the others keep
  // their order. One pass, whatever the number of names.
  void move_to_end(const std::vector<std::string>& names);
  bool empty() const;

  // The file text as DVC writes it ("schema: '2.0'\nstages:\n  ...").
  std::string emit() const;

 private:
  yaml::Node m_doc;  // ordered document; untouched entries keep their exact values
  // Lookups by stage name in constant time (a pipeline of n stages asks for n entries):
  // name -> position in the "stages" mapping (rebuilt after a removal), and the typed entries
  // read by from_document or set since.
  mutable std::unordered_map<std::string, size_t> m_pos;
  mutable bool m_pos_stale = true;
  std::unordered_map<std::string, LockStage> m_typed;
  yaml::Node* stages_node();
  const yaml::Node* find_stage(std::string_view name) const;
};

// The YAML mapping of one stage entry in DVC's key order (cmd, deps, params, outs), each
// dep/out as path, hash, md5, size, nfiles, isexec; empty parts omitted.
yaml::Node lock_stage_to_node(const LockStage& st);
// The typed view of one stage entry node; errors name the stage.
Result<LockStage> lock_stage_from_node(const yaml::Node& node, const std::string& where);

// The JSON texts whose sha256 are the run-cache key and value of an entry (formats.md §11:
// size/nfiles removed at every depth, sorted keys, Python json.dumps separators, ASCII escapes;
// the key's outs are the output paths only).
std::string run_cache_key_json(const LockStage& entry);
std::string run_cache_value_json(const LockStage& entry);
// json.dumps({name: entry, ...}, sort_keys=True) of stage entries as DVC's to_lockfile gives
// them (sizes kept): the text whose sha256 DVC names an experiment by (BaseExecutor.hash_exp).
std::string lock_stages_json(const std::vector<std::pair<std::string, LockStage>>& stages);

}  // namespace dvx::formats
