// Experiment refs and the revisions `exp show`/`exp diff`/`exp list` select (formats.md §12.1;
// DVC's ExpRefInfo, exp_refs, resolve_rev, describe, iter_revs). Reads Git only.
// Thread-safety: functions over one scm::Git, which is used by one thread at a time.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dvx/scm/git.h"

namespace dvx::experiments {

// One experiment ref as listings read it (refs.h's ExpRef, with the ref's targets):
// refs/exps/<baseline[0:2]>/<baseline[2:]>/<name>.
struct ListedExpRef {
  std::string ref;       // full ref name
  std::string baseline;  // the baseline sha as the ref spells it
  std::string name;      // experiment name ("" for a ref without one)
  std::string target;    // the object the ref names ("" when none)
  std::string commit;    // the experiment commit (tip); "" when the ref leads to no commit
};

// An experiment ref name taken apart as DVC's ExpRefInfo.from_ref; nullopt for the namespaces DVC
// skips (stash queues, apply, exec, celery, temp) and names that are not 4-5 '/'-parts long.
std::optional<ListedExpRef> parse_listed_ref(const std::string& ref);

// Every experiment ref of the repository, sorted by ref name (targets and commits filled in).
// A name of the wrong shape is skipped, or with RefNames::strict (`exp list`) fails with DVC's
// "'<ref>' is not a valid experiment refname.".
enum class RefNames { skip_invalid, strict };
std::vector<ListedExpRef> read_exp_refs(const scm::Git& git, RefNames names = RefNames::skip_invalid);

// A Git revision, or else an experiment name (DVC's resolve_rev): an experiment name that several
// baselines share resolves to the one whose baseline is HEAD, else fails with "ambiguous Git
// revision '<rev>'". Unknown names throw UserError "unknown Git revision '<rev>'".
std::string resolve_rev(const scm::Git& git, const std::string& rev, const std::vector<ListedExpRef>& exp_refs);

// Names of baseline commits as DVC's describe: the current branch for HEAD's commit when HEAD is
// on a branch, else the first tag, else the first branch pointing at it; absent when none.
std::map<std::string, std::string> describe(const scm::Git& git, const std::vector<std::string>& commits);

// Which baselines a command looks at (DVC's iter_revs with `-n`): each of `revs` (HEAD when none
// of revs/-a/-T/-A is given) and up to num-1 of its first-parent ancestors (all of them when
// num < 0, none when num == 0), then every commit (-A) or every branch (-a) and tag (-T);
// resolved and without duplicates, in first-seen order. An unknown revision throws UserError.
struct BaselineSelection {
  std::vector<std::string> revs;
  int num = 1;
  bool all_branches = false, all_tags = false, all_commits = false;
};
std::vector<std::string> select_baselines(const scm::Git& git, const BaselineSelection& sel,
                                          const std::vector<ListedExpRef>& exp_refs);

// Python's datetime.fromtimestamp(t): the local time of a commit, as "YYYY-MM-DDTHH:MM:SS"
// (isoformat) or formatted with strftime `fmt`.
std::string local_time(int64_t t, const char* fmt = "%Y-%m-%dT%H:%M:%S");
// DVC's format_time for `exp show` tables: "%I:%M %p" when the local date is today's, else
// "%b %d, %Y".
std::string table_time(int64_t t);

}  // namespace dvx::experiments
