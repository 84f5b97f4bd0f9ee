// The run-cache (formats.md §11): `<cache>/runs/<key[:2]>/<key>/<value>`, one YAML file per
// (inputs, outputs) pair of a stage run, so that a stage whose inputs were seen before gets
// its outputs checked out instead of running again. Files are written by DVC and dvx alike.
// Thread-safety: entries are written with a temp file + rename, so concurrent writers and
// readers (parallel stages, another process) never see half a file.
#pragma once

#include <optional>
#include <string>

#include "dvx/formats/dvc_lock.h"
#include "dvx/pipeline/index.h"

namespace dvx::pipeline {

class RunCache {
 public:
  explicit RunCache(const repo::Repo& repo);

  // The folder holding the entries (`<cache dir>/runs`).
  const std::string& dir() const { return m_dir; }

  // Whether a stage may be restored from / saved to the run-cache: a command, at least one
  // dep and one out, not always_changed, no persist output, every dep and out inside the
  // repository. Saving also needs every uncached output to be a metric or a plot.
  static bool can_restore(const Stage& st);
  static bool can_save(const Stage& st);

  // The key and value (sha256 hex) of an entry.
  static std::string key_of(const formats::LockStage& entry);
  static std::string value_of(const formats::LockStage& entry);

  // The newest entry (by mtime) stored for the key of `entry` (its cmd, deps and params; the
  // output paths of `entry.outs`); nullopt when none. Corrupted entries are deleted, reported
  // through `warn` ("corrupted cache file '<path>'.").
  std::optional<formats::LockStage> lookup(const formats::LockStage& entry,
                                           const std::function<void(const std::string&)>& warn) const;

  // Stores an entry; an existing identical one is left alone.
  void save(const formats::LockStage& entry) const;

  // Every entry file, as paths relative to dir() ("<k[:2]>/<key>/<value>"), for push/pull.
  std::vector<std::string> list() const;

 private:
  std::string m_dir;
};

}  // namespace dvx::pipeline
