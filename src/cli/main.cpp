// dvx entry point: parses the command line (the command table lives in cmd_*.cpp), runs the
// selected command, and is the single place where errors become messages and exit codes.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <algorithm>
#include <set>

#include "app.h"
#include "dvx/formats/dvc_yaml.h"
#include "dvx/base/strings.h"
#include "dvx/base/teardown.h"
#include "dvx/formats/py_json.h"
#include "dvx/platform/durable.h"
#include "dvx/platform/files.h"
#include "dvx/platform/process.h"
#include "dvx/scm/git.h"

namespace dvx::cli {

namespace fsx = dvx::platform;

void add_common_flags(CLI::App* sub, Globals& g) {
  sub->add_flag("-q,--quiet", g.quiet, "Be quiet.");
  sub->add_flag("-v,--verbose", g.verbose, "Be verbose.");
}

std::string counts_summary(const std::vector<std::pair<int64_t, std::string>>& parts) {
  std::vector<std::string> items;
  for (auto& [n, what] : parts)
    if (n > 0) items.push_back(plural(n, "file " + what, "files " + what));
  if (items.empty()) return "";
  std::string s = items[0];
  for (size_t i = 1; i < items.size(); ++i) s += (i + 1 == items.size() ? " and " : ", ") + items[i];
  return s;
}

void print_checkout_lines(Context& ctx, const api::CheckoutResult& r) {
  for (auto& p : r.modified) ctx.console.out(expand_tabs("M\t" + p));
  for (auto& p : r.added) ctx.console.out(expand_tabs("A\t" + p));
  for (auto& p : r.deleted) ctx.console.out(expand_tabs("D\t" + p));
}

std::string expand_tabs(const std::string& s) {
  std::string out;
  size_t col = 0;
  for (char c : s) {
    if (c == '\t') {
      size_t n = 8 - col % 8;
      out.append(n, ' ');
      col += n;
    } else {
      out += c;
      col = c == '\n' ? 0 : col + 1;
    }
  }
  return out;
}

std::string json_text(Context& ctx, const nlohmann::ordered_json& v) {
  if (ctx.console.stdout_tty()) return formats::py_json_dumps_indent(v, 2);
  return formats::py_json_dumps(v);
}

std::unique_ptr<repo::Repo> Context::open_repo() {
  auto repo = repo::Repo::open(cwd);
  repo->set_progress([this](const std::string& what, size_t done, size_t total) {
    console.progress(what, done, total);
    if (done >= total) console.progress_done();
  });
  repo->set_warn([this](const std::string& text) { console.warn(text); });
  return repo;
}

void Context::lock(repo::Repo& repo, ExitCode code, const repo::LockScope& scope) {
  repo.lock(globals.wait_for_lock ? repo::LockWait::forever : repo::LockWait::retry, code, scope);
}

api::Confirm Context::confirmer() {
  return [this](const std::string& q) { return ui::confirm(console, q); };
}

void Context::git_hint(repo::Repo& repo) {
  auto paths = repo.take_git_paths();
  if (paths.empty()) return;
  auto* git = repo.git();
  if (!git) return;
  if (repo.config().autostage()) {
    std::vector<std::string> rel;
    for (auto& p : paths) rel.push_back(fsx::relative_path(p, git->work_tree()));
    if (auto r = git->add(rel); !r) console.warn(r.error().message);
    return;
  }
  std::vector<std::string> shown;
  for (auto& p : paths) shown.push_back(shell_quote(fsx::relative_path(p, cwd)));
  std::sort(shown.begin(), shown.end());
  console.out("\nTo track the changes with git, run:\n\n\tgit add " + join(shown, " ") +
              "\n\nTo enable auto staging, run:\n\n\tdvc config core.autostage true");
}

}  // namespace dvx::cli

namespace {

const char* kVersion = "3.64.0";

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
    for (auto& a : sub->get_aliases()) names.push_back(a);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

// Marks an argument that must not be split (a leading control character no real argument has).
constexpr char kNoSplit = '\x1f';

int main(int argc, char** argv) {
  using namespace dvx;
  std::signal(SIGPIPE, SIG_IGN);
  skip_teardown();  // one command, then exit: big structures are left to the process exit
  platform::grow_heap_in_large_steps();
  cli::Context ctx;
  ctx.cwd = platform::current_dir();
  // Help and usage name the program as it was invoked (`dvx`, or `dvc` through the alias).
  std::string prog = argc > 0 && argv[0] && *argv[0] ? platform::base_name(argv[0]) : "dvc";
  CLI::App app{"dvx: Data Version Control, natively (compatible with DVC 3)", prog};
  app.fallthrough();
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("-q,--quiet", ctx.globals.quiet, "Be quiet.");
  app.add_flag("-v,--verbose", ctx.globals.verbose, "Be verbose.");
  app.add_flag("-V,--version", show_version, "Show program's version.");
  app.add_option("--cd", ctx.globals.cd, "Change to directory before executing.");
  app.add_flag("--wait-for-lock", ctx.globals.wait_for_lock, "Wait for the lock if it is already held by another process.");

  cli::Action action;
  // The command: the first argument that is neither an option nor the value of --cd.
  std::string_view first;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--cd") {
      ++i;
      continue;
    }
    if (a.starts_with("-")) continue;
    first = a;
    break;
  }
  // Only the group of the command asked for is registered (CLI11's options cost ~1 ms for all
  // commands, on every run); every group when the command is not in the table (help, errors).
  {
    const cli::CommandGroup* only = nullptr;
    for (const auto& g : cli::command_groups())
      for (auto n : g.names)
        if (!first.empty() && n == first) only = &g;
    if (only) {
      only->add(app, action);
    } else {
      for (const auto& g : cli::command_groups()) g.add(app, action);
    }
  }
  // Targets are paths: CLI11 would read a value `[x,y]` as the list x, y. File names like
  // `[x,y]` or `{a}` must reach the command as they are.
  {
    std::vector<CLI::App*> apps{&app};
    while (!apps.empty()) {
      CLI::App* a = apps.back();
      apps.pop_back();
      for (CLI::Option* o : a->get_options())
        if (o->get_items_expected_max() > 0)
          o->transform([](std::string v) { return v.starts_with(kNoSplit) ? v.substr(1) : v; }, "", "");
      for (CLI::App* sub : a->get_subcommands([](CLI::App*) { return true; })) apps.push_back(sub);
    }
  }

  // DVC's message for an unknown command (argparse style), before CLI11 sees it.
  {
    auto names = command_names(app);
    std::set<std::string> known(names.begin(), names.end());
    if (!first.empty() && !known.count(std::string(first))) {
      std::string choices;
      for (auto& n : names) choices += (choices.empty() ? "'" : ", '") + n + "'";
      std::fprintf(stderr, "ERROR: argument command: invalid choice: '%s' (choose from %s)\n",
                   std::string(first).c_str(), choices.c_str());
      std::fprintf(stderr, "%s", app.help().c_str());
      return static_cast<int>(ExitCode::bad_arguments);
    }
  }

  // argparse accepts any unambiguous prefix of a long option (`status --jso`): expand them.
  std::vector<std::string> args(argv + 1, argv + argc);
  {
    const CLI::App* scope = &app;
    std::vector<const CLI::App*> chain{&app};
    for (auto& a : args) {
      if (a == "--") break;
      if (!a.starts_with("-")) {
        for (const auto* sub : scope->get_subcommands([](const CLI::App*) { return true; })) {
          bool match = sub->get_name() == a;
          for (auto& al : sub->get_aliases()) match = match || al == a;
          if (match) {
            scope = sub;
            chain.push_back(sub);
            break;
          }
        }
        continue;
      }
      if (!a.starts_with("--") || a.size() < 3) continue;
      std::string name = a.substr(2), rest;
      if (auto eq = name.find('='); eq != std::string::npos) {
        rest = name.substr(eq);
        name = name.substr(0, eq);
      }
      std::vector<std::string> longs;
      for (const auto* c : chain)
        for (const auto* opt : c->get_options())
          for (auto& ln : opt->get_lnames()) longs.push_back(ln);
      if (std::find(longs.begin(), longs.end(), name) != longs.end()) continue;
      std::set<std::string> hits;
      for (auto& ln : longs)
        if (ln.starts_with(name)) hits.insert(ln);
      if (hits.size() == 1) a = "--" + *hits.begin() + rest;
    }
  }
  // See kNoSplit: an argument that CLI11 would split as a `[a,b]` list is marked, and the
  // transform above takes the mark off once CLI11 has stored it whole.
  for (auto& a : args)
    if (a.size() >= 2 && a.front() == '[' && a.back() == ']') a.insert(0, 1, kNoSplit);
  std::vector<std::string> rev_args(args.rbegin(), args.rend());

  try {
    app.parse(rev_args);
  } catch (const CLI::CallForHelp&) {
    // Help of the most specific subcommand.
    const CLI::App* target = &app;
    while (true) {
      auto subs = target->get_subcommands();
      if (subs.empty()) break;
      target = subs.front();
    }
    std::fputs(target->help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    if (auto* ex = dynamic_cast<const CLI::ExtrasError*>(&e)) {
      (void)ex;
      auto pos = msg.find(": ");
      msg = "unrecognized arguments: " + (pos == std::string::npos ? msg : msg.substr(pos + 2));
    }
    std::fprintf(stderr, "ERROR: %s\n", msg.c_str());
    const CLI::App* target = &app;
    while (true) {
      auto subs = target->get_subcommands();
      if (subs.empty()) break;
      target = subs.front();
    }
    std::fputs(target->help().c_str(), stderr);
    return static_cast<int>(ExitCode::bad_arguments);
  }
  if (show_version) {
    std::printf("%s\n", kVersion);
    return 0;
  }
  if (ctx.globals.quiet && ctx.globals.verbose) {
    std::fprintf(stderr, "ERROR: argument -v/--verbose: not allowed with argument -q/--quiet\n");
    return static_cast<int>(ExitCode::bad_arguments);
  }
  if (!action) {
    std::fprintf(stderr, "ERROR: the following arguments are required: command\n%s", app.help().c_str());
    return static_cast<int>(ExitCode::bad_arguments);
  }
  ctx.console.set_quiet(ctx.globals.quiet > 0);
  ctx.console.set_verbose(ctx.globals.verbose > 0);
  if (!ctx.globals.cd.empty()) {
    ctx.cwd = platform::absolute_path(ctx.globals.cd, ctx.cwd);
    if (platform::stat_path(ctx.cwd).type != platform::FileType::directory) {
      ctx.console.error("[Errno 2] No such file or directory: '" + ctx.globals.cd + "'");
      return static_cast<int>(ExitCode::error);
    }
  }
  try {
    int rc = action(ctx);
    std::fflush(stdout);
    // One syncfs per file system written to (platform/durable.h): what the command published
    // is on disk before it reports success.
    if (auto s = platform::sync_durable(); !s && rc == 0) {
      ctx.console.error(s.error().message);
      return static_cast<int>(ExitCode::error);
    }
    return rc;
  } catch (const UserError& e) {
    (void)platform::sync_durable();
    ctx.console.progress_done();
    std::fflush(stdout);
    // DVC prints YAML syntax errors of its files as a block of their own, without "ERROR: ".
    if (formats::is_pretty_error(e.what())) ctx.console.plain_err(e.what());
    else ctx.console.error(e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    ctx.console.progress_done();
    std::fflush(stdout);
    ctx.console.error(std::string("unexpected error - ") + e.what() +
                      "\n\nHaving any troubles? Hit us up at https://dvc.org/support, we are always happy to help!");
    return static_cast<int>(ExitCode::error);
  }
}
