// A sub-command: it adds its options to its CLI11 sub-app and returns a runner that gives the
// process exit code (0 ok, 1 image only partly understood / findings, 2 usage or I/O error).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "firmwarden/unpack.h"

namespace firmwarden::cli {

enum ExitCode { kExitOk = 0, kExitPartial = 1, kExitError = 2 };

using Runner = std::function<int()>;

struct Command {
  const char* name;
  const char* summary;
  Runner (*setup)(CLI::App& app);
};

// Adds --max-depth, --max-bytes, --max-ratio, --max-files, --max-seconds to `app`.
void AddLimitOptions(CLI::App& app, Limits& limits);

// Writes `text` to `path`, or stdout when path is empty or "-". Returns false on error (printed).
bool WriteOutput(const std::string& path, const std::string& text);

// Human-readable byte count: "3.4 MiB".
std::string HumanSize(uint64_t n);

#define COMMAND(id, name, summary) Runner Setup_##id(CLI::App& app);
#include "cli/commands/commands.def"
#undef COMMAND

}  // namespace firmwarden::cli
