// The Linux kernel: the "Linux version …" banner the unpacker found inside the (decompressed)
// kernel, the uImage header's name ("MIPS OpenWrt Linux-3.3.8"), the /lib/modules/<release>
// directories and the vermagic string of the modules. All give the release as `uname -r` prints
// it; the CPE carries the upstream part (before the first '-' or '+').
#include <fmt/format.h>

#include "facts/text_util.h"
#include "identify/identify.h"

namespace firmwarden::identify {

namespace {

bool LooksLikeRelease(std::string_view v) {
  if (v.empty() || v.size() > 64 || !std::isdigit(static_cast<unsigned char>(v[0]))) return false;
  if (v.find('.') == std::string_view::npos) return false;
  for (char ch : v)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '-' && ch != '_' &&
        ch != '+' && ch != '~')
      return false;
  return true;
}

std::string_view Token(std::string_view s) {
  size_t end = 0;
  while (end < s.size() && s[end] != ' ' && s[end] != '\0' && s[end] != '\n' && s[end] != '\t')
    ++end;
  return s.substr(0, end);
}

Component Kernel(std::string_view release, ComponentEvidence e) {
  Component c;
  c.name = "linux";
  c.version = std::string(release);
  c.type = ComponentType::kOperatingSystem;
  c.description = "Linux kernel";
  c.cpe_vendor = "linux";
  c.cpe_product = "linux_kernel";
  std::string_view upstream = release.substr(0, release.find_first_of("-+"));
  c.cpe = FormatCpe('o', "linux", "linux_kernel", upstream);
  c.evidence.push_back(std::move(e));
  return c;
}

void Walk(const BlobLayout& blob, std::vector<Component>& out, int depth) {
  if (depth > 32) return;
  std::string banner;
  std::optional<uint64_t> offset;
  for (const KeyValue& kv : blob.notes) {
    if (kv.key == "linux_banner" && banner.empty()) banner = kv.value;
    if (kv.key == "linux_banner_offset" && !offset) {
      uint64_t v = 0;
      std::string_view s = kv.value;
      if (s.starts_with("0x")) s.remove_prefix(2);
      bool ok = !s.empty() && s.size() <= 16;
      for (char ch : s) {
        int d = std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0'
                : (ch >= 'a' && ch <= 'f')                   ? ch - 'a' + 10
                : (ch >= 'A' && ch <= 'F')                   ? ch - 'A' + 10
                                                             : -1;
        if (d < 0) ok = false;
        v = v * 16 + static_cast<uint64_t>(std::max(d, 0));
      }
      if (ok) offset = v;
    }
  }
  if (size_t at = banner.find("Linux version "); at != std::string::npos) {
    std::string_view release = Token(std::string_view(banner).substr(at + 14));
    if (LooksLikeRelease(release))
      out.push_back(Kernel(release, {"kernel-banner", "binary-analysis", blob.path, 0, offset,
                                     banner.substr(0, 200), confidence::kBanner}));
  }
  for (const Region& r : blob.regions) {
    if (r.format == "uimage")
      for (const KeyValue& kv : r.details)
        if (kv.key == "name")
          if (size_t at = kv.value.find("Linux-"); at != std::string::npos) {
            std::string_view release = Token(std::string_view(kv.value).substr(at + 6));
            if (LooksLikeRelease(release))
              out.push_back(Kernel(release, {"uimage-name", "filename", r.path, 0, r.offset,
                                             kv.value, confidence::kImageHeaderName}));
          }
    for (const BlobLayout& child : r.children) Walk(child, out, depth + 1);
  }
}

}  // namespace

void Source_kernel(const Context& ctx, std::vector<Component>& out) {
  Walk(ctx.unpacked.layout, out, 0);
  const facts::RootFs& fs = ctx.model.fs;
  if (fs.empty()) return;
  for (const FileEntry* e : fs.List("/lib/modules")) {
    std::string name = facts::Basename(e->tree_path);
    if (e->type == EntryType::kDir && LooksLikeRelease(name))
      out.push_back(Kernel(name, {"kernel-modules-dir", "filename", "/lib/modules/" + name, 0,
                                  std::nullopt, name, confidence::kDirectoryName}));
  }
  // vermagic of the modules: every module of one build carries the same string, so a few do.
  int read = 0;
  for (const FileEntry* e : fs.All()) {
    if (read >= 8) break;
    if (e->type != EntryType::kFile || !e->tree_path.starts_with("lib/modules/") ||
        !e->tree_path.ends_with(".ko"))
      continue;
    ++read;
    auto data = fs.ReadEntry(*e, 16 << 20);
    if (!data) continue;
    size_t at = data->find("vermagic=");
    if (at == std::string::npos) continue;
    std::string_view release = Token(std::string_view(*data).substr(at + 9));
    if (!LooksLikeRelease(release)) continue;
    size_t end = data->find('\0', at);
    std::string text =
        data->substr(at, std::min<size_t>(end == std::string::npos ? 200 : end - at, 200));
    out.push_back(
        Kernel(release, {"module-vermagic", "binary-analysis", facts::RootFs::DevicePath(*e), 0, at,
                         text, confidence::kBanner}));
  }
}

}  // namespace firmwarden::identify
