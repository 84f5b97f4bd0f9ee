// Commands that work on tracked data; each lives in its own file (cmd_<name>.cpp).
#include "app.h"

namespace dvx::cli {

void register_data_commands(CLI::App& app, Action& action) {
  register_add_command(app, action);
  register_commit_command(app, action);
  register_checkout_command(app, action);
  register_status_command(app, action);
  register_diff_command(app, action);
  register_remove_command(app, action);
  register_gc_command(app, action);
  register_list_command(app, action);
}

}  // namespace dvx::cli
