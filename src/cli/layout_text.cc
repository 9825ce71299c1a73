#include "cli/layout_text.h"

#include <fmt/format.h>

#include "cli/command.h"

namespace firmwarden::cli {
namespace {

void Render(const BlobLayout& b, const FileTree& files, int depth, bool disk, std::string& out) {
  std::string indent(static_cast<size_t>(depth) * 4, ' ');
  for (const Region& r : b.regions) {
    std::string what;
    switch (r.kind) {
      case Region::Kind::kChunk: {
        what = r.format;
        std::string det;
        for (const KeyValue& kv : r.details) {
          if (!det.empty()) det += ", ";
          det += kv.value.find_first_of(" ,") != std::string::npos
                     ? fmt::format("{}=\"{}\"", kv.key, kv.value)
                     : fmt::format("{}={}", kv.key, kv.value);
        }
        if (r.truncated) det += det.empty() ? "TRUNCATED" : ", TRUNCATED";
        if (!det.empty()) what += "  " + det;
        break;
      }
      case Region::Kind::kPadding:
        what = fmt::format("padding ({})", r.format);
        break;
      case Region::Kind::kUnknown:
        what = fmt::format("unknown, entropy {:.2f} bits/byte", r.entropy);
        break;
    }
    out += fmt::format("{}0x{:08x}  {:>10}  {}\n", indent, r.offset, HumanSize(r.size), what);
    if (disk && !r.disk_path.empty())
      out += fmt::format("{}            -> {}/\n", indent, r.disk_path);
    for (const BlobLayout& c : r.children) {
      out += fmt::format("{}  └─ {} ({}", indent, c.name, HumanSize(c.size));
      if (c.offset_in_parent) out += fmt::format(" at 0x{:x}", *c.offset_in_parent);
      out += ")";
      for (const KeyValue& kv : c.notes)
        if (kv.key == "linux_banner") out += fmt::format("  [{}]", kv.value.substr(0, 100));
      out += "\n";
      if (disk && !c.disk_path.empty())
        out += fmt::format("{}     raw -> {}\n", indent, c.disk_path);
      Render(c, files, depth + 1, disk, out);
    }
  }
}

}  // namespace

std::string LayoutText(const Unpacked& u, const std::string& image_name, bool show_disk_paths) {
  std::string out =
      fmt::format("{}: {} ({} bytes)\n", image_name, HumanSize(u.layout.size), u.layout.size);
  for (const KeyValue& kv : u.layout.notes)
    if (kv.key == "linux_banner") out += fmt::format("  [{}]\n", kv.value.substr(0, 100));
  out += fmt::format("{:<10}  {:>10}  {}\n", "OFFSET", "SIZE", "CONTENT");
  Render(u.layout, u.files, 0, show_disk_paths, out);
  return out;
}

std::string DiagnosticsText(const Unpacked& u) {
  std::string out;
  for (const Diagnostic& d : u.diagnostics) {
    out += fmt::format("{}: {}", SeverityName(d.severity), d.where);
    if (d.offset) out += fmt::format(" @0x{:x}", *d.offset);
    out += fmt::format(": {}\n", d.message);
  }
  return out;
}

}  // namespace firmwarden::cli
