// BusyBox: which binaries are BusyBox and which applets each provides. The applet list is the
// union of the links that point at the binary and the binary's own applet-name table (a sorted run
// of NUL-terminated names), so an applet counts even when the image has no link for it.
#include <algorithm>
#include <cctype>

#include "facts/device_model.h"
#include "facts/text_util.h"

namespace firmwarden::facts {
namespace {

bool AppletChar(char c) {
  return std::islower(static_cast<unsigned char>(c)) ||
         std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
         c == '[';
}

// The longest strictly ascending run of NUL-terminated applet-like names.
std::vector<std::string> AppletTable(std::string_view bin) {
  std::vector<std::string> best, cur;
  size_t i = 0;
  while (i < bin.size()) {
    size_t j = i;
    while (j < bin.size() && j - i <= 32 && AppletChar(bin[j])) ++j;
    bool name = j > i && j < bin.size() && bin[j] == '\0' && j - i <= 32;
    if (name) {
      std::string n(bin.substr(i, j - i));
      if (!cur.empty() && !(cur.back() < n)) {
        if (cur.size() > best.size()) best = cur;
        cur.clear();
      }
      cur.push_back(std::move(n));
      i = j + 1;
    } else {
      if (cur.size() > best.size()) best = cur;
      cur.clear();
      // Skip to the byte after the next NUL: names start right after a terminator.
      size_t nul = bin.find('\0', i);
      if (nul == std::string_view::npos) break;
      i = nul + 1;
    }
  }
  if (cur.size() > best.size()) best = cur;
  if (best.size() < 8) best.clear();
  return best;
}

}  // namespace

void BuildBusyBox(DeviceModel& m) {
  std::vector<std::string> binaries;
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile || !Basename(e->tree_path).starts_with("busybox")) continue;
    auto data = m.fs.ReadEntry(*e, 8 << 20);
    if (!data || !IsElf(*data) || data->find("BusyBox v") == std::string::npos) continue;
    std::string path = RootFs::DevicePath(*e);
    binaries.push_back(path);
    for (std::string& a : AppletTable(*data)) m.busybox_applets.emplace(std::move(a), path);
  }
  if (binaries.empty()) return;
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kSymlink && e->type != EntryType::kHardlink) continue;
    std::string target = m.fs.ResolvePath(RootFs::DevicePath(*e));
    if (std::find(binaries.begin(), binaries.end(), target) != binaries.end())
      m.busybox_applets.emplace(Basename(e->tree_path), target);
  }
}

}  // namespace firmwarden::facts
