// UBI (Unsorted Block Images): the volume manager that sits between raw NAND and UBIFS.
//
// An UBI image is a run of physical eraseblocks (PEBs) of one size. Each PEB starts with an
// erase-counter header (64 bytes, big-endian, magic "UBI#"), which gives the offset of the volume
// identifier header ("UBI!", 64 bytes) and of the data. The VID header maps the PEB to a logical
// eraseblock (LEB) number of a volume; when two PEBs claim the same LEB (a copy left behind by
// wear-levelling or an interrupted update), the one with the higher sequence number wins. The
// volume table lives in the internal layout volume (id 0x7FFFEFFF, two LEBs holding the same table
// of 172-byte records); each record names a volume, its type and alignment.
//
// parse() measures the chunk (the PEB size is the distance to the next valid EC header), reads the
// table, and hands each volume's LEBs, in order, to the engine as one child blob named after the
// volume (unmapped LEBs read as erased flash, 0xFF). The engine then finds UBIFS (or squashfs…)
// inside. Both header CRCs and the volume table records' CRCs are checked.
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr uint32_t kEcMagic = 0x55424923;   // "UBI#"
constexpr uint32_t kVidMagic = 0x55424921;  // "UBI!"
constexpr size_t kHeaderSize = 64;
constexpr uint32_t kLayoutVolume = 0x7FFFEFFF;
constexpr uint32_t kInternalStart = 0x7FFFEFFF;
constexpr size_t kRecordSize = 172;
constexpr size_t kMaxVolumes = 128;
constexpr size_t kMinPeb = 1024;
constexpr size_t kMaxPeb = 16U << 20;
constexpr size_t kMaxWarnings = 8;

constexpr Magic kMagics[] = {{"UBI#", 0}};

// UBI's CRC-32: the reflected polynomial seeded with all ones and not inverted at the end, which
// is zlib's crc32 inverted.
uint32_t UbiCrc(Bytes b) {
  uLong c = crc32(0L, Z_NULL, 0);
  c = crc32(c, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(b.size()));
  return ~static_cast<uint32_t>(c);
}

struct Ec {
  uint8_t version = 0;
  uint64_t ec = 0;
  uint32_t vid_offset = 0;
  uint32_t data_offset = 0;
  uint32_t image_seq = 0;
};

// An EC header at `pos`, CRC-checked. Errors say what is wrong.
Result<Ec> ReadEc(Bytes d, size_t pos) {
  if (pos > d.size() || d.size() - pos < kHeaderSize)
    return Fail(ErrorCode::kTruncated, "EC header beyond the data", pos);
  Bytes h = d.subspan(pos, kHeaderSize);
  if (*ReadU32(h, 0, Endian::kBig) != kEcMagic)
    return Fail(ErrorCode::kMalformed, "no UBI# magic", pos);
  if (UbiCrc(h.subspan(0, 60)) != *ReadU32(h, 60, Endian::kBig))
    return Fail(ErrorCode::kMalformed, "EC header CRC mismatch", pos);
  Ec e;
  e.version = static_cast<uint8_t>(h[4]);
  e.ec = *ReadU64(h, 8, Endian::kBig);
  e.vid_offset = *ReadU32(h, 16, Endian::kBig);
  e.data_offset = *ReadU32(h, 20, Endian::kBig);
  e.image_seq = *ReadU32(h, 24, Endian::kBig);
  if (e.version != 1) return Fail(ErrorCode::kUnsupported, "UBI version is not 1", pos + 4);
  if (e.vid_offset < kHeaderSize || e.data_offset < e.vid_offset + kHeaderSize ||
      e.vid_offset % 8 != 0)
    return Fail(ErrorCode::kMalformed,
                fmt::format("bad header offsets (VID {}, data {})", e.vid_offset, e.data_offset),
                pos + 16);
  return e;
}

struct Vid {
  uint8_t vol_type = 0;  // 1 dynamic, 2 static
  uint8_t copy_flag = 0;
  uint32_t vol_id = 0;
  uint32_t lnum = 0;
  uint32_t data_size = 0;
  uint32_t used_ebs = 0;
  uint32_t data_pad = 0;
  uint64_t sqnum = 0;
  size_t peb = 0;  // index of the PEB
};

struct Volume {
  uint32_t id = 0;
  uint32_t reserved_pebs = 0;
  uint32_t alignment = 0;
  uint32_t data_pad = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
  std::string name;
};

// Measures the PEB size: the distance from `d[0]` to the next valid EC header with the same
// image sequence number, checked once more one PEB further on (a nested UBI image inside the
// first PEB's data would otherwise be taken for the second PEB).
size_t DetectPebSize(Bytes d, const Ec& first) {
  for (size_t peb = kMinPeb; peb <= kMaxPeb && peb < d.size(); peb *= 2) {
    if (peb <= first.data_offset) continue;
    auto next = ReadEc(d, peb);
    if (!next || next->image_seq != first.image_seq) continue;
    if (2 * peb + kHeaderSize <= d.size()) {
      auto third = ReadEc(d, 2 * peb);
      bool erased = std::all_of(d.begin() + 2 * peb, d.begin() + 2 * peb + kHeaderSize,
                                [](std::byte b) { return b == std::byte{0xFF}; });
      if (!erased && (!third || third->image_seq != first.image_seq)) continue;
    }
    return peb;
  }
  return 0;
}

bool Erased(Bytes b) {
  return std::all_of(b.begin(), b.end(), [](std::byte x) { return x == std::byte{0xFF}; });
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes d = ctx.data.subspan(ctx.offset);
  auto first = ReadEc(d, 0);
  if (!first) return std::unexpected(first.error());
  size_t peb = DetectPebSize(d, *first);
  if (peb == 0) {
    // A single PEB: all that is left of the blob, if that is a plausible size.
    size_t left = d.size();
    if (left >= kMinPeb && left <= kMaxPeb && (left & (left - 1)) == 0 && left > first->data_offset)
      peb = left;
    else
      return Fail(ErrorCode::kMalformed, "UBI: cannot find the eraseblock size", ctx.offset);
  }
  Parsed p;
  std::vector<std::string> warnings;
  auto warn = [&](std::string w) {
    if (warnings.size() < kMaxWarnings) warnings.push_back(std::move(w));
  };
  // Walk PEBs while they carry EC headers; erased PEBs inside the run are kept (free blocks).
  std::vector<Vid> vids;
  size_t last = 0, pebs = 0, bad = 0;
  uint32_t data_offset = first->data_offset;
  for (size_t at = 0; at + kHeaderSize <= d.size(); at += peb) {
    Bytes block = d.subspan(at, std::min(peb, d.size() - at));
    auto ec = ReadEc(d, at);
    if (!ec) {
      if (Erased(block)) continue;
      if (block.size() >= 4 && *ReadU32(block, 0, Endian::kBig) == kEcMagic) {
        warn(fmt::format("PEB at {:#x}: {}", ctx.offset + at, ec.error().message));
        last = at;
        ++bad;
        continue;
      }
      break;
    }
    last = at;
    ++pebs;
    if (ec->image_seq != first->image_seq)
      warn(fmt::format("PEB at {:#x} has image sequence {:#x}, the first one {:#x}",
                       ctx.offset + at, ec->image_seq, first->image_seq));
    if (ec->data_offset >= peb) {
      warn(fmt::format("PEB at {:#x}: data offset {} is beyond the eraseblock", ctx.offset + at,
                       ec->data_offset));
      continue;
    }
    if (ec->data_offset != data_offset)
      warn(fmt::format("PEB at {:#x}: data offset {} differs from {}", ctx.offset + at,
                       ec->data_offset, data_offset));
    if (block.size() < ec->vid_offset + kHeaderSize) continue;
    Bytes vh = block.subspan(ec->vid_offset, kHeaderSize);
    uint32_t magic = *ReadU32(vh, 0, Endian::kBig);
    if (magic == 0xFFFFFFFF && Erased(vh)) continue;  // a free PEB
    if (magic != kVidMagic) {
      warn(fmt::format("PEB at {:#x}: no VID header", ctx.offset + at));
      continue;
    }
    if (UbiCrc(vh.subspan(0, 60)) != *ReadU32(vh, 60, Endian::kBig)) {
      warn(fmt::format("PEB at {:#x}: VID header CRC mismatch", ctx.offset + at));
      continue;
    }
    Vid v;
    v.vol_type = static_cast<uint8_t>(vh[5]);
    v.copy_flag = static_cast<uint8_t>(vh[6]);
    v.vol_id = *ReadU32(vh, 8, Endian::kBig);
    v.lnum = *ReadU32(vh, 12, Endian::kBig);
    v.data_size = *ReadU32(vh, 20, Endian::kBig);
    v.used_ebs = *ReadU32(vh, 24, Endian::kBig);
    v.data_pad = *ReadU32(vh, 28, Endian::kBig);
    v.sqnum = *ReadU64(vh, 40, Endian::kBig);
    v.peb = at / peb;
    vids.push_back(v);
  }
  p.size = last + peb;
  p.truncated = p.size > d.size();
  const size_t leb_size = peb - data_offset;

  // LEB mapping: the highest sequence number wins.
  std::map<std::pair<uint32_t, uint32_t>, const Vid*> map;
  for (const Vid& v : vids) {
    auto& slot = map[{v.vol_id, v.lnum}];
    if (slot == nullptr || v.sqnum > slot->sqnum) slot = &v;
  }
  auto leb_bytes = [&](const Vid& v) -> Bytes {
    size_t at = v.peb * peb + data_offset;
    if (at >= d.size()) return {};
    return d.subspan(at, std::min(leb_size, d.size() - at));
  };

  // The volume table: the first layout LEB whose records all check out.
  std::vector<Volume> volumes;
  bool table = false;
  for (uint32_t lnum : {0U, 1U}) {
    auto it = map.find({kLayoutVolume, lnum});
    if (it == map.end()) continue;
    Bytes t = leb_bytes(*it->second);
    std::vector<Volume> found;
    bool ok = true;
    for (size_t i = 0; i < kMaxVolumes && (i + 1) * kRecordSize <= t.size(); ++i) {
      Bytes rec = t.subspan(i * kRecordSize, kRecordSize);
      if (UbiCrc(rec.subspan(0, 168)) != *ReadU32(rec, 168, Endian::kBig)) {
        warn(fmt::format("volume table copy {}: record {} CRC mismatch", lnum, i));
        ok = false;
        break;
      }
      Volume vol;
      vol.id = static_cast<uint32_t>(i);
      vol.reserved_pebs = *ReadU32(rec, 0, Endian::kBig);
      if (vol.reserved_pebs == 0) continue;
      vol.alignment = *ReadU32(rec, 4, Endian::kBig);
      vol.data_pad = *ReadU32(rec, 8, Endian::kBig);
      vol.type = static_cast<uint8_t>(rec[12]);
      uint16_t name_len = *ReadU16(rec, 14, Endian::kBig);
      vol.name = std::string(AsChars(rec.subspan(16, std::min<size_t>(name_len, 127))));
      vol.flags = static_cast<uint8_t>(rec[144]);
      found.push_back(std::move(vol));
    }
    if (ok) {
      volumes = std::move(found);
      table = true;
      break;
    }
  }
  if (!table) {
    warn("no readable volume table; volumes are named by id");
    std::map<uint32_t, Volume> by_id;
    for (const auto& [key, v] : map)
      if (key.first < kInternalStart)
        by_id[key.first] = Volume{key.first, 0, 1, v->data_pad, v->vol_type, 0, ""};
    for (auto& [id, vol] : by_id) volumes.push_back(vol);
  }

  p.details = {{"peb_size", std::to_string(peb)},
               {"leb_size", std::to_string(leb_size)},
               {"vid_header_offset", std::to_string(first->vid_offset)},
               {"data_offset", std::to_string(data_offset)},
               {"image_seq", fmt::format("{:#x}", first->image_seq)},
               {"pebs", std::to_string(pebs)},
               {"volumes", std::to_string(volumes.size())}};
  if (bad > 0) p.details.push_back({"bad_headers", std::to_string(bad)});

  for (const Volume& vol : volumes) {
    // LEBs of this volume, in order; unmapped ones are erased flash.
    uint32_t max_lnum = 0;
    bool any = false;
    const Vid* last_leb = nullptr;
    for (auto it = map.lower_bound({vol.id, 0}); it != map.end() && it->first.first == vol.id;
         ++it) {
      max_lnum = it->first.second;
      last_leb = it->second;
      any = true;
    }
    std::string name = vol.name.empty() ? fmt::format("volume{}", vol.id) : vol.name;
    p.details.push_back({fmt::format("volume {}", vol.id),
                         fmt::format("{} ({}, {} LEBs reserved)", name,
                                     vol.type == 2 ? "static" : "dynamic", vol.reserved_pebs)});
    if (!any) continue;
    if (table && vol.reserved_pebs != 0 && max_lnum >= vol.reserved_pebs)
      warn(fmt::format("volume {}: LEB {} beyond its {} reserved", name, max_lnum,
                       vol.reserved_pebs));
    if (vol.data_pad >= leb_size) {
      warn(fmt::format("volume {}: data pad {} leaves no room in a LEB", name, vol.data_pad));
      continue;
    }
    const size_t usable = leb_size - vol.data_pad;
    uint64_t total = (uint64_t{max_lnum} + 1) * usable;
    if (vol.type == 2 && last_leb != nullptr && last_leb->used_ebs > 0 &&
        last_leb->data_size <= usable) {
      // A static volume records its exact size in its LEBs' headers.
      total = std::min<uint64_t>(total,
                                 uint64_t{last_leb->used_ebs - 1} * usable + last_leb->data_size);
    }
    if (!ctx.budget.Take(total)) {
      warn(fmt::format("volume {}: {} bytes exceed the unpack budget", name, total));
      continue;
    }
    std::vector<std::byte> buf(total, std::byte{0xFF});
    for (auto it = map.lower_bound({vol.id, 0}); it != map.end() && it->first.first == vol.id;
         ++it) {
      uint64_t at = uint64_t{it->first.second} * usable;
      if (at >= total) continue;
      Bytes src = leb_bytes(*it->second);
      size_t n = std::min<uint64_t>({src.size(), usable, total - at});
      if (n > 0) std::memcpy(buf.data() + at, src.data(), n);
    }
    p.children.push_back({name, Blob::FromVector(std::move(buf))});
  }
  p.warnings = std::move(warnings);
  return p;
}

}  // namespace

extern const FormatHandler ubi_handler{"ubi",
                                       FormatKind::kContainer,
                                       "UBI volume image (erase-counter and volume-id headers)",
                                       kMagics,
                                       Parse,
                                       nullptr};

}  // namespace firmwarden::unpack
