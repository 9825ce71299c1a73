// firmwarden extract IMAGE -o DIR: unpack every layer into DIR, safely, plus manifest.json.
#include <fmt/format.h>

#include "cli/command.h"
#include "cli/layout_text.h"
#include "report/json.h"

namespace firmwarden::cli {

Runner Setup_extract(CLI::App& app) {
  struct Opts {
    std::string image;
    std::string out_dir;
    bool json = false;
    Limits limits;
  };
  auto o = std::make_shared<Opts>();
  app.description(
      "Unpack IMAGE into DIR, natively and in one process. Each chunk gets a directory named\n"
      "<offset>.<format>; filesystems and archives are written inside it with their real file\n"
      "names, payloads and decompressed streams are scanned again. Nothing is ever written\n"
      "outside DIR: '..' and absolute names, symlinks planted to redirect writes, and hardlinks\n"
      "to outside are refused and reported. Device nodes are never created and setuid bits are\n"
      "never set on disk: DIR/manifest.json records every entry's real type, mode, owner, device\n"
      "numbers and link target.");
  app.add_option("IMAGE", o->image, "Firmware image to unpack")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("-o,--output", o->out_dir, "Output directory (created; must be new or empty)")
      ->required();
  app.add_flag("--json", o->json, "Print the result (layout, trees, diagnostics) as JSON");
  AddLimitOptions(app, o->limits);
  app.footer("Example: firmwarden extract router.bin -o router.out && ls router.out");
  return [o]() -> int {
    UnpackOptions opts;
    opts.limits = o->limits;
    opts.output_dir = o->out_dir;
    auto result = Unpack(o->image, opts);
    if (!result) {
      fmt::print(stderr, "firmwarden: {}\n", result.error().message);
      return kExitError;
    }
    std::string name = o->image.substr(o->image.find_last_of('/') + 1);
    if (o->json) {
      fmt::print("{}\n", report::UnpackedToJson(*result, name)
                             .dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
      fmt::print("{}", LayoutText(*result, name, true));
      fmt::print(
          "extracted {} entries in {} trees, {} written, in {:.2f} s -> {}/ "
          "(metadata: {}/manifest.json)\n",
          result->files.entries().size(), result->files.trees().size(),
          HumanSize(result->stats.output_bytes), result->stats.seconds, o->out_dir, o->out_dir);
      fmt::print(stderr, "{}", DiagnosticsText(*result));
    }
    return result->Clean() ? kExitOk : kExitPartial;
  };
}

}  // namespace firmwarden::cli
