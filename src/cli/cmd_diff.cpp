// `diff`: what changed between two commits or the workspace (behaviour.md §11).
#include <algorithm>

#include "app.h"
#include "dvx/base/strings.h"
#include "dvx/metrics/format.h"
#include "dvx/platform/files.h"

namespace dvx::cli {

namespace {
using json = nlohmann::ordered_json;
}  // namespace

void register_diff_command(CLI::App& app, Action& action) {
  // ---- diff
  {
    static std::vector<std::string> targets_storage{};
    auto* targets = &targets_storage;
    static std::vector<std::string> revs_storage{};
    auto* revs = &revs_storage;
    static bool as_json_storage{false};
    auto* as_json = &as_json_storage;
    static bool show_hash_storage{false};
    auto* show_hash = &show_hash_storage;
    static bool md_storage{false};
    auto* md = &md_storage;
    static bool hide_missing_storage{false};
    auto* hide_missing = &hide_missing_storage;
    auto* sub = app.add_subcommand("diff", "Show added, modified, or deleted data between commits in the DVC repository, or between a commit and the workspace.");
    sub->add_option("--targets", *targets, "Specific DVC-tracked files to compare.")->expected(0, -1);
    sub->add_option("revs", *revs, "a_rev (default HEAD) and b_rev (default workspace)")->expected(0, 2);
    sub->add_flag("--json", *as_json, "Format the output into a JSON.");
    sub->add_flag("--show-hash", *show_hash, "Display hash value for each entry.");
    sub->add_flag("--md", *md, "Show tabulated output in the Markdown format (GFM).");
    sub->add_flag("--hide-missing", *hide_missing, "Hide missing cache file status.");
    sub->callback([=, &action] {
      action = [=](Context& ctx) {
        auto repo = ctx.open_repo();
        try {
          ctx.lock(*repo, ExitCode::failure, repo::LockScope{false, {}});
        } catch (const UserError& e) {
          throw UserError(std::string("failed to get diff - ") + e.what(), ExitCode::failure);
        }
        std::optional<std::string> a, b;
        if (revs->size() >= 1) a = (*revs)[0];
        if (revs->size() >= 2) b = (*revs)[1];
        auto r = api::diff(*repo, a, b, *targets);
        bool with_missing = r.workspace && !*hide_missing;
        if (*as_json) {
          json j = json::object();
          bool any = !r.added.empty() || !r.deleted.empty() || !r.modified.empty() || !r.renamed.empty() ||
                     (with_missing && !r.not_in_cache.empty());
          if (any) {
            auto simple = [&](const std::vector<api::DiffEntry>& v, bool old_hash) {
              json a = json::array();
              for (auto& e : v) {
                json x = {{"path", e.path}};
                if (*show_hash) x["hash"] = old_hash ? e.old_hash : e.new_hash;
                a.push_back(x);
              }
              return a;
            };
            j["added"] = simple(r.added, false);
            j["deleted"] = simple(r.deleted, true);
            json m = json::array();
            for (auto& e : r.modified) {
              json x = {{"path", e.path}};
              if (*show_hash) x["hash"] = {{"old", e.old_hash}, {"new", e.new_hash}};
              m.push_back(x);
            }
            j["modified"] = m;
            json rn = json::array();
            for (auto& e : r.renamed) {
              json x = {{"path", {{"old", e.old_path}, {"new", e.path}}}};
              if (*show_hash) x["hash"] = e.new_hash;
              rn.push_back(x);
            }
            j["renamed"] = rn;
            if (with_missing) j["not in cache"] = simple(r.not_in_cache, true);
          }
          ctx.console.out_always(json_text(ctx, j));
          return 0;
        }
        auto short_hash = [](const std::string& h) { return h.substr(0, 8); };
        if (*md) {
          std::vector<std::vector<std::string>> rows;
          auto add = [&](const char* st, const std::vector<api::DiffEntry>& v, int kind) {
            for (auto& e : v) {
              std::string path = kind == 2 ? e.old_path + " -> " + e.path : e.path;
              std::string h = kind == 1 ? short_hash(e.old_hash) + ".." + short_hash(e.new_hash)
                                        : short_hash(e.new_hash.empty() ? e.old_hash : e.new_hash);
              rows.push_back(*show_hash ? std::vector<std::string>{st, h, path} : std::vector<std::string>{st, path});
            }
          };
          add("added", r.added, 0);
          add("deleted", r.deleted, 0);
          add("renamed", r.renamed, 2);
          add("modified", r.modified, 1);
          if (with_missing) add("not in cache", r.not_in_cache, 0);
          metrics::Table table;
          table.headers = *show_hash ? std::vector<std::string>{"Status", "Hash", "Path"}
                                     : std::vector<std::string>{"Status", "Path"};
          table.rows = std::move(rows);
          ctx.console.write(metrics::render_markdown(table));
          return 0;
        }
        int64_t na = 0, nd = 0, nr = 0, nm = 0, nn = 0;
        auto files = [](const std::vector<api::DiffEntry>& v) {
          int64_t n = 0;
          for (auto& e : v)
            if (e.path.empty() || e.path.back() != '/') ++n;
          return n;
        };
        auto section = [&](const char* title, const std::vector<api::DiffEntry>& v, int kind) {
          if (v.empty()) return;
          ctx.console.out(title);
          for (auto& e : v) {
            std::string path = kind == 2 ? e.old_path + " -> " + e.path : e.path;
            std::string h;
            if (*show_hash)
              h = (kind == 1 ? short_hash(e.old_hash) + ".." + short_hash(e.new_hash)
                             : short_hash(e.new_hash.empty() ? e.old_hash : e.new_hash)) + "  ";
            ctx.console.out("    " + h + path);
          }
          ctx.console.out("");
        };
        section("Added:", r.added, 0);
        section("Deleted:", r.deleted, 0);
        section("Renamed:", r.renamed, 2);
        section("Modified:", r.modified, 1);
        if (with_missing) section("Not in cache:", r.not_in_cache, 0);
        na = files(r.added), nd = files(r.deleted), nr = files(r.renamed), nm = files(r.modified);
        nn = with_missing ? files(r.not_in_cache) : 0;
        std::vector<std::string> parts;
        if (na) parts.push_back(std::to_string(na) + " added");
        if (nd) parts.push_back(std::to_string(nd) + " deleted");
        if (nr) parts.push_back(std::to_string(nr) + " renamed");
        if (nm) parts.push_back(std::to_string(nm) + " modified");
        if (nn) parts.push_back(std::to_string(nn) + " not in cache");
        if (!parts.empty()) ctx.console.out("files summary: " + join(parts, ", "));
        return 0;
      };
    });
  }
}

}  // namespace dvx::cli
