// firmwarden sbom IMAGE: unpack, identify the components, write CycloneDX 1.6 or SPDX 2.3 JSON.
#include "sbom/sbom.h"

#include <fmt/format.h>
#include <unistd.h>

#include "cli/command.h"
#include "firmwarden/scan.h"

namespace firmwarden::cli {

Runner Setup_sbom(CLI::App& app) {
  struct Opts {
    std::string image;
    std::string format = "cyclonedx";
    std::string out;
    Limits limits;
  };
  auto o = std::make_shared<Opts>();
  app.description(
      "Write the software bill of materials of IMAGE: every component firmwarden can identify,\n"
      "one per product and version, with its identity (CPE 2.3, package URL), hashes, and the\n"
      "evidence for it (which file, which line or offset, how confident).\n"
      "Sources, most confident first: package databases (dpkg status and status.d, opkg status\n"
      "and info/*.control, apk installed), release markers (os-release, openwrt_release and\n"
      "openwrt_version; Buildroot and Yocto through os-release), the Linux kernel (banner in the\n"
      "kernel image, uImage name, /lib/modules/<release>, module vermagic).\n"
      "The document is deterministic: sorted components, stable ids, and the serial number or\n"
      "namespace derived from the image's SHA-256 and the scan time.");
  app.add_option("IMAGE", o->image, "Firmware image")->required()->check(CLI::ExistingFile);
  app.add_option("--format", o->format, "cyclonedx (CycloneDX 1.6 JSON) or spdx (SPDX 2.3 JSON)")
      ->check(CLI::IsMember({"cyclonedx", "spdx"}))
      ->capture_default_str();
  app.add_option("-o,--output", o->out, "Write the SBOM to FILE instead of stdout");
  AddLimitOptions(app, o->limits);
  app.footer(
      "Exit codes: 0 written, 2 usage or I/O error.\n"
      "Examples:   firmwarden sbom router.bin -o router.cdx.json\n"
      "            firmwarden sbom router.bin --format spdx -o router.spdx.json\n"
      "            firmwarden scan router.bin --sbom router.cdx.json   (report and SBOM at once)");
  return [o]() -> int {
    ScanOptions so;
    so.limits = o->limits;
    so.run_checks = false;
    if (isatty(STDERR_FILENO) != 0) fmt::print(stderr, "identifying {} …\n", o->image);
    auto r = Scan(o->image, so);
    if (!r) {
      fmt::print(stderr, "firmwarden: {}\n", r.error().message);
      return kExitError;
    }
    std::string text = sbom::Write(*r, *sbom::ParseFormat(o->format));
    if (!WriteOutput(o->out, text)) return kExitError;
    if (!o->out.empty())
      fmt::print(stderr, "{} components written to {} ({})\n", r->components.size(), o->out,
                 o->format);
    return kExitOk;
  };
}

}  // namespace firmwarden::cli
