// Helpers shared by the api operations (not part of the public API).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dvx/api/api.h"
#include "dvx/remote/remote.h"

namespace dvx::api::detail {

// A tracked output selected by a command, with its stage.
struct Selected {
  const repo::DvcStage* stage = nullptr;
  const repo::Output* out = nullptr;
  std::string sub;  // granular: a path inside a tracked directory (relative to it), else empty
};

// Outputs selected by targets (a .dvc file, a tracked output path, a directory with
// recursive): every output when targets is empty. Throws DVC's errors for unknown targets.
std::vector<Selected> select_outputs(repo::Repo& repo, const std::vector<std::string>& targets, bool recursive,
                                     const std::string& command);

// Object ids an output needs: the object itself, plus a directory's manifest entries when the
// manifest is in the cache (`manifest_missing` set otherwise). Names for messages go along.
struct UsedObject {
  odb::ObjectId id;
  std::string name;  // repo-relative output path, or <dir>/<relpath>
};
std::vector<UsedObject> used_objects(const repo::Repo& repo, const repo::Output& out, bool* manifest_missing);

// An output entry of a .dvc file updated to a computed state (md5, size, nfiles, isexec; `hash:
// md5` for the 3.x layout), as `commit` records it.
void record_state(formats::DvcOut& entry, const workspace::OutputState& state, odb::Layout layout);

// Writes a .dvc file atomically (new or round-trip update) and records it for Git.
void write_stage(repo::Repo& repo, const std::string& rel_path, const formats::DvcFile& file,
                 const repo::DvcStage* existing);

// Ensures/removes the .gitignore line of an output (when Git is used). gitignore_add returns
// true when it added a line (so a failing command can take it back).
bool gitignore_add(repo::Repo& repo, const std::string& out_rel);
// The same for many outputs (each .gitignore read and written once).
void gitignore_add_many(repo::Repo& repo, const std::vector<std::string>& out_rels);
void gitignore_remove(repo::Repo& repo, const std::string& out_rel);

// Commits selected by -a/-T/-A (resolved ids, unique, in a stable order).
std::vector<std::string> revision_commits(repo::Repo& repo, bool all_branches, bool all_tags, bool all_commits);

// Display path with a trailing '/' for directories.
std::string display_out(const repo::Repo& repo, const std::string& abs_path, bool is_dir);

// cache.type as it works here: reflink dropped when the file system at `dir` can't make one
// (DVC probes its types before linking), so `reflink,hardlink` gives hardlinks on ext4.
std::vector<platform::LinkType> usable_link_types(repo::Repo& repo, const std::string& dir);

// After saving (add, commit): re-creates the output's workspace files from the cache per the
// usable cache types (an independent copy is kept; links to files outside the cache become
// files). Never writes through a symlinked folder or a folder output that is a symlink.
// `in_place`: save_to_cache's flags of files that already are their objects (left alone).
void relink(repo::Repo& repo, const repo::Output& o, const workspace::OutputState& st, odb::Layout layout,
            const std::vector<uint8_t>* in_place = nullptr);
// The warning for a cache object found corrupted and quarantined: names the cache file, the
// hash, the workspace path it was for (`name`, repo-relative or display form; may be empty)
// and where the object went.
// `restored`: the object was written again from the intact workspace file (add).
std::string corrupted_message(const repo::Repo& repo, const odb::ObjectId& id, const std::string& name,
                              const std::string& quarantined, bool restored = false);

// The pipeline stages' part of `status` (api/pipeline.cpp): reports of the dvc.yaml stages that
// `targets` select (every one when empty), appended to `res`; targets that name no pipeline
// stage (or name a .dvc file) go to `other_targets`.
void pipeline_status(repo::Repo& repo, const std::vector<std::string>& targets, std::vector<std::string>& other_targets,
                     StatusResult& res);

// `commit` of dvc.yaml stages (api/pipeline.cpp); targets naming none go to `other_targets`.
void commit_pipeline(repo::Repo& repo, const CommitOptions& opts, const Confirm& confirm,
                     std::vector<std::string>& other_targets);

// `remove` of dvc.yaml stages (api/pipeline.cpp): the stage leaves dvc.yaml and dvc.lock (files
// deleted when empty), its .gitignore entries go, its outputs are deleted with `outs`. Targets
// naming no pipeline stage are returned.
std::vector<std::string> remove_pipeline_stages(repo::Repo& repo, const std::vector<std::string>& targets, bool outs);

// `repro` (api/pipeline.cpp) with a look at the index and the result before the index goes away
// (`exp run` reads the entries of the stages that ran). `inspect` may be empty.
using ReproInspect = std::function<void(pipeline::Index&, const pipeline::ReproResult&)>;
pipeline::ReproResult repro_with(repo::Repo& repo, const pipeline::ReproOptions& opts, const ReproOutput& io,
                                 const ReproInspect& inspect);

// Turns a Result error into a UserError.
[[noreturn]] void raise(const Error& e, ExitCode code = ExitCode::error);
// The value of a Result, or raise() of its error.
template <class T>
T checked(Result<T> r) {
  if (!r) raise(r.error());
  return std::move(*r);
}
inline void checked(Status s) {
  if (!s) raise(s.error());
}

// The backend of a configured remote (api/gc.cpp); DVC's config errors (251) for an unknown name.
std::unique_ptr<remote::Remote> open_named_remote(repo::Repo& repo, const std::string& name);
// The object a remote key names in a layout ("files/md5/ab/cdef…" for 3.x, "ab/cdef…" for 2.x);
// nullopt for any other key.
std::optional<odb::ObjectId> remote_key_object(const std::string& key, odb::Layout layout);

// ---- experiments (api/experiments.cpp), shared with the queue (api/exp_queue.cpp) ----
// The Git of a repository experiments can use (DVC's Experiments.scm): "Only supported for Git
// repositories..." (255) without Git, "Empty git repo" without a commit.
scm::Git& exp_git(repo::Repo& repo);
std::string head_commit(scm::Git& git);
// DVC's Experiments.new: a given name must be a valid ref and, without force, unused; none
// given: a generated one.
std::string new_exp_name(scm::Git& git, const std::string& baseline, const std::optional<std::string>& name,
                         bool force);
// Parses every -S override (a syntax error is DVC's unexpected error); a sweep without --queue:
// "Sweep overrides can't be used without `--queue`" (255).
void check_set_params(const std::vector<std::pair<std::string, std::vector<std::string>>>& groups, bool allow_sweep);
// The new text of each params file a group of -S overrides names (nothing written).
struct ParamsUpdate {
  std::string abs, rel;  // rel: repo-relative ("" outside the repository)
  std::string text;
  uint32_t mode = 0644;
};
std::vector<ParamsUpdate> params_updates(repo::Repo& repo,
                                         const std::vector<std::pair<std::string, std::vector<std::string>>>& groups);

}  // namespace dvx::api::detail
