#include "dvx/experiments/remote.h"

#include <algorithm>
#include <set>

#include "dvx/base/strings.h"
#include "dvx/base/user_error.h"
#include "dvx/experiments/exp_refs.h"

namespace dvx::experiments {

namespace {

[[noreturn]] void raise(const Error& e) { throw UserError(e.message, ExitCode::error); }

std::vector<ExpRefEntry> sorted_unique(std::vector<ExpRefEntry> v) {
  std::sort(v.begin(), v.end(), [](const ExpRefEntry& a, const ExpRefEntry& b) { return a.ref.str() < b.ref.str(); });
  v.erase(std::unique(v.begin(), v.end(), [](const ExpRefEntry& a, const ExpRefEntry& b) { return a.ref == b.ref; }),
          v.end());
  return v;
}

SyncResult group(const std::vector<ExpRefEntry>& exps, const std::map<std::string, scm::Git::SyncStatus>& status) {
  SyncResult out;
  for (auto& e : exps) {
    auto it = status.find(e.ref.str());
    if (it == status.end()) continue;
    switch (it->second) {
      case scm::Git::SyncStatus::success: out.success.push_back(e); break;
      case scm::Git::SyncStatus::up_to_date: out.up_to_date.push_back(e); break;
      case scm::Git::SyncStatus::diverged: out.diverged.push_back(e); break;
    }
  }
  return out;
}

std::vector<std::string> ref_names(const std::vector<ExpRefEntry>& exps) {
  std::vector<std::string> refs;
  for (auto& e : exps) refs.push_back(e.ref.str());
  return refs;
}

}  // namespace

std::vector<ExpRefEntry> remote_exp_refs(const scm::Git& git, const std::string& git_remote) {
  auto refs = git.remote_refs(git_remote, std::string(k_exps_namespace) + "/");
  if (!refs) raise(refs.error());
  std::vector<ExpRefEntry> out;
  for (auto& r : *refs) {
    if (is_internal_ref(r.name)) continue;
    auto parsed = ExpRef::parse(r.name);
    if (!parsed || parsed->name.empty()) continue;
    out.push_back({*parsed, r.commit});
  }
  return sorted_unique(std::move(out));
}

std::string unresolved_names_message(const std::vector<std::string>& names, const std::string& git_remote) {
  std::string joined = join(names, "; ");
  if (!git_remote.empty()) return "Experiment '" + joined + "' does not exist in '" + git_remote + "'";
  if (names.size() > 1) return "'" + joined + "' are not valid experiment names";
  return "'" + joined + "' is not a valid experiment name";
}

std::vector<ExpRefEntry> select_experiments(const scm::Git& git, const std::vector<ExpRefEntry>& all,
                                            const ExpSelection& sel, const std::string& git_remote) {
  if (sel.all_commits) return sorted_unique(all);
  std::vector<ExpRefEntry> out;
  if (!sel.names.empty()) {
    std::vector<std::string> plain, unresolved;
    for (auto& name : sel.names) {
      if (!name.starts_with("refs/")) {
        plain.push_back(name);
        continue;
      }
      auto parsed = ExpRef::parse(name);
      if (!parsed) throw UserError("'" + name + "' is not a valid experiment refname.", ExitCode::error);
      auto it = std::find_if(all.begin(), all.end(), [&](const ExpRefEntry& e) { return e.ref == *parsed; });
      if (it == all.end()) unresolved.push_back(name);
      else out.push_back(*it);
    }
    if (!plain.empty()) {
      auto head = git.resolve("HEAD");
      if (!head) raise(head.error());
      auto found = resolve_names_among(all, plain, *head);
      for (auto& name : plain) {  // in the order given
        auto& entry = found[name];
        if (entry) out.push_back(*entry);
        else if (std::find(unresolved.begin(), unresolved.end(), name) == unresolved.end()) unresolved.push_back(name);
      }
    }
    if (!unresolved.empty()) throw UserError(unresolved_names_message(unresolved, git_remote), ExitCode::error);
    return sorted_unique(std::move(out));
  }
  BaselineSelection bsel;
  bsel.revs = sel.revs.empty() ? std::vector<std::string>{"HEAD"} : sel.revs;
  bsel.num = sel.num;
  auto baselines = select_baselines(git, bsel, read_exp_refs(git));
  std::set<std::string> wanted(baselines.begin(), baselines.end());
  for (auto& e : all)
    if (wanted.count(e.ref.baseline)) out.push_back(e);
  return sorted_unique(std::move(out));
}

std::vector<std::string> exp_commits(const scm::Git& git, const std::vector<ExpRefEntry>& exps) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto& e : exps) {
    std::string cur = e.commit;
    // An experiment is a handful of commits on its baseline; the bound only guards a ref whose
    // history never meets its baseline.
    for (int depth = 0; depth < 10000 && !cur.empty() && cur != e.ref.baseline; ++depth) {
      if (!seen.insert(cur).second) break;
      out.push_back(cur);
      auto info = git.commit_info(cur);
      if (!info) raise(info.error());
      cur = info->parents.empty() ? "" : info->parents.front();
    }
  }
  return out;
}

SyncResult push_experiments(scm::Git& git, const std::string& git_remote, const std::vector<ExpRefEntry>& exps,
                            bool force) {
  if (exps.empty()) return {};
  auto status = git.push_refs(git_remote, ref_names(exps), force);
  if (!status) raise(status.error());
  return group(exps, *status);
}

SyncResult pull_experiments(scm::Git& git, const std::string& git_remote, const std::vector<ExpRefEntry>& exps,
                            bool force) {
  if (exps.empty()) return {};
  auto status = git.fetch_refs(git_remote, ref_names(exps), force);
  if (!status) raise(status.error());
  return group(exps, *status);
}

void remove_remote_experiments(scm::Git& git, const std::string& git_remote, const std::vector<ExpRefEntry>& exps) {
  if (exps.empty()) return;
  if (auto s = git.delete_remote_refs(git_remote, ref_names(exps)); !s) raise(s.error());
}

}  // namespace dvx::experiments
