// The ELF facts: every ELF file of the root file system, parsed once for all checks. The read of
// each file's first bytes that looks for the ELF magic also recognises packet captures.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "facts/device_model.h"
#include "facts/text_util.h"

namespace firmwarden::facts {

std::optional<CaptureFormat> SniffCapture(std::string_view head) {
  if (head.size() < 12) return std::nullopt;
  static constexpr std::string_view kPcap[] = {"\xd4\xc3\xb2\xa1", "\xa1\xb2\xc3\xd4",
                                               "\x4d\x3c\xb2\xa1", "\xa1\xb2\x3c\x4d"};
  for (std::string_view magic : kPcap)
    if (head.starts_with(magic)) {
      // the version that follows is 2.4 in either byte order
      bool le = head[0] == '\xd4' || head[0] == '\x4d';
      unsigned major =
          le ? static_cast<unsigned char>(head[4]) : static_cast<unsigned char>(head[5]);
      return major == 2 ? std::optional(CaptureFormat::kPcap) : std::nullopt;
    }
  // pcapng: Section Header Block type 0x0A0D0D0A, then the byte-order magic 0x1A2B3C4D.
  if (head.starts_with("\x0a\x0d\x0d\x0a") &&
      (head.substr(8, 4) == "\x4d\x3c\x2b\x1a" || head.substr(8, 4) == "\x1a\x2b\x3c\x4d"))
    return CaptureFormat::kPcapng;
  return std::nullopt;
}

void BuildElf(DeviceModel& m) {
  constexpr uint64_t kMinElfBytes = 52;  // an ELF32 header
  std::vector<const FileEntry*> files;
  for (const FileEntry* e : m.fs.All())
    if (e->type == EntryType::kFile && e->size >= std::min(kMinElfBytes, kMinCaptureFileBytes) &&
        !e->disk_path.empty())
      files.push_back(e);
  struct Slot {
    std::optional<Result<ElfInfo>> parsed;
    bool too_big = false;
    std::optional<CaptureFormat> capture;
  };
  std::vector<Slot> slots(files.size());
  // Embarrassingly parallel: each worker takes the next index, writes only its own slot.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < files.size(); i = next++) {
      // One read of the first bytes serves the ELF magic and the capture magics.
      auto head = m.fs.ReadEntry(*files[i], 16);
      if (!head) continue;
      if (files[i]->size >= kMinCaptureFileBytes) slots[i].capture = SniffCapture(*head);
      if (files[i]->size < kMinElfBytes || !IsElf(*head)) continue;
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
    if (slots[i].capture) m.captures.emplace(path, *slots[i].capture);
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
