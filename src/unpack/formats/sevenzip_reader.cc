#include "unpack/formats/sevenzip_reader.h"

#include <bzlib.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <lzma.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "core/byte_reader.h"
#include "unpack/formats/lzma_common.h"

namespace firmwarden::unpack::sevenzip {
namespace {

// Property ids of the header (7zFormat.txt).
enum : uint8_t {
  kEnd = 0x00,
  kHeader = 0x01,
  kArchiveProperties = 0x02,
  kAdditionalStreamsInfo = 0x03,
  kMainStreamsInfo = 0x04,
  kFilesInfo = 0x05,
  kPackInfo = 0x06,
  kUnpackInfo = 0x07,
  kSubStreamsInfo = 0x08,
  kSize = 0x09,
  kCrc = 0x0A,
  kFolder = 0x0B,
  kCodersUnpackSize = 0x0C,
  kNumUnpackStream = 0x0D,
  kEmptyStream = 0x0E,
  kEmptyFile = 0x0F,
  kAnti = 0x10,
  kName = 0x11,
  kMTime = 0x14,
  kWinAttributes = 0x15,
  kEncodedHeader = 0x17,
  kDummy = 0x19,
};

// Method ids.
constexpr uint64_t kCopy = 0x00;
constexpr uint64_t kDelta = 0x03;
constexpr uint64_t kArm64 = 0x0A;
constexpr uint64_t kRiscv = 0x0B;
constexpr uint64_t kLzma2 = 0x21;
constexpr uint64_t kLzma = 0x030101;
constexpr uint64_t kX86 = 0x03030103;
constexpr uint64_t kBcj2 = 0x0303011B;
constexpr uint64_t kPpc = 0x03030205;
constexpr uint64_t kIa64 = 0x03030401;
constexpr uint64_t kArm = 0x03030501;
constexpr uint64_t kArmt = 0x03030701;
constexpr uint64_t kSparc = 0x03030805;
constexpr uint64_t kPpmd = 0x030401;
constexpr uint64_t kDeflate = 0x040108;
constexpr uint64_t kDeflate64 = 0x040109;
constexpr uint64_t kBzip2 = 0x040202;
constexpr uint64_t kAes = 0x06F10701;

constexpr size_t kBufSize = 1 << 16;
constexpr uint32_t kAttrReadOnly = 0x01;
constexpr uint32_t kAttrDirectory = 0x10;
constexpr uint32_t kAttrUnixExtension = 0x8000;

// The liblzma filter id of a branch/delta filter, or 0.
lzma_vli LzmaFilterOf(uint64_t id) {
  switch (id) {
    case kDelta:
      return LZMA_FILTER_DELTA;
    case kX86:
      return LZMA_FILTER_X86;
    case kPpc:
      return LZMA_FILTER_POWERPC;
    case kIa64:
      return LZMA_FILTER_IA64;
    case kArm:
      return LZMA_FILTER_ARM;
    case kArmt:
      return LZMA_FILTER_ARMTHUMB;
    case kSparc:
      return LZMA_FILTER_SPARC;
    case kArm64:
      return LZMA_FILTER_ARM64;
    default:
      return 0;
  }
}

bool Supported(uint64_t id) {
  return id == kCopy || id == kLzma || id == kLzma2 || id == kDeflate || id == kBzip2 ||
         LzmaFilterOf(id) != 0;
}

std::string Hex(uint64_t id) {
  std::string h = fmt::format("{:X}", id);
  return h.size() % 2 ? "0" + h : h;
}

// ---------------------------------------------------------------------------------------------
// Header parsing.

class Cursor {
 public:
  Cursor(Bytes data, uint64_t base) : r_(data, base) {}

  uint64_t off() const { return r_.abs_pos(); }
  size_t remaining() const { return r_.remaining(); }

  Result<uint8_t> Byte() { return r_.U8(); }
  Result<uint32_t> U32() { return r_.U32le(); }
  Result<uint64_t> U64() { return r_.U64le(); }
  Result<Bytes> Take(uint64_t n) {
    if (n > r_.remaining()) return Trunc(fmt::format("7z header: {} bytes needed", n));
    return r_.Take(static_cast<size_t>(n));
  }
  Status Skip(uint64_t n) {
    if (n > r_.remaining()) return Trunc(fmt::format("7z header: skip of {} bytes", n));
    return r_.Skip(static_cast<size_t>(n));
  }

  // 7z NUMBER: the first byte's leading 1 bits say how many more little-endian bytes follow; its
  // remaining low bits are the value's top bits.
  Result<uint64_t> Number() {
    auto first = r_.U8();
    if (!first) return Trunc("7z header: number");
    uint64_t value = 0;
    uint8_t mask = 0x80;
    for (int i = 0; i < 8; ++i) {
      if ((*first & mask) == 0) {
        uint64_t high = *first & (mask - 1u);
        return value | (high << (8 * i));
      }
      auto b = r_.U8();
      if (!b) return Trunc("7z header: number");
      value |= static_cast<uint64_t>(*b) << (8 * i);
      mask >>= 1;
    }
    return value;
  }
  // A NUMBER that counts things each taking at least `min_bytes` of the remaining header.
  Result<uint64_t> Count(std::string_view what, uint64_t limit, uint64_t min_bytes = 1) {
    uint64_t at = off();
    auto n = Number();
    if (!n) return n;
    if (*n > limit || (min_bytes > 0 && *n > remaining() / min_bytes))
      return Fail(ErrorCode::kMalformed,
                  fmt::format("7z header: implausible {} count {}", what, *n), at);
    return *n;
  }
  Status Expect(uint8_t id, std::string_view what) {
    uint64_t at = off();
    auto b = Byte();
    if (!b) return Trunc(fmt::format("7z header: {}", what));
    if (*b != id)
      return Fail(ErrorCode::kMalformed,
                  fmt::format("7z header: expected {} (0x{:02X}), found 0x{:02X}", what, id, *b),
                  at);
    return {};
  }
  Result<std::vector<bool>> BitField(uint64_t n) {
    std::vector<bool> out;
    auto bytes = Take((n + 7) / 8);
    if (!bytes) return std::unexpected(bytes.error());
    out.reserve(n);
    for (uint64_t i = 0; i < n; ++i)
      out.push_back((static_cast<uint8_t>((*bytes)[i / 8]) & (0x80 >> (i % 8))) != 0);
    return out;
  }
  // "AllAreDefined" byte, then a bit field unless all are.
  Result<std::vector<bool>> Defined(uint64_t n) {
    auto all = Byte();
    if (!all) return Trunc("7z header: defined flags");
    if (*all != 0) return std::vector<bool>(n, true);
    return BitField(n);
  }
  Result<std::vector<std::optional<uint32_t>>> Digests(uint64_t n) {
    auto def = Defined(n);
    if (!def) return std::unexpected(def.error());
    std::vector<std::optional<uint32_t>> out(n);
    for (uint64_t i = 0; i < n; ++i) {
      if (!(*def)[i]) continue;
      auto c = U32();
      if (!c) return Trunc("7z header: CRCs");
      out[i] = *c;
    }
    return out;
  }
  std::unexpected<Error> Trunc(std::string what) const {
    return Fail(ErrorCode::kTruncated, std::move(what), off());
  }

 private:
  ByteReader r_;
};

// PackInfo + UnpackInfo + SubStreamsInfo.
struct StreamsInfo {
  uint64_t pack_pos = 0;
  std::vector<uint64_t> pack_sizes;
  std::vector<Folder> folders;
  std::vector<uint64_t> sub_sizes;  // every substream, folder by folder
  std::vector<std::optional<uint32_t>> sub_crcs;
  std::vector<uint64_t> sub_folder;  // folder index of each substream
};

Status ReadPackInfo(Cursor& c, StreamsInfo& si) {
  auto pos = c.Number();
  if (!pos) return std::unexpected(pos.error());
  si.pack_pos = *pos;
  auto n = c.Count("pack stream", kMaxFiles);
  if (!n) return std::unexpected(n.error());
  si.pack_sizes.assign(*n, 0);
  while (true) {
    auto id = c.Byte();
    if (!id) return c.Trunc("7z PackInfo");
    if (*id == kEnd) return {};
    if (*id == kSize) {
      for (uint64_t& s : si.pack_sizes) {
        auto v = c.Number();
        if (!v) return std::unexpected(v.error());
        s = *v;
      }
    } else if (*id == kCrc) {
      auto d = c.Digests(*n);
      if (!d) return std::unexpected(d.error());
    } else {
      return Fail(ErrorCode::kMalformed, fmt::format("7z PackInfo: unknown property 0x{:02X}", *id),
                  c.off() - 1);
    }
  }
}

Result<Folder> ReadFolder(Cursor& c) {
  Folder f;
  auto nc = c.Count("coder", kMaxCodersPerFolder);
  if (!nc) return std::unexpected(nc.error());
  if (*nc == 0) return Fail(ErrorCode::kMalformed, "7z folder without coders", c.off());
  uint64_t total_in = 0, total_out = 0;
  for (uint64_t i = 0; i < *nc; ++i) {
    uint64_t at = c.off();
    auto flags = c.Byte();
    if (!flags) return c.Trunc("7z coder");
    if (*flags & 0x80)
      return Fail(ErrorCode::kUnsupported, "7z coder with alternative methods", at);
    size_t id_size = *flags & 0x0F;
    if (id_size > 8) return Fail(ErrorCode::kMalformed, "7z coder id longer than 8 bytes", at);
    auto idb = c.Take(id_size);
    if (!idb) return std::unexpected(idb.error());
    Coder co;
    for (std::byte b : *idb) co.id = (co.id << 8) | static_cast<uint8_t>(b);
    if (*flags & 0x10) {
      auto ni = c.Count("coder stream", 32, 0);
      if (!ni) return std::unexpected(ni.error());
      auto no = c.Count("coder stream", 32, 0);
      if (!no) return std::unexpected(no.error());
      co.num_in = *ni;
      co.num_out = *no;
    }
    if (*flags & 0x20) {
      auto ps = c.Number();
      if (!ps) return std::unexpected(ps.error());
      auto props = c.Take(*ps);
      if (!props) return std::unexpected(props.error());
      co.props.assign(AsChars(*props));
    }
    total_in += co.num_in;
    total_out += co.num_out;
    f.coders.push_back(std::move(co));
  }
  if (total_out == 0) return Fail(ErrorCode::kMalformed, "7z folder without output", c.off());
  for (uint64_t i = 0; i + 1 < total_out; ++i) {
    auto in = c.Number();
    if (!in) return std::unexpected(in.error());
    auto out = c.Number();
    if (!out) return std::unexpected(out.error());
    if (*in >= total_in || *out >= total_out)
      return Fail(ErrorCode::kMalformed, "7z bind pair out of range", c.off());
    f.bind_pairs.emplace_back(*in, *out);
  }
  if (total_in < f.bind_pairs.size())
    return Fail(ErrorCode::kMalformed, "7z folder with more bind pairs than inputs", c.off());
  uint64_t npacked = total_in - f.bind_pairs.size();
  if (npacked == 1) {
    for (uint64_t i = 0; i < total_in; ++i) {
      bool bound = std::any_of(f.bind_pairs.begin(), f.bind_pairs.end(),
                               [&](const auto& bp) { return bp.first == i; });
      if (!bound) {
        f.packed_streams.push_back(i);
        break;
      }
    }
    if (f.packed_streams.empty())
      return Fail(ErrorCode::kMalformed, "7z folder without a packed stream", c.off());
  } else {
    for (uint64_t i = 0; i < npacked; ++i) {
      auto idx = c.Number();
      if (!idx) return std::unexpected(idx.error());
      if (*idx >= total_in) return Fail(ErrorCode::kMalformed, "7z packed stream index", c.off());
      f.packed_streams.push_back(*idx);
    }
  }
  f.unpack_sizes.assign(total_out, 0);
  return f;
}

Status ReadUnpackInfo(Cursor& c, StreamsInfo& si) {
  if (auto s = c.Expect(kFolder, "kFolder"); !s) return s;
  auto n = c.Count("folder", kMaxFiles, 2);
  if (!n) return std::unexpected(n.error());
  auto external = c.Byte();
  if (!external) return c.Trunc("7z UnpackInfo");
  if (*external != 0) return Fail(ErrorCode::kUnsupported, "7z external folder data", c.off() - 1);
  uint64_t first_pack = 0;
  for (uint64_t i = 0; i < *n; ++i) {
    auto f = ReadFolder(c);
    if (!f) return std::unexpected(f.error());
    f->first_pack_stream = first_pack;
    first_pack += f->packed_streams.size();
    si.folders.push_back(std::move(*f));
  }
  if (first_pack > si.pack_sizes.size())
    return Fail(ErrorCode::kMalformed,
                fmt::format("7z folders need {} pack streams, PackInfo has {}", first_pack,
                            si.pack_sizes.size()),
                c.off());
  if (auto s = c.Expect(kCodersUnpackSize, "kCodersUnpackSize"); !s) return s;
  for (Folder& f : si.folders)
    for (uint64_t& s : f.unpack_sizes) {
      auto v = c.Number();
      if (!v) return std::unexpected(v.error());
      s = *v;
    }
  while (true) {
    auto id = c.Byte();
    if (!id) return c.Trunc("7z UnpackInfo");
    if (*id == kEnd) return {};
    if (*id != kCrc)
      return Fail(ErrorCode::kMalformed,
                  fmt::format("7z UnpackInfo: unknown property 0x{:02X}", *id), c.off() - 1);
    auto d = c.Digests(si.folders.size());
    if (!d) return std::unexpected(d.error());
    for (size_t i = 0; i < si.folders.size(); ++i) si.folders[i].crc = (*d)[i];
  }
}

Status ReadSubStreamsInfo(Cursor& c, StreamsInfo& si) {
  for (Folder& f : si.folders) f.num_substreams = 1;
  auto id = c.Byte();
  if (!id) return c.Trunc("7z SubStreamsInfo");
  if (*id == kNumUnpackStream) {
    uint64_t total = 0;
    for (Folder& f : si.folders) {
      auto n = c.Count("substream", kMaxFiles, 0);
      if (!n) return std::unexpected(n.error());
      total += *n;
      if (total > kMaxFiles)
        return Fail(ErrorCode::kMalformed, "7z header: too many substreams", c.off());
      f.num_substreams = *n;
    }
    id = c.Byte();
    if (!id) return c.Trunc("7z SubStreamsInfo");
  }
  bool have_sizes = *id == kSize;
  for (size_t fi = 0; fi < si.folders.size(); ++fi) {
    const Folder& f = si.folders[fi];
    if (f.num_substreams == 0) continue;
    uint64_t folder_size = f.UnpackSize();
    uint64_t sum = 0;
    if (f.num_substreams > 1 && !have_sizes)
      return Fail(ErrorCode::kMalformed, "7z substreams without sizes", c.off());
    if (f.num_substreams - 1 > c.remaining())
      return Fail(ErrorCode::kMalformed, "7z header: implausible substream count", c.off());
    for (uint64_t j = 1; j < f.num_substreams; ++j) {
      auto v = c.Number();
      if (!v) return std::unexpected(v.error());
      if (*v > folder_size - sum)
        return Fail(ErrorCode::kMalformed, "7z substream sizes exceed their folder", c.off());
      sum += *v;
      si.sub_sizes.push_back(*v);
      si.sub_folder.push_back(fi);
    }
    si.sub_sizes.push_back(folder_size - sum);
    si.sub_folder.push_back(fi);
  }
  if (have_sizes) {
    id = c.Byte();
    if (!id) return c.Trunc("7z SubStreamsInfo");
  }
  si.sub_crcs.assign(si.sub_sizes.size(), std::nullopt);
  // Substreams whose CRC is the folder's (a folder with one substream and a folder CRC).
  uint64_t unknown = 0;
  {
    size_t k = 0;
    for (const Folder& f : si.folders) {
      if (f.num_substreams == 1 && f.crc) {
        si.sub_crcs[k] = f.crc;
      } else {
        unknown += f.num_substreams;
      }
      k += f.num_substreams;
    }
  }
  while (*id != kEnd) {
    if (*id != kCrc)
      return Fail(ErrorCode::kMalformed,
                  fmt::format("7z SubStreamsInfo: unknown property 0x{:02X}", *id), c.off() - 1);
    auto d = c.Digests(unknown);
    if (!d) return std::unexpected(d.error());
    size_t k = 0, u = 0;
    for (const Folder& f : si.folders) {
      if (f.num_substreams == 1 && f.crc) {
        ++k;
        continue;
      }
      for (uint64_t j = 0; j < f.num_substreams; ++j) si.sub_crcs[k++] = (*d)[u++];
    }
    id = c.Byte();
    if (!id) return c.Trunc("7z SubStreamsInfo");
  }
  return {};
}

Result<StreamsInfo> ReadStreamsInfo(Cursor& c) {
  StreamsInfo si;
  bool have_unpack = false, have_sub = false;
  while (true) {
    uint64_t at = c.off();
    auto id = c.Byte();
    if (!id) return c.Trunc("7z StreamsInfo");
    if (*id == kEnd) break;
    Status s;
    if (*id == kPackInfo && si.pack_sizes.empty()) {
      s = ReadPackInfo(c, si);
    } else if (*id == kUnpackInfo && !have_unpack) {
      have_unpack = true;
      s = ReadUnpackInfo(c, si);
    } else if (*id == kSubStreamsInfo && have_unpack && !have_sub) {
      have_sub = true;
      s = ReadSubStreamsInfo(c, si);
    } else {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("7z StreamsInfo: unexpected property 0x{:02X}", *id), at);
    }
    if (!s) return std::unexpected(s.error());
  }
  if (!have_sub) {
    for (size_t i = 0; i < si.folders.size(); ++i) {
      si.sub_sizes.push_back(si.folders[i].UnpackSize());
      si.sub_crcs.push_back(si.folders[i].crc);
      si.sub_folder.push_back(i);
    }
  }
  return si;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// NUL-terminated UTF-16LE names, one per file.
Status ReadNames(Bytes data, uint64_t base, std::vector<File>& files) {
  size_t pos = 0;
  auto unit = [&](size_t at) {
    return static_cast<uint16_t>(static_cast<uint8_t>(data[at]) |
                                 (static_cast<uint8_t>(data[at + 1]) << 8));
  };
  for (File& f : files) {
    std::string name;
    while (true) {
      if (pos + 2 > data.size())
        return Fail(ErrorCode::kMalformed, "7z file names end early", base + pos);
      uint32_t u = unit(pos);
      pos += 2;
      if (u == 0) break;
      if (u >= 0xD800 && u < 0xDC00 && pos + 2 <= data.size()) {
        uint32_t lo = unit(pos);
        if (lo >= 0xDC00 && lo < 0xE000) {
          pos += 2;
          u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        } else {
          u = 0xFFFD;
        }
      } else if (u >= 0xD800 && u < 0xE000) {
        u = 0xFFFD;
      }
      AppendUtf8(name, u);
    }
    f.name = std::move(name);
  }
  return {};
}

int64_t FileTimeToUnix(uint64_t ft) {
  return static_cast<int64_t>(ft / 10000000ULL) - 11644473600LL;
}

Status ReadFilesInfo(Cursor& c, std::vector<File>& files) {
  auto n = c.Count("file", kMaxFiles);
  if (!n) return std::unexpected(n.error());
  files.assign(*n, File{});
  std::vector<bool> empty_stream(*n, false), empty_file, anti;
  uint64_t num_empty = 0;
  while (true) {
    uint64_t at = c.off();
    auto type = c.Byte();
    if (!type) return c.Trunc("7z FilesInfo");
    if (*type == kEnd) break;
    auto size = c.Number();
    if (!size) return std::unexpected(size.error());
    auto body = c.Take(*size);
    if (!body) return std::unexpected(body.error());
    uint64_t body_off = c.off() - *size;
    Cursor p(*body, body_off);
    switch (*type) {
      case kEmptyStream: {
        auto bits = p.BitField(*n);
        if (!bits) return std::unexpected(bits.error());
        empty_stream = std::move(*bits);
        num_empty =
            static_cast<uint64_t>(std::count(empty_stream.begin(), empty_stream.end(), true));
        empty_file.assign(num_empty, false);
        anti.assign(num_empty, false);
        break;
      }
      case kEmptyFile:
      case kAnti: {
        auto bits = p.BitField(num_empty);
        if (!bits) return std::unexpected(bits.error());
        (*type == kEmptyFile ? empty_file : anti) = std::move(*bits);
        break;
      }
      case kName: {
        auto ext = p.Byte();
        if (!ext) return p.Trunc("7z names");
        if (*ext != 0) return Fail(ErrorCode::kUnsupported, "7z external names", body_off);
        auto rest = p.Take(p.remaining());
        if (!rest) return std::unexpected(rest.error());
        if (auto s = ReadNames(*rest, body_off + 1, files); !s) return s;
        break;
      }
      case kMTime:
      case kWinAttributes: {
        auto def = p.Defined(*n);
        if (!def) return std::unexpected(def.error());
        auto ext = p.Byte();
        if (!ext) return p.Trunc("7z file property");
        if (*ext != 0) return Fail(ErrorCode::kUnsupported, "7z external file property", at);
        for (uint64_t i = 0; i < *n; ++i) {
          if (!(*def)[i]) continue;
          if (*type == kMTime) {
            auto v = p.U64();
            if (!v) return p.Trunc("7z mtimes");
            files[i].mtime = FileTimeToUnix(*v);
          } else {
            auto v = p.U32();
            if (!v) return p.Trunc("7z attributes");
            files[i].attrib = *v;
          }
        }
        break;
      }
      default:  // kCTime, kATime, kDummy, kStartPos and anything newer: skipped by size
        break;
    }
  }
  uint64_t e = 0;
  for (uint64_t i = 0; i < *n; ++i) {
    File& f = files[i];
    if (!empty_stream[i]) continue;
    f.has_stream = false;
    bool is_empty_file = e < empty_file.size() && empty_file[e];
    f.is_anti = e < anti.size() && anti[e];
    f.is_dir = !is_empty_file;
    ++e;
  }
  return {};
}

std::string_view kSignature("7z\xBC\xAF\x27\x1C", 6);

}  // namespace

uint64_t Folder::UnpackSize() const {
  for (size_t i = unpack_sizes.size(); i-- > 0;) {
    bool bound = std::any_of(bind_pairs.begin(), bind_pairs.end(),
                             [&](const auto& bp) { return bp.second == i; });
    if (!bound) return unpack_sizes[i];
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Decoding: a pull pipeline of stages, from the packed bytes up to the folder's output.

namespace {

class Stage {
 public:
  virtual ~Stage() = default;
  // Up to n bytes; 0 only at the end of the stream.
  virtual Result<size_t> Read(std::byte* out, size_t n) = 0;
};

class SourceStage : public Stage {
 public:
  explicit SourceStage(Bytes data) : data_(data) {}
  Result<size_t> Read(std::byte* out, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    if (k > 0) std::memcpy(out, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  Bytes data_;
  size_t pos_ = 0;
};

// Input buffering shared by the library-backed stages.
class BufferedStage : public Stage {
 protected:
  explicit BufferedStage(std::unique_ptr<Stage> up, size_t headroom = 0)
      : up_(std::move(up)), buf_(kBufSize + headroom) {}
  // Refills when empty. Returns false at the upstream's end.
  Result<bool> Fill() {
    if (pos_ < len_) return true;
    if (eof_) return false;
    auto n = up_->Read(buf_.data(), kBufSize);
    if (!n) return std::unexpected(n.error());
    pos_ = 0;
    len_ = *n;
    if (*n == 0) eof_ = true;
    return *n > 0;
  }
  std::unique_ptr<Stage> up_;
  std::vector<std::byte> buf_;
  size_t pos_ = 0, len_ = 0;
  bool eof_ = false;
};

// A liblzma raw decoder over up to four filters. With `wrap` the input is not LZMA data: the chain
// ends in an LZMA2 decoder that we feed the upstream bytes as LZMA2 "uncompressed" chunks, so
// liblzma's branch filters also run over Copy, Deflate or BZip2 output.
class LzmaStage : public Stage {
 public:
  static Result<std::unique_ptr<Stage>> Make(std::unique_ptr<Stage> up,
                                             std::vector<const Coder*> filters, const Coder* lz,
                                             uint64_t lz_out_size, uint64_t offset) {
    std::unique_ptr<LzmaStage> st(new LzmaStage(std::move(up), lz == nullptr));
    std::array<lzma_filter, LZMA_FILTERS_MAX + 1> chain{};
    size_t k = 0;
    for (const Coder* f : filters) {  // output side first
      lzma_filter& lf = chain[k];
      lf.id = LzmaFilterOf(f->id);
      if (f->id == kDelta) {
        if (f->props.size() != 1) return Fail(ErrorCode::kMalformed, "7z Delta properties", offset);
        st->delta_[k] = lzma_options_delta{};
        st->delta_[k].type = LZMA_DELTA_TYPE_BYTE;
        st->delta_[k].dist = static_cast<uint8_t>(f->props[0]) + 1u;
        lf.options = &st->delta_[k];
      } else if (f->props.size() == 4) {
        st->bcj_[k] = lzma_options_bcj{};
        Bytes p = AsBytes(f->props);
        st->bcj_[k].start_offset = *ReadU32(p, 0, Endian::kLittle);
        lf.options = &st->bcj_[k];
      } else if (!f->props.empty()) {
        return Fail(ErrorCode::kUnsupported,
                    fmt::format("7z {} filter properties", MethodName(f->id)), offset);
      }
      ++k;
    }
    lzma_options_lzma& lo = st->lzma_;
    uint64_t cap = std::max<uint64_t>(lz_out_size, LZMA_DICT_SIZE_MIN);
    if (lz == nullptr) {
      lzma_lzma_preset(&lo, 0);
      lo.dict_size = 1u << 20;
      chain[k].id = LZMA_FILTER_LZMA2;
    } else {
      lzma_vli id = lz->id == kLzma ? LZMA_FILTER_LZMA1 : LZMA_FILTER_LZMA2;
      if ((id == LZMA_FILTER_LZMA1 && lz->props.size() != 5) ||
          (id == LZMA_FILTER_LZMA2 && lz->props.size() != 1))
        return Fail(ErrorCode::kMalformed, fmt::format("7z {} properties", MethodName(lz->id)),
                    offset);
      lzma_filter tmp{id, nullptr};
      if (lzma_properties_decode(&tmp, nullptr, reinterpret_cast<const uint8_t*>(lz->props.data()),
                                 lz->props.size()) != LZMA_OK)
        return Fail(ErrorCode::kMalformed,
                    fmt::format("7z {} properties invalid", MethodName(lz->id)), offset);
      lo = *static_cast<lzma_options_lzma*>(tmp.options);
      free(tmp.options);
      // A dictionary larger than the output is never used; bound the decoder's allocation by the
      // data's real size.
      if (lo.dict_size > cap) lo.dict_size = static_cast<uint32_t>(cap);
      if (id == LZMA_FILTER_LZMA1) {
        // 7z's LZMA streams have no end marker: LZMA1EXT knows the size and stops there.
        id = LZMA_FILTER_LZMA1EXT;
        lo.ext_flags = LZMA_LZMA1EXT_ALLOW_EOPM;
        lo.ext_size_low = static_cast<uint32_t>(lz_out_size);
        lo.ext_size_high = static_cast<uint32_t>(lz_out_size >> 32);
      }
      chain[k].id = id;
    }
    chain[k].options = &lo;
    chain[k + 1].id = LZMA_VLI_UNKNOWN;
    uint64_t mem = lzma_raw_decoder_memusage(chain.data());
    if (mem == UINT64_MAX) return Fail(ErrorCode::kMalformed, "7z filter chain invalid", offset);
    if (mem > kLzmaMemLimit)
      return Fail(ErrorCode::kLimit, fmt::format("7z decoder needs {} bytes of memory", mem),
                  offset);
    if (lzma_raw_decoder(&st->s_, chain.data()) != LZMA_OK)
      return Fail(ErrorCode::kMalformed, "7z: liblzma refused the filter chain", offset);
    st->live_ = true;
    return std::unique_ptr<Stage>(std::move(st));
  }
  ~LzmaStage() override {
    if (live_) lzma_end(&s_);
  }

  Result<size_t> Read(std::byte* out, size_t n) override {
    if (done_ || n == 0) return 0;
    s_.next_out = reinterpret_cast<uint8_t*>(out);
    s_.avail_out = n;
    while (s_.avail_out == n) {
      if (s_.avail_in == 0) {
        auto more = Fill();
        if (!more) return std::unexpected(more.error());
      }
      lzma_action action = s_.avail_in == 0 && in_eof_ ? LZMA_FINISH : LZMA_RUN;
      lzma_ret r = lzma_code(&s_, action);
      if (r == LZMA_STREAM_END) {
        done_ = true;
        break;
      }
      // No progress possible: with LZMA_FINISH the input ended early; with input left the
      // decoder is stuck, which is an error too (never loop on it).
      if (r == LZMA_BUF_ERROR) return Fail(ErrorCode::kTruncated, "7z LZMA data ends early");
      if (r != LZMA_OK)
        return Fail(ErrorCode::kMalformed,
                    fmt::format("7z LZMA data corrupt (liblzma {})", static_cast<int>(r)));
    }
    return n - s_.avail_out;
  }

 private:
  LzmaStage(std::unique_ptr<Stage> up, bool wrap)
      : up_(std::move(up)), wrap_(wrap), buf_(kBufSize + 3) {}

  Result<bool> Fill() {
    if (in_eof_) return false;
    size_t head = wrap_ ? 3 : 0;
    auto n = up_->Read(buf_.data() + head, kBufSize);
    if (!n) return std::unexpected(n.error());
    if (*n == 0) {
      if (wrap_ && !end_sent_) {  // LZMA2 end marker
        buf_[0] = std::byte{0};
        s_.next_in = reinterpret_cast<const uint8_t*>(buf_.data());
        s_.avail_in = 1;
        end_sent_ = true;
        return true;
      }
      in_eof_ = true;
      return false;
    }
    if (wrap_) {  // uncompressed chunk: 1 = with dictionary reset (first), 2 = without
      buf_[0] = std::byte{static_cast<uint8_t>(first_ ? 1 : 2)};
      buf_[1] = std::byte{static_cast<uint8_t>((*n - 1) >> 8)};
      buf_[2] = std::byte{static_cast<uint8_t>((*n - 1) & 0xFF)};
      first_ = false;
    }
    s_.next_in = reinterpret_cast<const uint8_t*>(buf_.data());
    s_.avail_in = *n + head;
    return true;
  }

  std::unique_ptr<Stage> up_;
  bool wrap_;
  std::vector<std::byte> buf_;
  lzma_stream s_ = LZMA_STREAM_INIT;
  bool live_ = false, done_ = false, in_eof_ = false, end_sent_ = false, first_ = true;
  lzma_options_lzma lzma_{};
  std::array<lzma_options_bcj, LZMA_FILTERS_MAX> bcj_{};
  std::array<lzma_options_delta, LZMA_FILTERS_MAX> delta_{};
};

class InflateStage : public BufferedStage {
 public:
  static Result<std::unique_ptr<Stage>> Make(std::unique_ptr<Stage> up, uint64_t offset) {
    std::unique_ptr<InflateStage> st(new InflateStage(std::move(up)));
    if (inflateInit2(&st->z_, -15) != Z_OK)
      return Fail(ErrorCode::kIo, "7z: inflateInit2 failed", offset);
    st->live_ = true;
    return std::unique_ptr<Stage>(std::move(st));
  }
  ~InflateStage() override {
    if (live_) inflateEnd(&z_);
  }
  Result<size_t> Read(std::byte* out, size_t n) override {
    if (done_ || n == 0) return 0;
    uInt want = static_cast<uInt>(std::min<size_t>(n, UINT32_MAX));
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = want;
    while (z_.avail_out == want) {
      auto more = Fill();
      if (!more) return std::unexpected(more.error());
      if (!*more) return Fail(ErrorCode::kTruncated, "7z Deflate data ends early");
      z_.next_in = reinterpret_cast<Bytef*>(buf_.data() + pos_);
      z_.avail_in = static_cast<uInt>(len_ - pos_);
      int r = inflate(&z_, Z_NO_FLUSH);
      pos_ = len_ - z_.avail_in;
      if (r == Z_STREAM_END) {
        done_ = true;
        break;
      }
      if (r != Z_OK)
        return Fail(ErrorCode::kMalformed, fmt::format("7z Deflate data corrupt (zlib {})", r));
    }
    return want - z_.avail_out;
  }

 private:
  explicit InflateStage(std::unique_ptr<Stage> up) : BufferedStage(std::move(up)) {}
  z_stream z_{};
  bool live_ = false, done_ = false;
};

class Bzip2Stage : public BufferedStage {
 public:
  static Result<std::unique_ptr<Stage>> Make(std::unique_ptr<Stage> up, uint64_t offset) {
    std::unique_ptr<Bzip2Stage> st(new Bzip2Stage(std::move(up)));
    if (BZ2_bzDecompressInit(&st->b_, 0, 0) != BZ_OK)
      return Fail(ErrorCode::kIo, "7z: BZ2_bzDecompressInit failed", offset);
    st->live_ = true;
    return std::unique_ptr<Stage>(std::move(st));
  }
  ~Bzip2Stage() override {
    if (live_) BZ2_bzDecompressEnd(&b_);
  }
  Result<size_t> Read(std::byte* out, size_t n) override {
    if (done_ || n == 0) return 0;
    unsigned want = static_cast<unsigned>(std::min<size_t>(n, UINT32_MAX));
    b_.next_out = reinterpret_cast<char*>(out);
    b_.avail_out = want;
    while (b_.avail_out == want) {
      auto more = Fill();
      if (!more) return std::unexpected(more.error());
      if (!*more) {
        if (between_streams_) {  // a clean end after a complete stream
          done_ = true;
          break;
        }
        return Fail(ErrorCode::kTruncated, "7z BZip2 data ends early");
      }
      if (between_streams_) {  // 7-Zip's multithreaded encoder may write several streams
        BZ2_bzDecompressEnd(&b_);
        live_ = false;
        b_ = bz_stream{};
        if (BZ2_bzDecompressInit(&b_, 0, 0) != BZ_OK)
          return Fail(ErrorCode::kIo, "7z: BZ2_bzDecompressInit failed");
        live_ = true;
        between_streams_ = false;
      }
      b_.next_in = reinterpret_cast<char*>(buf_.data() + pos_);
      b_.avail_in = static_cast<unsigned>(len_ - pos_);
      unsigned in_before = b_.avail_in;
      int r = BZ2_bzDecompress(&b_);
      pos_ = len_ - b_.avail_in;
      if (r == BZ_OK && b_.avail_in == in_before && b_.avail_out == want)
        return Fail(ErrorCode::kMalformed, "7z BZip2 decoder made no progress");
      if (r == BZ_STREAM_END) {
        between_streams_ = true;
        if (b_.avail_out != want) break;
        continue;
      }
      if (r != BZ_OK)
        return Fail(ErrorCode::kMalformed, fmt::format("7z BZip2 data corrupt (libbz2 {})", r));
    }
    return want - b_.avail_out;
  }

 private:
  explicit Bzip2Stage(std::unique_ptr<Stage> up) : BufferedStage(std::move(up)) {}
  bz_stream b_{};
  bool live_ = false, done_ = false, between_streams_ = false;
};

// The coders of a folder from its output back to its packed stream, or an error for a shape we do
// not decode (several packed streams, multi-stream coders such as BCJ2, unknown methods).
Result<std::vector<size_t>> Chain(const Folder& f, uint64_t offset) {
  for (const Coder& c : f.coders) {
    if (c.id == kAes)
      return Fail(ErrorCode::kUnsupported, "7z encrypted (AES) folder not supported", offset);
    if (!Supported(c.id))
      return Fail(ErrorCode::kUnsupported,
                  fmt::format("7z codec {} ({}) not supported", Hex(c.id), MethodName(c.id)),
                  offset);
    if (c.num_in != 1 || c.num_out != 1)
      return Fail(ErrorCode::kUnsupported,
                  fmt::format("7z codec {} with several streams not supported", MethodName(c.id)),
                  offset);
  }
  if (f.packed_streams.size() != 1 || f.bind_pairs.size() + 1 != f.coders.size())
    return Fail(ErrorCode::kUnsupported, "7z folder shape not supported", offset);
  // With one in and one out stream per coder, stream index i is coder i.
  size_t cur = f.coders.size();
  for (size_t i = 0; i < f.coders.size(); ++i) {
    bool bound = std::any_of(f.bind_pairs.begin(), f.bind_pairs.end(),
                             [&](const auto& bp) { return bp.second == i; });
    if (!bound) {
      cur = i;
      break;
    }
  }
  std::vector<size_t> order;
  while (true) {
    if (cur >= f.coders.size() || order.size() >= f.coders.size())
      return Fail(ErrorCode::kMalformed, "7z folder coders do not form a chain", offset);
    order.push_back(cur);
    auto bp = std::find_if(f.bind_pairs.begin(), f.bind_pairs.end(),
                           [&](const auto& p) { return p.first == cur; });
    if (bp == f.bind_pairs.end()) break;
    cur = static_cast<size_t>(bp->second);
  }
  if (order.size() != f.coders.size() || f.packed_streams[0] != order.back())
    return Fail(ErrorCode::kMalformed, "7z folder coders do not form a chain", offset);
  return order;
}

Result<std::unique_ptr<Stage>> OpenFolder(const Folder& f, Bytes packed, uint64_t offset) {
  auto order = Chain(f, offset);
  if (!order) return std::unexpected(order.error());
  std::unique_ptr<Stage> cur = std::make_unique<SourceStage>(packed);
  size_t i = order->size();
  while (i > 0) {
    size_t ci = (*order)[--i];
    const Coder& c = f.coders[ci];
    if (c.id == kCopy) continue;
    if (c.id == kDeflate || c.id == kBzip2) {
      auto st = c.id == kDeflate ? InflateStage::Make(std::move(cur), offset)
                                 : Bzip2Stage::Make(std::move(cur), offset);
      if (!st) return st;
      cur = std::move(*st);
      continue;
    }
    const Coder* lz = nullptr;
    uint64_t lz_size = 0;
    std::vector<const Coder*> filters;  // pack side first for now
    if (c.id == kLzma || c.id == kLzma2) {
      lz = &c;
      lz_size = f.unpack_sizes[ci];
    } else {
      filters.push_back(&c);
    }
    while (i > 0 && filters.size() < LZMA_FILTERS_MAX - 1 &&
           LzmaFilterOf(f.coders[(*order)[i - 1]].id) != 0)
      filters.push_back(&f.coders[(*order)[--i]]);
    std::reverse(filters.begin(), filters.end());
    auto st = LzmaStage::Make(std::move(cur), std::move(filters), lz, lz_size, offset);
    if (!st) return st;
    cur = std::move(*st);
  }
  return cur;
}

// Decodes the header stored in the folders of an kEncodedHeader's StreamsInfo.
Result<std::string> DecodeHeader(const StreamsInfo& si, Bytes chunk, uint64_t base,
                                 uint64_t max_header, uint64_t at) {
  if (si.folders.empty()) return Fail(ErrorCode::kMalformed, "7z encoded header without data", at);
  std::string out;
  uint64_t pos = 32 + si.pack_pos;
  size_t pack = 0;
  for (const Folder& f : si.folders) {
    uint64_t size = f.UnpackSize();
    if (size > max_header - out.size())
      return Fail(ErrorCode::kLimit, fmt::format("7z header of {} bytes is too large", size), at);
    if (f.packed_streams.size() != 1 || f.first_pack_stream != pack)
      return Fail(ErrorCode::kUnsupported, "7z encoded header folder shape", at);
    uint64_t psize = si.pack_sizes[pack++];
    if (pos > chunk.size() || psize > chunk.size() - pos)
      return Fail(ErrorCode::kTruncated, "7z encoded header's packed data lies outside the archive",
                  base + std::min<uint64_t>(pos, chunk.size()));
    auto st = OpenFolder(f, chunk.subspan(pos, psize), base + pos);
    if (!st) return std::unexpected(st.error());
    size_t start = out.size();
    out.resize(start + size);
    uint64_t got = 0;
    while (got < size) {
      auto n = (*st)->Read(reinterpret_cast<std::byte*>(out.data() + start + got),
                           std::min<uint64_t>(size - got, kBufSize));
      if (!n) return std::unexpected(Error{n.error().code, n.error().message, base + pos});
      if (*n == 0)
        return Fail(ErrorCode::kTruncated, "7z encoded header decodes short", base + pos);
      got += *n;
    }
    if (f.crc && static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(out.data() + start),
                                             static_cast<uInt>(size))) != *f.crc)
      return Fail(ErrorCode::kMalformed, "7z encoded header CRC mismatch", base + pos);
    pos += psize;
  }
  return out;
}

uint32_t Crc(uint32_t crc, Bytes b) {
  return static_cast<uint32_t>(
      crc32(crc, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(b.size())));
}

}  // namespace

Result<Archive> ReadArchive(Bytes chunk, uint64_t base, uint64_t max_header) {
  max_header = std::min(max_header, kMaxHeaderSize);
  if (chunk.size() < 32) return Fail(ErrorCode::kTruncated, "7z signature header", base);
  if (AsChars(chunk.first(6)) != kSignature)
    return Fail(ErrorCode::kMalformed, "not a 7z signature", base);
  uint32_t start_crc = *ReadU32(chunk, 8, Endian::kLittle);
  uint64_t next_off = *ReadU64(chunk, 12, Endian::kLittle);
  uint64_t next_size = *ReadU64(chunk, 20, Endian::kLittle);
  uint32_t next_crc = *ReadU32(chunk, 28, Endian::kLittle);
  if (Crc(0, chunk.subspan(12, 20)) != start_crc)
    return Fail(ErrorCode::kMalformed, "7z start header CRC", base + 8);
  if (next_off > chunk.size() - 32 || next_size > chunk.size() - 32 - next_off)
    return Fail(ErrorCode::kTruncated, "7z header lies outside the archive", base + 12);
  if (next_size > max_header)
    return Fail(ErrorCode::kLimit, fmt::format("7z header of {} bytes is too large", next_size),
                base + 20);
  Archive a;
  a.header_offset = 32 + next_off;
  Bytes header = chunk.subspan(a.header_offset, next_size);
  if (Crc(0, header) != next_crc)
    return Fail(ErrorCode::kMalformed, "7z header CRC mismatch", base + a.header_offset);
  if (next_size == 0) return a;  // an empty archive

  std::string decoded;  // holds the real header when it was encoded
  uint64_t hbase = base + a.header_offset;
  for (int round = 0;; ++round) {
    Cursor c(header, hbase);
    auto id = c.Byte();
    if (!id) return c.Trunc("7z header");
    if (*id == kEncodedHeader) {
      if (round > 0) return Fail(ErrorCode::kMalformed, "7z header encoded twice", hbase);
      a.encoded_header = true;
      auto si = ReadStreamsInfo(c);
      if (!si) return std::unexpected(si.error());
      auto h = DecodeHeader(*si, chunk, base, max_header, hbase);
      if (!h) return std::unexpected(h.error());
      decoded = std::move(*h);
      header = AsBytes(decoded);
      hbase = base + a.header_offset;  // decoded bytes: offsets point at the encoded header
      continue;
    }
    if (*id != kHeader)
      return Fail(ErrorCode::kMalformed, fmt::format("7z header starts with 0x{:02X}", *id), hbase);

    auto next = c.Byte();
    if (!next) return c.Trunc("7z header");
    if (*next == kArchiveProperties) {
      while (true) {
        auto t = c.Byte();
        if (!t) return c.Trunc("7z archive properties");
        if (*t == kEnd) break;
        auto sz = c.Number();
        if (!sz) return std::unexpected(sz.error());
        if (auto s = c.Skip(*sz); !s) return std::unexpected(s.error());
      }
      next = c.Byte();
      if (!next) return c.Trunc("7z header");
    }
    if (*next == kAdditionalStreamsInfo) {
      auto si = ReadStreamsInfo(c);  // read and ignored (7-Zip never writes it)
      if (!si) return std::unexpected(si.error());
      next = c.Byte();
      if (!next) return c.Trunc("7z header");
    }
    StreamsInfo si;
    if (*next == kMainStreamsInfo) {
      auto s = ReadStreamsInfo(c);
      if (!s) return std::unexpected(s.error());
      si = std::move(*s);
      next = c.Byte();
      if (!next) return c.Trunc("7z header");
    }
    if (*next == kFilesInfo) {
      if (auto s = ReadFilesInfo(c, a.files); !s) return std::unexpected(s.error());
      next = c.Byte();
      if (!next) return c.Trunc("7z header");
    }
    if (*next != kEnd)
      return Fail(ErrorCode::kMalformed, fmt::format("7z header: unexpected 0x{:02X}", *next),
                  c.off() - 1);

    // Lay out the pack streams.
    uint64_t pos = 32 + si.pack_pos;
    if (si.pack_pos > chunk.size())
      return Fail(ErrorCode::kMalformed, "7z pack position outside the archive", hbase);
    for (uint64_t s : si.pack_sizes) {
      if (s > chunk.size() || pos > chunk.size() - s)
        return Fail(ErrorCode::kTruncated, "7z packed streams extend past the archive", hbase);
      a.pack_offsets.push_back(pos);
      pos += s;
    }
    a.pack_pos = 32 + si.pack_pos;
    a.pack_sizes = std::move(si.pack_sizes);
    a.folders = std::move(si.folders);
    // Files with data take the substreams in order.
    size_t k = 0;
    for (File& f : a.files) {
      if (!f.has_stream) continue;
      if (k >= si.sub_sizes.size())
        return Fail(ErrorCode::kMalformed, "7z: more files with data than streams", hbase);
      f.size = si.sub_sizes[k];
      f.crc = si.sub_crcs[k];
      f.folder = si.sub_folder[k];
      ++k;
    }
    if (k != si.sub_sizes.size())
      return Fail(ErrorCode::kMalformed,
                  fmt::format("7z: {} streams but {} files with data", si.sub_sizes.size(), k),
                  hbase);
    return a;
  }
}

std::string MethodName(uint64_t id) {
  switch (id) {
    case kCopy:
      return "Copy";
    case kDelta:
      return "Delta";
    case kArm64:
      return "ARM64";
    case kRiscv:
      return "RISCV";
    case kLzma2:
      return "LZMA2";
    case kLzma:
      return "LZMA";
    case kX86:
      return "BCJ";
    case kBcj2:
      return "BCJ2";
    case kPpc:
      return "PPC";
    case kIa64:
      return "IA64";
    case kArm:
      return "ARM";
    case kArmt:
      return "ARMT";
    case kSparc:
      return "SPARC";
    case kPpmd:
      return "PPMD";
    case kDeflate:
      return "Deflate";
    case kDeflate64:
      return "Deflate64";
    case kBzip2:
      return "BZip2";
    case kAes:
      return "7zAES";
    default:
      return Hex(id);
  }
}

std::string Methods(const Archive& a) {
  std::vector<std::string> seen;
  for (const Folder& f : a.folders)
    for (const Coder& c : f.coders) {
      std::string n = MethodName(c.id);
      if (std::find(seen.begin(), seen.end(), n) == seen.end()) seen.push_back(n);
    }
  return fmt::format("{}", fmt::join(seen, ", "));
}

bool CanDecode(const Archive& a) {
  for (const Folder& f : a.folders)
    if (!Chain(f, 0)) return false;
  return true;
}

bool NeedsOwnDecoder(const Archive& a) {
  for (const Folder& f : a.folders) {
    auto order = Chain(f, 0);
    if (!order) continue;
    for (size_t i = 0; i < order->size(); ++i) {
      uint64_t id = f.coders[(*order)[i]].id;
      // libarchive 3.6 has no ARM64 filter at all.
      if (id == kArm64) return true;
      // It runs branch filters other than x86 BCJ (and Delta) only through liblzma, i.e. right
      // on top of an LZMA/LZMA2 coder ("Unsupported filter ... for 0 / 40202"). Over LZMA1 it
      // gives liblzma no end for the stream, so a filter holding back the last bytes of the
      // folder fails ("Damaged 7-Zip archive", seen with SPARC and ARMT).
      if (LzmaFilterOf(id) != 0 && id != kX86 && id != kDelta) {
        uint64_t below = i + 1 < order->size() ? f.coders[(*order)[i + 1]].id : kCopy;
        if (below != kLzma2 && LzmaFilterOf(below) == 0) return true;
      }
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Extraction.

namespace {

EntryType TypeOfMode(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return EntryType::kDir;
    case S_IFLNK:
      return EntryType::kSymlink;
    case S_IFCHR:
      return EntryType::kCharDev;
    case S_IFBLK:
      return EntryType::kBlockDev;
    case S_IFIFO:
      return EntryType::kFifo;
    case S_IFSOCK:
      return EntryType::kSocket;
    default:
      return EntryType::kFile;
  }
}

// Reads a folder's output substream by substream, checking sizes and CRCs.
class FolderReader {
 public:
  FolderReader(std::unique_ptr<Stage> st, uint64_t size, std::optional<uint32_t> crc)
      : st_(std::move(st)), left_(size), want_crc_(crc) {}
  Result<size_t> Read(std::byte* out, size_t n) {
    n = static_cast<size_t>(std::min<uint64_t>(n, left_));
    if (n == 0) return 0;
    auto got = st_->Read(out, n);
    if (!got) return got;
    if (*got == 0)
      return Fail(ErrorCode::kTruncated, fmt::format("7z folder data ends {} bytes early", left_));
    left_ -= *got;
    crc_ = Crc(crc_, Bytes(out, *got));
    return got;
  }
  bool CrcOk() const { return left_ != 0 || !want_crc_ || *want_crc_ == crc_; }

 private:
  std::unique_ptr<Stage> st_;
  uint64_t left_;
  uint32_t crc_ = 0;
  std::optional<uint32_t> want_crc_;
};

}  // namespace

Status Extract(const Archive& a, const ExtractContext& ctx, TreeSink& sink) {
  const uint64_t base = ctx.base_offset;
  // A dry run decodes a folder only as far as its last symlink (whose target is data the tree
  // needs); link_end[i] is that many bytes into folder i (0: no symlink).
  std::vector<uint64_t> link_end(a.folders.size(), 0);
  std::vector<uint64_t> folder_pos(a.folders.size(), 0);
  uint64_t declared = 0;
  for (const File& f : a.files) {
    if (!f.has_stream || f.folder >= a.folders.size()) continue;
    declared = f.size > UINT64_MAX - declared ? UINT64_MAX : declared + f.size;
    folder_pos[f.folder] += f.size;  // substream sizes sum to at most the folder's size
    if (f.attrib && (*f.attrib & kAttrUnixExtension) && ((*f.attrib >> 16) & S_IFMT) == S_IFLNK)
      link_end[f.folder] = folder_pos[f.folder];
  }
  std::fill(folder_pos.begin(), folder_pos.end(), 0);
  if (!sink.dry_run() && declared > ctx.budget.bytes_left)
    return Fail(ErrorCode::kLimit,
                fmt::format("7z declares {} bytes of file data, the budget has {} left", declared,
                            ctx.budget.bytes_left),
                base);

  std::unique_ptr<FolderReader> reader;
  uint64_t open_folder = UINT64_MAX;
  bool decoding = false;
  std::optional<Error> first_problem;
  std::vector<std::byte> buf(kBufSize);
  uint64_t chunks = 0;
  auto problem = [&](Error e) {
    if (!first_problem) first_problem = std::move(e);
  };

  for (const File& f : a.files) {
    if (f.is_anti) continue;  // a deletion marker for update archives, not an entry
    FileEntry fe;
    fe.raw_name = f.name;
    fe.mtime = f.mtime.value_or(0);
    uint32_t attrib = f.attrib.value_or(0);
    uint32_t st_mode = 0;
    if (attrib & kAttrUnixExtension) {
      st_mode = attrib >> 16;
      if ((st_mode & S_IFMT) == 0)
        st_mode |= (f.is_dir || (attrib & kAttrDirectory)) ? S_IFDIR : S_IFREG;
    } else if (f.is_dir || (attrib & kAttrDirectory)) {
      st_mode = S_IFDIR | 0777;
    } else {
      st_mode = S_IFREG | 0666;
    }
    if (!(attrib & kAttrUnixExtension) && (attrib & kAttrReadOnly)) st_mode &= ~0222u;
    fe.type = TypeOfMode(st_mode);
    if (f.is_dir && fe.type == EntryType::kFile && !f.has_stream) fe.type = EntryType::kDir;
    fe.mode = st_mode & 07777;
    fe.size = f.has_stream ? f.size : 0;
    fe.origin.offset = f.has_stream && f.folder < a.folders.size() &&
                               a.folders[f.folder].first_pack_stream < a.pack_offsets.size()
                           ? a.pack_offsets[a.folders[f.folder].first_pack_stream]
                           : a.header_offset;

    if (!f.has_stream) {
      if (fe.type == EntryType::kFile) {
        auto out = sink.OpenFile(std::move(fe));
        if (!out) return std::unexpected(out.error());
        if (auto s = (*out)->Close(); !s) return s;
      } else {
        if (fe.type == EntryType::kDir) fe.size = 0;
        if (auto s = sink.Add(std::move(fe)); !s) return s;
      }
      continue;
    }

    // Move to this file's folder.
    if (f.folder != open_folder) {
      if (reader && decoding && !reader->CrcOk())
        problem(Error{ErrorCode::kMalformed, fmt::format("7z folder {} CRC mismatch", open_folder),
                      base});
      reader.reset();
      open_folder = f.folder;
      const Folder& fo = a.folders[f.folder];
      decoding = !sink.dry_run() ||
                 (link_end[f.folder] > 0 && link_end[f.folder] <= ctx.budget.bytes_left);
      if (decoding) {
        uint64_t off =
            fo.first_pack_stream < a.pack_offsets.size() ? a.pack_offsets[fo.first_pack_stream] : 0;
        if (fo.first_pack_stream >= a.pack_offsets.size())
          return Fail(ErrorCode::kMalformed, "7z folder without pack stream", base);
        auto st =
            OpenFolder(fo, ctx.chunk.subspan(off, a.pack_sizes[fo.first_pack_stream]), base + off);
        if (!st) return std::unexpected(st.error());
        reader = std::make_unique<FolderReader>(std::move(*st), fo.UnpackSize(), fo.crc);
      }
    }
    uint64_t at = fe.origin.offset;
    std::string name = f.name;
    if (decoding && sink.dry_run() && folder_pos[f.folder] >= link_end[f.folder]) {
      reader.reset();  // past this folder's last symlink: the rest is metadata only
      decoding = false;
    }
    folder_pos[f.folder] += f.size;

    if (!decoding) {  // dry run, no symlink in this folder: metadata only
      if (fe.type == EntryType::kFile) {
        auto out = sink.OpenFile(std::move(fe));
        if (!out) return std::unexpected(out.error());
        if (auto s = (*out)->Close(); !s) return s;
      } else {
        if (fe.type == EntryType::kDir) fe.size = 0;
        if (auto s = sink.Add(std::move(fe)); !s) return s;
      }
      continue;
    }

    uint32_t crc = 0;
    uint64_t left = f.size;
    if (fe.type == EntryType::kFile) {
      auto out = sink.OpenFile(std::move(fe));
      if (!out) return std::unexpected(out.error());
      while (left > 0) {
        if ((++chunks & 0xFF) == 0 && ctx.budget.TimeUp()) {
          (void)(*out)->Close(true);
          return Fail(ErrorCode::kLimit, "time limit reached", base + at);
        }
        auto n = reader->Read(buf.data(), static_cast<size_t>(std::min<uint64_t>(left, kBufSize)));
        if (!n) {
          (void)(*out)->Close(true);
          return Fail(n.error().code,
                      fmt::format("7z data for \"{}\" unreadable: {}", name, n.error().message),
                      base + at);
        }
        Bytes piece(buf.data(), *n);
        crc = Crc(crc, piece);
        left -= *n;
        if (!sink.dry_run())
          if (auto s = (*out)->Write(piece); !s) return s;
      }
      if (auto s = (*out)->Close(); !s) return s;
    } else {
      // A symlink's data is its target; other types carry none we use.
      bool link = fe.type == EntryType::kSymlink;
      if (link && f.size > kMaxSymlinkTarget)
        return Fail(ErrorCode::kMalformed,
                    fmt::format("7z symlink \"{}\" has a {}-byte target", name, f.size), base + at);
      std::string target;
      while (left > 0) {
        if ((++chunks & 0xFF) == 0 && ctx.budget.TimeUp())
          return Fail(ErrorCode::kLimit, "time limit reached", base + at);
        auto n = reader->Read(buf.data(), static_cast<size_t>(std::min<uint64_t>(left, kBufSize)));
        if (!n)
          return Fail(n.error().code,
                      fmt::format("7z data for \"{}\" unreadable: {}", name, n.error().message),
                      base + at);
        Bytes piece(buf.data(), *n);
        crc = Crc(crc, piece);
        left -= *n;
        if (link) target.append(AsChars(piece));
      }
      if (link) {
        fe.link_target = std::move(target);
        fe.size = fe.link_target.size();
      } else {
        fe.size = 0;
      }
      if (auto s = sink.Add(std::move(fe)); !s) return s;
    }
    if (f.crc && *f.crc != crc)
      problem(
          Error{ErrorCode::kMalformed, fmt::format("7z CRC mismatch for \"{}\"", name), base + at});
  }
  if (reader && decoding && !reader->CrcOk())
    problem(
        Error{ErrorCode::kMalformed, fmt::format("7z folder {} CRC mismatch", open_folder), base});
  if (first_problem) return std::unexpected(*first_problem);
  return {};
}

}  // namespace firmwarden::unpack::sevenzip
