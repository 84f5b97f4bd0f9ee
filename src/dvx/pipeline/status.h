// What changed in a pipeline stage since its dvc.lock entry (behaviour.md §3, §4): deps
// (files/folders and params values), outputs, the command; and the current hashes of deps and
// outputs for writing a new entry. Hashing goes through the state db, so an unchanged dep is
// never read again.
// Thread-safety: a Checker is used by one thread at a time (repro workers each make their own
// or serialise on it).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "dvx/formats/dvc_lock.h"
#include "dvx/pipeline/index.h"
#include "dvx/workspace/workspace.h"

namespace dvx::pipeline {

// One changed dependency: a path with a status ("modified", "deleted", "new"), or a params
// file with per-key statuses (params is then non-empty; status set for a whole-file change).
struct DepChange {
  std::string path;  // display path (from the CWD)
  std::string status;
  std::vector<std::pair<std::string, std::string>> params;
};

struct StageChanges {
  std::vector<DepChange> deps;
  std::vector<std::pair<std::string, std::string>> outs;  // display path -> status
  bool command = false;         // pipeline stage: cmd differs from dvc.lock
  bool checksum = false;        // .dvc stage: stage checksum mismatch
  bool always = false;          // always_changed or callback stage
  bool any() const { return !deps.empty() || !outs.empty() || command || checksum || always; }
};

class Checker {
 public:
  explicit Checker(const Index& index);

  // Changes of stage i against its lock entry. Frozen stages: deps are not checked.
  // `allow_missing`: deleted deps and missing outputs are not changes.
  StageChanges check(size_t i, bool allow_missing = false);

  // Current lock entries of deps and params of stage i (hashes the deps). Missing params keys:
  // UserError "Parameters 'a, b' are missing from 'params.yaml'."; a missing dep: UserError
  // "[Errno 2] No such file or directory: '<abs>'".
  void current_deps(size_t i, formats::LockStage& entry);
  // Current lock entries of the outputs of stage i; a missing output: UserError
  // "output '<p>' does not exist".
  void current_outs(size_t i, formats::LockStage& entry, std::vector<workspace::OutputState>* states = nullptr);
  // The whole entry as it would be written now (cmd, deps, params, outs).
  formats::LockStage current_entry(size_t i);

  // Hashes the files that stages' deps and outputs name in one batch (one state-db lookup for
  // all of them, misses hashed in parallel), so that checking many stages costs one query, not
  // one per file. Folders are left to state_of().
  // With `cache_presence` (status: nothing is written to or taken from the cache before the
  // checks), the cache objects of the stages' recorded file outputs are also looked up in one
  // pass; check() then trusts each answer once.
  void prefetch(const std::vector<size_t>& stages, bool cache_presence = false);

  // Current state of a path (hashed through the state db).
  workspace::OutputState state_of(const std::string& abs);
  // Forgets remembered states (after a stage wrote its outputs).
  void forget(const std::string& abs);

 private:
  const Index& m_index;
  repo::Repo& m_repo;
  workspace::Context m_ctx;
  std::map<std::string, workspace::OutputState> m_states;
  std::map<std::string, std::optional<yaml::Node>> m_params_files;  // abs -> parsed (nullopt: missing)
  std::unordered_multiset<std::string> m_cache_present;  // oids prefetch() saw in the cache
  void prefetch_cache(const std::vector<size_t>& stages);
  const yaml::Node* params_file(const std::string& abs);
};

// A lock entry of a path from its current state.
formats::LockEntry lock_entry_of(const std::string& written, const workspace::OutputState& st);

}  // namespace dvx::pipeline
