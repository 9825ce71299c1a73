// firmwarden: thin entry point. Each sub-command lives in commands/<verb>.cc and is named once in
// commands.def.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <vector>

#include "cli/command.h"

namespace firmwarden::cli {

static const Command kCommands[] = {
#define COMMAND(id, name, summary) {name, summary, Setup_##id},
#include "cli/commands/commands.def"
#undef COMMAND
};

int Main(int argc, char** argv) {
  CLI::App app{
      "firmwarden: unpack a firmware image exactly as a vendor ships it, safely and natively.\n"
      "Run 'firmwarden COMMAND --help' for the options of a command; 'firmwarden formats'\n"
      "lists every format it recognises."};
  app.name("firmwarden");
  app.set_version_flag("--version", std::string("firmwarden 0.1.0"));
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 success, 1 image only partly understood (diagnostics printed),\n"
      "            2 usage or I/O error.\n"
      "Example:    firmwarden info router.bin\n"
      "            firmwarden extract router.bin -o router.out");
  std::vector<Runner> runners;
  std::vector<CLI::App*> subs;
  for (const Command& c : kCommands) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    runners.push_back(c.setup(*sub));
    subs.push_back(sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitError;
  }
  for (size_t i = 0; i < subs.size(); ++i)
    if (subs[i]->parsed()) return runners[i]();
  return kExitError;
}

}  // namespace firmwarden::cli

int main(int argc, char** argv) { return firmwarden::cli::Main(argc, argv); }
