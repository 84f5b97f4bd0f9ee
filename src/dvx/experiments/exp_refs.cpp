#include "dvx/experiments/exp_refs.h"

#include <ctime>
#include <set>

#include "dvx/base/user_error.h"
#include "dvx/experiments/refs.h"

namespace dvx::experiments {

namespace {

constexpr const char* k_namespace = "refs/exps/";

}  // namespace

std::optional<ListedExpRef> parse_listed_ref(const std::string& ref) {
  if (is_internal_ref(ref)) return std::nullopt;
  auto parsed = ExpRef::parse(ref);
  if (!parsed) return std::nullopt;
  ListedExpRef out;
  out.ref = ref;
  out.baseline = std::move(parsed->baseline);
  out.name = std::move(parsed->name);
  return out;
}

std::vector<ListedExpRef> read_exp_refs(const scm::Git& git, RefNames names) {
  auto refs = git.refs_under(k_namespace);
  if (!refs) throw UserError(refs.error().message);
  std::vector<ListedExpRef> out;
  for (auto& r : *refs) {
    auto info = parse_listed_ref(r.name);
    if (!info) {
      if (names == RefNames::strict && !is_internal_ref(r.name))
        throw UserError("'" + r.name + "' is not a valid experiment refname.");
      continue;
    }
    info->target = r.target;
    info->commit = r.commit;
    out.push_back(std::move(*info));
  }
  return out;
}

std::string resolve_rev(const scm::Git& git, const std::string& rev, const std::vector<ListedExpRef>& exp_refs) {
  auto sha = git.resolve(rev);
  if (sha) return *sha;
  if (rev == "HEAD" || rev.starts_with("refs/")) throw UserError(sha.error().message);
  std::vector<const ListedExpRef*> found;
  for (auto& r : exp_refs)
    if (r.name == rev) found.push_back(&r);
  if (found.size() > 1) {
    auto head = git.resolve("HEAD");
    const ListedExpRef* pick = nullptr;
    for (auto* r : found)
      if (head && r->baseline == *head) pick = r;
    if (!pick) throw UserError("ambiguous Git revision '" + rev + "'");
    found = {pick};
  }
  if (found.empty() || found[0]->commit.empty()) throw UserError(sha.error().message);
  return found[0]->commit;
}

std::map<std::string, std::string> describe(const scm::Git& git, const std::vector<std::string>& commits) {
  std::map<std::string, std::string> out;
  auto head = git.resolve("HEAD");
  auto branch = git.current_branch();
  std::map<std::string, std::string> tags, branches;
  auto refs = git.refs_under("refs/");
  if (refs)
    for (auto& r : *refs) {
      if (r.commit.empty()) continue;
      if (r.name.starts_with("refs/tags/")) tags.emplace(r.commit, r.name.substr(10));
      else if (r.name.starts_with("refs/heads/")) branches.emplace(r.commit, r.name.substr(11));
    }
  for (auto& c : commits) {
    if (head && c == *head && branch && *branch) {
      out[c] = **branch;
      continue;
    }
    if (auto it = tags.find(c); it != tags.end()) out[c] = it->second;
    else if (auto jt = branches.find(c); jt != branches.end()) out[c] = jt->second;
  }
  return out;
}

std::vector<std::string> select_baselines(const scm::Git& git, const BaselineSelection& sel,
                                          const std::vector<ListedExpRef>& exp_refs) {
  std::vector<std::string> revs = sel.revs;
  if (revs.empty() && !sel.all_branches && !sel.all_tags && !sel.all_commits) revs.push_back("HEAD");
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto push = [&](const std::string& sha) {
    if (seen.insert(sha).second) out.push_back(sha);
  };
  for (auto& rev : revs) {
    if (sel.num == 0) continue;
    std::string sha = resolve_rev(git, rev, exp_refs);
    push(sha);
    // rev~n for n = 1.. (first parents) until num commits or the root.
    std::string cur = sha;
    for (int n = 1; n != sel.num; ++n) {
      auto info = git.commit_info(cur);
      if (!info || info->parents.empty()) break;
      cur = info->parents.front();
      push(cur);
    }
  }
  if (sel.all_commits) {
    auto all = git.all_commits();
    if (!all) throw UserError(all.error().message);
    for (auto& c : *all) push(c);
  } else {
    if (sel.all_branches) {
      auto names = git.branches();
      if (!names) throw UserError(names.error().message);
      for (auto& b : *names) push(resolve_rev(git, b, exp_refs));
    }
    if (sel.all_tags) {
      auto names = git.tags();
      if (!names) throw UserError(names.error().message);
      for (auto& t : *names)
        if (auto sha = git.resolve(t)) push(*sha);  // a tag of a blob or tree names no commit
    }
  }
  return out;
}

std::string local_time(int64_t t, const char* fmt) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

std::string table_time(int64_t t) {
  std::time_t now = std::time(nullptr);
  bool today = local_time(t, "%Y-%m-%d") == local_time(static_cast<int64_t>(now), "%Y-%m-%d");
  return local_time(t, today ? "%I:%M %p" : "%b %d, %Y");
}

}  // namespace dvx::experiments
