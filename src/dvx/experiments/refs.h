// Experiment references as DVC 3.64 lays them out (dvc/repo/experiments/refs.py, utils.py):
// `refs/exps/<baseline[:2]>/<baseline[2:]>/<name>`, DVC's internal refs (`refs/exps/exec/...`,
// `refs/exps/apply/...`, stashes) that listings skip, name lookup with DVC's ambiguity rules,
// DVC's ref-name validation and its generated `adjective-noun` names.
// Thread-safety: pure functions, and functions reading a scm::Git (one thread per Git object).
#pragma once

#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dvx/scm/git.h"

namespace dvx::experiments {

inline constexpr std::string_view k_exps_namespace = "refs/exps";
inline constexpr std::string_view k_exec_head = "refs/exps/exec/EXEC_HEAD";
inline constexpr std::string_view k_exec_baseline = "refs/exps/exec/EXEC_BASELINE";
inline constexpr std::string_view k_exec_branch = "refs/exps/exec/EXEC_BRANCH";
inline constexpr std::string_view k_exec_merge = "refs/exps/exec/EXEC_MERGE";
inline constexpr std::string_view k_exec_apply = "refs/exps/exec/EXEC_APPLY";
inline constexpr std::string_view k_apply_head = "refs/exps/apply/ORIG_HEAD";
inline constexpr std::string_view k_apply_stash = "refs/exps/apply/stash";

// One experiment: its baseline commit and name.
struct ExpRef {
  std::string baseline;  // 40-hex commit the experiment was derived from
  std::string name;

  // "refs/exps/<baseline[:2]>/<baseline[2:]>/<name>" (no name: the baseline's folder).
  std::string str() const;
  // DVC's ExpRefInfo.from_ref: 4 or 5 '/'-parts under refs/exps; nullopt otherwise.
  static std::optional<ExpRef> parse(std::string_view ref);
  bool operator==(const ExpRef&) const = default;
};

// An experiment reference and the commit it points to.
struct ExpRefEntry {
  ExpRef ref;
  std::string commit;
};

// True for refs DVC's listings skip: its internal namespaces (apply, celery, exec, temp) and
// the queue stashes.
bool is_internal_ref(std::string_view ref);

// Every experiment (internal refs skipped), sorted by ref name; only those of `baseline` when
// given.
Result<std::vector<ExpRefEntry>> list_exp_refs(const scm::Git& git,
                                               const std::optional<std::string>& baseline = std::nullopt);

// DVC's resolve_name: each name to its experiment; "refs/..." names are parsed as full refs; a
// name used by several baselines resolves to the one of `head` (the current commit), else it
// throws UserError (255) "Ambiguous name '<n>' refers to multiple experiments. Use one of the
// following full refnames instead:\n\n\t<ref>..."; unknown names map to nullopt.
std::map<std::string, std::optional<ExpRefEntry>> resolve_names(const scm::Git& git,
                                                                const std::vector<std::string>& names,
                                                                const std::string& head);

// The name lookup of resolve_names over a given list of experiments (those of a Git remote):
// plain names only, with the same ambiguity rule and error.
std::map<std::string, std::optional<ExpRefEntry>> resolve_names_among(const std::vector<ExpRefEntry>& all,
                                                                      const std::vector<std::string>& names,
                                                                      const std::string& head);

// Experiments whose commit is `rev` or descends from it (DVC's exp_refs_by_rev), sorted.
Result<std::vector<ExpRefEntry>> exp_refs_containing(const scm::Git& git, const std::string& rev);

// dulwich's check_ref_format, which DVC asks of the full experiment ref.
bool valid_ref_format(std::string_view ref);
// DVC's check_ref_format: throws UserError (255) "Invalid exp name <name>, the exp name must
// follow rules in https://git-scm.com/docs/git-check-ref-format" when the full ref is not valid
// or the name holds a '/'.
void check_exp_name(const ExpRef& ref);

// DVC's gen_random_name: "<adjective>-<noun>" from DVC's word lists.
std::string gen_random_name(std::mt19937_64& rng);
// A generated name no experiment of `baseline` uses yet (DVC's get_random_exp_name).
std::string random_exp_name(const scm::Git& git, const std::string& baseline);
// The word lists (DVC's order), for tests.
const std::vector<std::string_view>& name_adjectives();
const std::vector<std::string_view>& name_nouns();

}  // namespace dvx::experiments
