#include "dvx/experiments/refs.h"

#include "dvx/experiments/exp_refs.h"

#include <set>

#include "dvx/base/strings.h"
#include "dvx/base/user_error.h"

namespace dvx::experiments {
namespace {

#include "dvx/experiments/name_words.inc"

[[noreturn]] void raise(const Error& e) { throw UserError(e.message, ExitCode::error); }

}  // namespace

std::string ExpRef::str() const {
  std::string s = std::string(k_exps_namespace) + "/" + baseline.substr(0, 2) + "/" + baseline.substr(std::min<size_t>(2, baseline.size()));
  if (!name.empty()) s += "/" + name;
  return s;
}

std::optional<ExpRef> ExpRef::parse(std::string_view ref) {
  std::vector<std::string> parts = split(std::string(ref), '/');
  if (parts.size() < 4 || parts.size() > 5 || parts[0] + "/" + parts[1] != k_exps_namespace) return std::nullopt;
  ExpRef r;
  r.baseline = parts[2] + parts[3];
  if (parts.size() == 5) r.name = parts[4];
  return r;
}

bool is_internal_ref(std::string_view ref) {
  for (std::string_view ns : {"refs/exps/apply", "refs/exps/celery", "refs/exps/exec", "refs/exps/temp"})
    if (ref.starts_with(ns)) return true;
  return ref == "refs/exps/stash" || ref == "refs/exps/celery/stash";
}

Result<std::vector<ExpRefEntry>> list_exp_refs(const scm::Git& git, const std::optional<std::string>& baseline) {
  // exp show/list's reader (exp_refs.h), keeping the refs that name an experiment commit.
  std::vector<ListedExpRef> refs;
  try {
    refs = read_exp_refs(git);
  } catch (const UserError& e) {
    return fail(ErrorCode::io, e.what());
  }
  std::vector<ExpRefEntry> out;
  for (auto& r : refs) {
    if (r.name.empty() || r.commit.empty()) continue;  // DVC would fail on these; listings skip them
    if (baseline && r.baseline != *baseline) continue;
    out.push_back(ExpRefEntry{ExpRef{std::move(r.baseline), std::move(r.name)}, std::move(r.commit)});
  }
  return out;
}

std::map<std::string, std::optional<ExpRefEntry>> resolve_names(const scm::Git& git,
                                                                const std::vector<std::string>& names,
                                                                const std::string& head) {
  std::map<std::string, std::optional<ExpRefEntry>> result;
  std::set<std::string> unresolved;
  for (const std::string& name : names) {
    if (name.starts_with("refs/")) {
      auto parsed = ExpRef::parse(name);
      if (!parsed) throw UserError("'" + name + "' is not a valid experiment refname.", ExitCode::error);
      auto target = git.ref_target(name);
      if (!target) raise(target.error());
      result[name] = *target ? std::optional<ExpRefEntry>(ExpRefEntry{*parsed, **target}) : std::nullopt;
    } else {
      unresolved.insert(name);
    }
  }
  if (unresolved.empty()) return result;
  auto all = list_exp_refs(git);
  if (!all) raise(all.error());
  for (auto& [name, entry] : resolve_names_among(*all, {unresolved.begin(), unresolved.end()}, head))
    result[name] = entry;
  return result;
}

std::map<std::string, std::optional<ExpRefEntry>> resolve_names_among(const std::vector<ExpRefEntry>& all,
                                                                      const std::vector<std::string>& names,
                                                                      const std::string& head) {
  std::map<std::string, std::optional<ExpRefEntry>> result;
  for (const std::string& name : names) {
    std::vector<const ExpRefEntry*> matches;
    for (auto& e : all)
      if (e.ref.name == name) matches.push_back(&e);
    if (matches.empty()) {
      result[name] = std::nullopt;
    } else if (matches.size() == 1) {
      result[name] = *matches[0];
    } else {
      const ExpRefEntry* chosen = nullptr;
      for (auto* m : matches)
        if (m->ref.baseline == head) chosen = m;
      if (chosen == nullptr) {
        std::string msg = "Ambiguous name '" + name +
                          "' refers to multiple experiments. Use one of the following full refnames instead:\n";
        for (auto* m : matches) msg += "\n\t" + m->ref.str();
        throw UserError(msg, ExitCode::error);
      }
      result[name] = *chosen;
    }
  }
  return result;
}

Result<std::vector<ExpRefEntry>> exp_refs_containing(const scm::Git& git, const std::string& rev) {
  auto all = list_exp_refs(git);
  if (!all) return std::unexpected(all.error());
  std::vector<ExpRefEntry> out;
  for (auto& e : *all) {
    auto contains = git.is_ancestor(rev, e.commit);
    if (!contains) return std::unexpected(contains.error());
    if (*contains) out.push_back(e);
  }
  return out;
}

bool valid_ref_format(std::string_view ref) {
  // dulwich.refs.check_ref_format, the rules DVC applies.
  if (ref.find("/.") != std::string_view::npos || ref.starts_with(".")) return false;
  if (ref.find('/') == std::string_view::npos) return false;
  if (ref.find("..") != std::string_view::npos) return false;
  for (char c : ref) {
    auto u = static_cast<unsigned char>(c);
    if (u < 040 || u == 0177) return false;
    if (std::string_view(" ~^:?*[").find(c) != std::string_view::npos) return false;
  }
  if (ref.ends_with("/") || ref.ends_with(".")) return false;
  if (ref.ends_with(".lock")) return false;
  if (ref.find("@{") != std::string_view::npos) return false;
  if (ref.find('\\') != std::string_view::npos) return false;
  return true;
}

void check_exp_name(const ExpRef& ref) {
  if (!valid_ref_format(ref.str()) || ref.name.find('/') != std::string::npos)
    throw UserError("Invalid exp name " + ref.name +
                        ", the exp name must follow rules in https://git-scm.com/docs/git-check-ref-format",
                    ExitCode::error);
}

const std::vector<std::string_view>& name_adjectives() {
  static const std::vector<std::string_view> words(std::begin(k_adjectives), std::end(k_adjectives));
  return words;
}

const std::vector<std::string_view>& name_nouns() {
  static const std::vector<std::string_view> words(std::begin(k_nouns), std::end(k_nouns));
  return words;
}

std::string gen_random_name(std::mt19937_64& rng) {
  const auto& adjs = name_adjectives();
  const auto& nouns = name_nouns();
  std::uniform_int_distribution<size_t> pick_adj(0, adjs.size() - 1), pick_noun(0, nouns.size() - 1);
  std::string adjective(adjs[pick_adj(rng)]);
  std::string noun(nouns[pick_noun(rng)]);
  return adjective + "-" + noun;
}

std::string random_exp_name(const scm::Git& git, const std::string& baseline) {
  // Seeded from the OS, not from anything a pipeline could fix (DVC uses its own Random() too).
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  for (;;) {
    std::string name = gen_random_name(rng);
    auto target = git.ref_target(ExpRef{baseline, name}.str());
    if (!target) raise(target.error());
    if (!*target) return name;
  }
}

}  // namespace dvx::experiments
