// firmwarden info IMAGE: the layout of an image, without writing anything.
#include <fmt/format.h>

#include "cli/command.h"
#include "cli/layout_text.h"
#include "report/json.h"

namespace firmwarden::cli {

Runner Setup_info(CLI::App& app) {
  struct Opts {
    std::string image;
    bool json = false;
    std::string output;
    Limits limits;
  };
  auto o = std::make_shared<Opts>();
  app.description(
      "Print the layout of IMAGE: the offset, size, format and details of every chunk, nested\n"
      "(payloads, partitions and decompressed streams are scanned again), the padding and unknown\n"
      "gaps between chunks with their entropy, and how many entries each archive or filesystem\n"
      "holds. Nothing is written to disk.");
  app.add_option("IMAGE", o->image, "Firmware image to inspect")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_flag("--json", o->json, "Print machine-readable JSON instead of text");
  app.add_option("-o,--output", o->output, "Write the report to this file instead of stdout");
  AddLimitOptions(app, o->limits);
  app.footer("Example: firmwarden info firmware.bin --json | jq '.layout.regions[].format'");
  return [o]() -> int {
    UnpackOptions opts;
    opts.limits = o->limits;
    auto result = Unpack(o->image, opts);
    if (!result) {
      fmt::print(stderr, "firmwarden: {}\n", result.error().message);
      return kExitError;
    }
    std::string name = o->image.substr(o->image.find_last_of('/') + 1);
    std::string text;
    if (o->json) {
      text = report::UnpackedToJson(*result, name)
                 .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
             "\n";
    } else {
      text = LayoutText(*result, name, false);
      for (size_t i = 0; i < result->files.trees().size(); ++i) {
        const Tree& t = result->files.trees()[i];
        text +=
            fmt::format("tree {}: {} at {} ({} entries)\n", i, t.format, t.chunk, t.entry_count);
      }
    }
    if (!WriteOutput(o->output, text)) return kExitError;
    if (!o->json) fmt::print(stderr, "{}", DiagnosticsText(*result));
    return result->Clean() ? kExitOk : kExitPartial;
  };
}

}  // namespace firmwarden::cli
