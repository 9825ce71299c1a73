// The ELF facts: every ELF file of the root file system, parsed once for all checks.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "facts/device_model.h"

namespace firmwarden::facts {

void BuildElf(DeviceModel& m) {
  std::vector<const FileEntry*> files;
  for (const FileEntry* e : m.fs.All())
    if (e->type == EntryType::kFile && e->size >= 52 && !e->disk_path.empty()) files.push_back(e);
  struct Slot {
    std::optional<Result<ElfInfo>> parsed;
    bool too_big = false;
  };
  std::vector<Slot> slots(files.size());
  // Embarrassingly parallel: each worker takes the next index, writes only its own slot.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < files.size(); i = next++) {
      auto head = m.fs.ReadEntry(*files[i], 4);
      if (!head || *head !=
                       "\x7f"
                       "ELF")
        continue;
      if (files[i]->size > kMaxElfFileBytes) {
        slots[i].too_big = true;
        continue;
      }
      auto bytes = m.fs.ReadEntry(*files[i], kMaxElfFileBytes);
      if (!bytes) continue;
      slots[i].parsed = ParseElf(*bytes);
    }
  };
  unsigned n = std::min<size_t>(2, std::max<size_t>(1, files.size() / 16));
  std::vector<std::jthread> pool;
  for (unsigned t = 1; t < n; ++t) pool.emplace_back(work);
  work();
  pool.clear();  // joins
  for (size_t i = 0; i < files.size(); ++i) {
    std::string path = RootFs::DevicePath(*files[i]);
    if (slots[i].too_big) {
      m.elf_notes.push_back(
          fmt::format("{}: ELF larger than {} MiB not parsed", path, kMaxElfFileBytes >> 20));
    } else if (slots[i].parsed) {
      if (*slots[i].parsed)
        m.elves.emplace(path, std::move(**slots[i].parsed));
      else
        m.elf_notes.push_back(path + ": " + slots[i].parsed->error().ToString());
    }
  }
}

}  // namespace firmwarden::facts
