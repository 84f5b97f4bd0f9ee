// `fsck` and its alias `cache verify`: check (and repair) what the cache and a remote store.
#include <algorithm>

#include "app.h"

namespace dvx::cli {

namespace {

struct FsckFlags {
  api::FsckOptions opts;
  bool json = false;
};

void add_fsck_flags(CLI::App* sub, FsckFlags* f) {
  sub->add_flag("-a,--all-branches", f->opts.all_branches, "Also check the objects of the tips of all Git branches.");
  sub->add_flag("-T,--all-tags", f->opts.all_tags, "Also check the objects of all Git tags.");
  sub->add_flag("-A,--all-commits", f->opts.all_commits, "Also check the objects of all Git commits.");
  sub->add_flag("--cache-only", f->opts.cache_only, "Check every object in the cache, referenced or not.");
  sub->add_option("-r,--remote", f->opts.remote, "Also check that this remote holds every object.");
  sub->add_flag("--deep", f->opts.deep, "With -r: download and hash every object on the remote.");
  sub->add_flag("--repair", f->opts.repair,
                "Replace bad or missing cache objects from the remote (-r, else the default one) or from an intact "
                "workspace copy; corrupted objects are moved aside, never deleted.");
  sub->add_flag("--json", f->json, "Print the result as JSON.");
  sub->add_option("-j,--jobs", f->opts.jobs, "Number of threads hashing objects.");
}

int run_fsck(Context& ctx, FsckFlags& f) {
  if (f.opts.deep && !f.opts.remote) throw UserError("--deep needs -r|--remote", ExitCode::error);
  auto repo = ctx.open_repo();
  // Checking reads only; repairing writes the cache, so it excludes other commands.
  if (f.opts.repair) ctx.lock(*repo, ExitCode::error);
  auto r = api::fsck(*repo, f.opts, {});
  if (f.json) {
    nlohmann::ordered_json j;
    j["ok"] = r.ok();
    j["checked"] = r.checked;
    if (f.opts.remote) j["checked_remote"] = r.checked_remote;
    nlohmann::ordered_json probs = nlohmann::ordered_json::array();
    for (auto& p : r.problems) {
      nlohmann::ordered_json e;
      e["kind"] = p.kind;
      e["oid"] = p.oid.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(p.oid);
      e["name"] = p.name;
      e["detail"] = p.detail;
      e["repaired"] = p.repaired;
      if (p.repaired) e["repaired_from"] = p.repaired_from;
      probs.push_back(std::move(e));
    }
    j["problems"] = std::move(probs);
    ctx.console.out_always(json_text(ctx, j));
    return r.ok() ? 0 : 1;
  }
  size_t repaired = static_cast<size_t>(std::count_if(r.problems.begin(), r.problems.end(), [](auto& p) { return p.repaired; }));
  for (auto& p : r.problems) {
    std::string line = p.kind + ": ";
    if (!p.oid.empty()) line += p.oid + (p.name.empty() ? "" : " (" + p.name + ")");
    else line += p.name;
    line += ": " + p.detail;
    if (p.repaired) line += p.repaired_from == "removed" ? " - removed" : " - repaired from the " + p.repaired_from;
    ctx.console.out(line);
  }
  std::string summary = "Checked " + std::to_string(r.checked) + " objects in the cache";
  if (f.opts.remote) summary += " and " + std::to_string(r.checked_remote) + " on remote '" + *f.opts.remote + "'";
  if (r.problems.empty()) summary += ": no problems found.";
  else summary += ": " + std::to_string(r.problems.size()) + " problem" + (r.problems.size() > 1 ? "s" : "") +
                  (repaired ? ", " + std::to_string(repaired) + " repaired." : ".");
  ctx.console.out(summary);
  if (!r.ok() && !f.opts.repair) ctx.console.out("Run `dvx fsck --repair` (with -r <remote> to fetch good copies) to fix what can be fixed.");
  return r.ok() ? 0 : 1;
}

}  // namespace

void register_fsck_command(CLI::App& app, Action& action) {
  static FsckFlags flags;
  auto* sub = app.add_subcommand("fsck", "Verify the objects the cache (and a remote) store, and repair them.");
  add_fsck_flags(sub, &flags);
  sub->callback([&action] { action = [](Context& ctx) { return run_fsck(ctx, flags); }; });
}

void register_cache_verify(CLI::App& cache, Action& action) {
  static FsckFlags flags;
  auto* sub = cache.add_subcommand("verify", "Verify the objects the cache (and a remote) store (same as `fsck`).");
  add_fsck_flags(sub, &flags);
  sub->callback([&action] { action = [](Context& ctx) { return run_fsck(ctx, flags); }; });
}

}  // namespace dvx::cli
