// Experiments and Git remotes (DVC 3.64's dvc/repo/experiments/push.py, pull.py, ls.py and the
// `-g` side of remove.py): which experiments a command selects, locally or on a remote, the
// commits whose data travels with them, and pushing, fetching and deleting their refs
// (`refs/exps/<baseline[:2]>/<baseline[2:]>/<name>`) through scm::Git's remote functions.
// Thread-safety: functions over one scm::Git, used by one thread at a time.
#pragma once

#include <string>
#include <vector>

#include "dvx/experiments/refs.h"
#include "dvx/scm/git.h"

namespace dvx::experiments {

// The experiments a command names: every one (-A), else the named ones, else those whose
// baseline is among `revs` (HEAD when empty) and num-1 first parents of each (DVC's iter_revs).
struct ExpSelection {
  std::vector<std::string> names;
  std::vector<std::string> revs;
  int num = 1;
  bool all_commits = false;
};

// Experiments on the Git remote (DVC's internal refs skipped), sorted by ref name; `commit` is
// the id the remote advertises. Throws UserError "'<remote>' is not a valid Git remote or URL".
std::vector<ExpRefEntry> remote_exp_refs(const scm::Git& git, const std::string& git_remote);

// DVC's UnresolvedExpNamesError text: "'a' is not a valid experiment name", "'a; b' are not
// valid experiment names", or with a Git remote "Experiment 'a; b' does not exist in '<remote>'".
std::string unresolved_names_message(const std::vector<std::string>& names, const std::string& git_remote = "");

// Picks from `all` (the local experiments, or a remote's) what `sel` names, sorted by ref and
// without duplicates. Names resolve as DVC's resolve_name ("refs/..." names parsed as refs, a
// name several baselines share taken from HEAD's baseline, else "Ambiguous name ..."); unknown
// names throw UserError with unresolved_names_message(names, git_remote) — pass "" for DVC's
// message without the remote (push and pull use it).
std::vector<ExpRefEntry> select_experiments(const scm::Git& git, const std::vector<ExpRefEntry>& all,
                                            const ExpSelection& sel, const std::string& git_remote = "");

// The commits of each experiment (DVC's exp_commits): from its tip along first parents down to,
// not including, its baseline; each once, in first-seen order.
std::vector<std::string> exp_commits(const scm::Git& git, const std::vector<ExpRefEntry>& exps);

// What became of each experiment's ref, in the order given.
struct SyncResult {
  std::vector<ExpRefEntry> success, up_to_date, diverged;
};
// `exp push`: each experiment's ref to the same name on the remote (`-f` replaces one that
// diverged).
SyncResult push_experiments(scm::Git& git, const std::string& git_remote, const std::vector<ExpRefEntry>& exps,
                            bool force);
// `exp pull`: each remote experiment's ref into the same local name (`-f` replaces a local one
// that diverged). Experiments the remote no longer has are left out.
SyncResult pull_experiments(scm::Git& git, const std::string& git_remote, const std::vector<ExpRefEntry>& exps,
                            bool force);
// `exp remove -g`: deletes the experiments' refs on the remote.
void remove_remote_experiments(scm::Git& git, const std::string& git_remote, const std::vector<ExpRefEntry>& exps);

}  // namespace dvx::experiments
