// The unpacking engine: one Vectorscan pass over a blob finds every candidate signature; handlers
// validate and measure; accepted chunks are extracted and their sub-blobs scanned again, within the
// limits of UnpackOptions. Every byte of every blob ends up in a chunk, padding, or unknown region.
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <hs/hs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/blob.h"
#include "core/env.h"
#include "firmwarden/unpack.h"
#include "unpack/handler.h"
#include "unpack/manifest.h"
#include "unpack/tree_sink.h"

namespace firmwarden {

std::string_view SeverityName(Diagnostic::Severity s) {
  switch (s) {
    case Diagnostic::Severity::kInfo:
      return "info";
    case Diagnostic::Severity::kWarning:
      return "warning";
    case Diagnostic::Severity::kError:
      return "error";
  }
  return "unknown";
}

bool Unpacked::Clean() const {
  return std::none_of(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& d) {
    return d.severity != Diagnostic::Severity::kInfo;
  });
}

std::vector<FormatInfo> KnownFormats() {
  std::vector<FormatInfo> out;
  for (const auto& h : unpack::Handlers())
    out.push_back({std::string(h.name), std::string(unpack::FormatKindName(h.kind)),
                   std::string(h.description)});
  return out;
}

namespace unpack {

std::string_view FormatKindName(FormatKind k) {
  switch (k) {
    case FormatKind::kContainer:
      return "container";
    case FormatKind::kCompression:
      return "compression";
    case FormatKind::kArchive:
      return "archive";
    case FormatKind::kFilesystem:
      return "filesystem";
    case FormatKind::kRecognizer:
      return "recognised";
  }
  return "unknown";
}

double Entropy(Bytes data) {
  if (data.empty()) return 0.0;
  std::array<uint64_t, 256> counts{};
  for (std::byte b : data) counts[static_cast<uint8_t>(b)]++;
  double h = 0.0;
  const double n = static_cast<double>(data.size());
  for (uint64_t c : counts) {
    if (c == 0) continue;
    double p = static_cast<double>(c) / n;
    h -= p * std::log2(p);
  }
  return h;
}

namespace {

// ---- signature database -------------------------------------------------------------------

struct PatternRef {
  uint16_t handler;
  uint32_t magic_offset;
  uint32_t length;
  std::string_view bytes;
};

struct Database {
  hs_database_t* db = nullptr;
  std::vector<PatternRef> patterns;
  std::string error;
};

const Database& SignatureDatabase() {
  static Database database;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::string> literals;
    std::vector<const char*> exprs;
    std::vector<size_t> lens;
    std::vector<unsigned> flags, ids;
    auto handlers = Handlers();
    for (size_t h = 0; h < handlers.size(); ++h) {
      for (const Magic& m : handlers[h].magics) {
        database.patterns.push_back(
            {static_cast<uint16_t>(h), m.offset, static_cast<uint32_t>(m.bytes.size()), m.bytes});
        literals.emplace_back(m.bytes);
      }
    }
    for (size_t i = 0; i < literals.size(); ++i) {
      exprs.push_back(literals[i].data());
      lens.push_back(literals[i].size());
      flags.push_back(0);
      ids.push_back(static_cast<unsigned>(i));
    }
    hs_compile_error_t* err = nullptr;
    if (hs_compile_lit_multi(exprs.data(), flags.data(), ids.data(), lens.data(),
                             static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr,
                             &database.db, &err) != HS_SUCCESS) {
      database.error = err != nullptr && err->message != nullptr ? err->message : "unknown";
      hs_free_compile_error(err);
      database.db = nullptr;
    }
  });
  return database;
}

// The signature of `handler` that a chunk starting at data[0] would match, or null. Used where a
// handler is run on a blob without a scan (the ParseContext wants the magic that matched).
const PatternRef* PatternAtStart(const Database& db, Bytes data, uint16_t handler) {
  std::string_view text = AsChars(data);
  for (const PatternRef& p : db.patterns)
    if (p.handler == handler && p.magic_offset <= text.size() &&
        text.substr(p.magic_offset, p.length) == p.bytes)
      return &p;
  return nullptr;
}

struct Candidate {
  uint64_t offset;
  uint16_t handler;
  uint32_t pattern;
  bool operator<(const Candidate& o) const {
    return offset != o.offset ? offset < o.offset : handler < o.handler;
  }
};

struct ScanState {
  const Database* db;
  std::vector<Candidate>* out;
  uint64_t limit;
  bool overflow = false;
};

int OnMatch(unsigned id, unsigned long long /*from*/, unsigned long long to, unsigned /*flags*/,
            void* ctx) {
  auto* st = static_cast<ScanState*>(ctx);
  const PatternRef& p = st->db->patterns[id];
  uint64_t magic_start = to - p.length;
  if (magic_start < p.magic_offset) return 0;
  if (st->out->size() >= st->limit) {
    st->overflow = true;
    return 1;  // stop scanning
  }
  st->out->push_back({magic_start - p.magic_offset, p.handler, id});
  return 0;
}

// ---- helpers ----------------------------------------------------------------------------------

std::string SafeName(std::string_view raw, std::string_view fallback) {
  std::string out;
  for (char c : raw) {
    if (out.size() >= 64) break;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    out += ok ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") out = std::string(fallback);
  return out;
}

std::string Hex(uint64_t v) { return fmt::format("0x{:x}", v); }

}  // namespace

// ---- the engine ---------------------------------------------------------------------------------

class Engine {
 public:
  Engine(const UnpackOptions& options, Unpacked& out, int out_fd)
      : options_(options), out_(out), out_fd_(out_fd) {}
  ~Engine() {
    if (scratch_ != nullptr) hs_free_scratch(scratch_);
  }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void Run(const Blob& top, const std::string& name) {
    const Limits& lim = options_.limits;
    double allowed = std::max<double>(static_cast<double>(lim.ratio_floor),
                                      lim.max_ratio * static_cast<double>(top.size()));
    budget_.bytes_left =
        static_cast<uint64_t>(std::min<double>(allowed, static_cast<double>(lim.max_total_bytes)));
    initial_bytes_ = budget_.bytes_left;
    budget_.files_left = lim.max_files;
    budget_.deadline = std::chrono::steady_clock::now() +
                       std::chrono::microseconds(static_cast<int64_t>(lim.max_seconds * 1e6));
    out_.stats.input_bytes = top.size();
    out_.layout = ScanBlob(top, name, "", "", 0);
    out_.stats.output_bytes = initial_bytes_ - budget_.bytes_left;
    if (std::none_of(out_.layout.regions.begin(), out_.layout.regions.end(),
                     [](const Region& r) { return r.kind == Region::Kind::kChunk; }))
      Diag(Diagnostic::Severity::kWarning, "/", 0, "no known format found in the image");
  }

 private:
  void Diag(Diagnostic::Severity s, std::string where, std::optional<uint64_t> off,
            std::string msg) {
    if (out_.diagnostics.size() >= 1000) return;
    out_.diagnostics.push_back({s, std::move(where), off, std::move(msg)});
  }

  // Creates (if needed) a directory path below the output dir, component by component, never
  // following symlinks. Our own names only; returns an owned fd or -1.
  int MakeDir(const std::string& rel) {
    if (out_fd_ < 0) return -1;
    int cur = dup(out_fd_);
    size_t i = 0;
    while (i < rel.size() && cur >= 0) {
      size_t j = rel.find('/', i);
      if (j == std::string::npos) j = rel.size();
      std::string comp = rel.substr(i, j - i);
      i = j + 1;
      if (comp.empty()) continue;
      if (mkdirat(cur, comp.c_str(), 0755) != 0 && errno != EEXIST) {
        close(cur);
        return -1;
      }
      int next = openat(cur, comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      close(cur);
      cur = next;
    }
    return cur;
  }

  void WriteRaw(const std::string& rel_dir, const std::string& file, Bytes data,
                std::string* disk_path) {
    if (out_fd_ < 0) return;
    if (!budget_.Take(data.size())) {
      Diag(Diagnostic::Severity::kWarning, rel_dir, std::nullopt,
           "output-size limit reached; raw blob not written");
      return;
    }
    int dfd = MakeDir(rel_dir);
    if (dfd < 0) {
      Diag(Diagnostic::Severity::kError, rel_dir, std::nullopt,
           fmt::format("cannot create output directory: {}", strerror(errno)));
      return;
    }
    int fd = openat(dfd, file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    close(dfd);
    if (fd < 0) return;
    const std::byte* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      p += n;
      left -= static_cast<size_t>(n);
    }
    close(fd);
    *disk_path = rel_dir.empty() ? file : rel_dir + "/" + file;
  }

  void AddGap(BlobLayout& layout, const Bytes data, uint64_t start, uint64_t end) {
    if (end <= start) return;
    auto pad_byte = [&](uint64_t i) { return static_cast<uint8_t>(data[i]); };
    // Runs of 0x00/0xFF of at least kMinPaddingRun bytes are padding (alignment to erase blocks or
    // sectors); shorter runs are part of the surrounding data.
    constexpr uint64_t kMinPaddingRun = 256;
    auto run_end = [&](uint64_t from) {
      uint8_t b = pad_byte(from);
      uint64_t i = from;
      while (i < end && pad_byte(i) == b) ++i;
      return i;
    };
    uint64_t pos = start;
    while (pos < end) {
      uint8_t b = pad_byte(pos);
      uint64_t re = (b == 0x00 || b == 0xFF) ? run_end(pos) : pos;
      if (re > pos && (re - pos >= kMinPaddingRun || (pos == start && re == end))) {
        Region r;
        r.kind = Region::Kind::kPadding;
        r.offset = pos;
        r.size = re - pos;
        r.format = b == 0 ? "0x00" : "0xff";
        layout.regions.push_back(std::move(r));
        pos = re;
        continue;
      }
      // Unknown run: until the next padding run of >= 16 bytes.
      uint64_t u = pos;
      while (u < end) {
        uint8_t c = pad_byte(u);
        if (c == 0x00 || c == 0xFF) {
          uint64_t e = run_end(u);
          if (e - u >= kMinPaddingRun) break;
          u = e;
        } else {
          ++u;
        }
      }
      Region r;
      r.kind = Region::Kind::kUnknown;
      r.offset = pos;
      r.size = u - pos;
      r.entropy = Entropy(data.subspan(pos, u - pos));
      out_.stats.unknown_bytes += r.size;
      layout.regions.push_back(std::move(r));
      pos = u;
    }
  }

  void NoteKernelBanner(BlobLayout& layout, Bytes data) {
    static constexpr std::string_view kBanner = "Linux version ";
    std::string_view text = AsChars(data);
    for (const Region& r : layout.regions) {
      if (r.kind != Region::Kind::kUnknown) continue;
      std::string_view part = text.substr(r.offset, r.size);
      size_t at = part.find(kBanner);
      while (at != std::string_view::npos) {
        size_t i = at + kBanner.size();
        if (i < part.size() && part[i] >= '0' && part[i] <= '9') {
          size_t e = i;
          while (e < part.size() && e - at < 256 && part[e] >= 0x20 && part[e] < 0x7F) ++e;
          layout.notes.push_back({"linux_banner", std::string(part.substr(at, e - at))});
          layout.notes.push_back({"linux_banner_offset", Hex(r.offset + at)});
          return;
        }
        at = part.find(kBanner, at + 1);
      }
    }
  }

  // A compression stream at the start of a sub-blob, decoded ahead on a helper thread while this
  // thread works on the blob's siblings (a kernel's LZMA while the rootfs is extracted).
  struct Prefetched {
    uint16_t handler = 0;
    std::optional<Result<Parsed>> parsed;
    uint64_t charged = 0;  // output bytes the decode took from its private budget
  };

  // The first candidate at offset 0 of `blob`, if it is a compression stream.
  std::optional<uint16_t> LeadingCompression(const Blob& blob, hs_scratch_t* scratch) {
    const Database& db = SignatureDatabase();
    if (db.db == nullptr || blob.size() == 0 || blob.size() > 0xFFFFFFFFULL) return std::nullopt;
    std::vector<Candidate> cands;
    ScanState st{&db, &cands, 4096};
    hs_scan(db.db, reinterpret_cast<const char*>(blob.bytes().data()),
            static_cast<unsigned>(std::min<size_t>(blob.size(), 1 << 16)), 0, scratch, OnMatch,
            &st);
    std::optional<uint16_t> best;
    for (const Candidate& c : cands)
      if (c.offset == 0 && (!best || c.handler < *best)) best = c.handler;
    if (best && Handlers()[*best].kind == FormatKind::kCompression) return best;
    return std::nullopt;
  }

  BlobLayout ScanBlob(const Blob& blob, const std::string& name, const std::string& path,
                      const std::string& disk_dir, int depth, Prefetched* pre = nullptr) {
    BlobLayout layout;
    layout.name = name;
    layout.path = path.empty() ? "/" : path;
    layout.size = blob.size();
    Bytes data = blob.bytes();

    const Database& db = SignatureDatabase();
    std::vector<Candidate> cands;
    if (db.db == nullptr) {
      Diag(Diagnostic::Severity::kError, layout.path, std::nullopt,
           "signature database failed to compile: " + db.error);
    } else if (!data.empty()) {
      if (data.size() > 0xFFFFFFFFULL) {
        Diag(Diagnostic::Severity::kError, layout.path, std::nullopt,
             "blob larger than 4 GiB is not scanned");
      } else {
        // One scratch per engine: scans never nest (children are scanned after hs_scan returns).
        if (scratch_ == nullptr) hs_alloc_scratch(db.db, &scratch_);
        ScanState st{&db, &cands, options_.limits.max_candidates};
        hs_scan(db.db, reinterpret_cast<const char*>(data.data()),
                static_cast<unsigned>(data.size()), 0, scratch_, OnMatch, &st);
        if (st.overflow)
          Diag(Diagnostic::Severity::kWarning, layout.path, std::nullopt,
               fmt::format("more than {} signature candidates; the rest were not examined",
                           options_.limits.max_candidates));
      }
    }
    std::sort(cands.begin(), cands.end());

    auto handlers = Handlers();
    uint64_t pos = 0;
    uint64_t last_off = UINT64_MAX;
    uint16_t last_handler = UINT16_MAX;
    bool time_noted = false;
    for (const Candidate& c : cands) {
      if (c.offset < pos || c.offset >= data.size()) continue;
      if (c.offset == last_off && c.handler == last_handler) continue;
      last_off = c.offset;
      last_handler = c.handler;
      if (budget_.TimeUp()) {
        if (!time_noted)
          Diag(Diagnostic::Severity::kWarning, layout.path, c.offset,
               "time limit reached (--max-seconds); the rest of this blob was not examined");
        time_noted = true;
        break;
      }
      const FormatHandler& h = handlers[c.handler];
      const PatternRef& pat = db.patterns[c.pattern];
      ParseContext ctx{blob, data, static_cast<size_t>(c.offset), budget_, pat.bytes};
      Result<Parsed> parsed = Fail(ErrorCode::kMalformed, "not parsed");
      if (pre != nullptr && pre->parsed && c.offset == 0 && c.handler == pre->handler &&
          *pre->parsed && budget_.Take(pre->charged)) {
        parsed = std::move(*pre->parsed);
      } else {
        parsed = h.parse(ctx);
      }
      if (pre != nullptr) pre->parsed.reset();
      if (!parsed || parsed->size == 0) continue;
      uint64_t size = std::min<uint64_t>(parsed->size, data.size() - c.offset);
      AddGap(layout, data, pos, c.offset);
      Region r;
      r.kind = Region::Kind::kChunk;
      r.offset = c.offset;
      r.size = size;
      r.format = std::string(h.name);
      r.description = std::string(h.description);
      r.details = std::move(parsed->details);
      r.truncated = parsed->truncated;
      r.path = fmt::format("{}/{}.{}", path, Hex(c.offset), h.name);
      std::string chunk_dir = disk_dir.empty()
                                  ? fmt::format("{}.{}", Hex(c.offset), h.name)
                                  : fmt::format("{}/{}.{}", disk_dir, Hex(c.offset), h.name);
      out_.stats.chunks++;
      if (parsed->truncated)
        Diag(Diagnostic::Severity::kWarning, r.path, c.offset,
             fmt::format("{} claims {} bytes but only {} remain: truncated", h.name, parsed->size,
                         data.size() - c.offset));
      for (const std::string& w : parsed->warnings)
        Diag(Diagnostic::Severity::kWarning, r.path, c.offset, w);

      if (h.extract != nullptr)
        ExtractTree(h, data.subspan(c.offset, size), c.offset, r, chunk_dir);

      std::vector<SubBlob> children = std::move(parsed->children);
      // Children that start with a compression stream are decoded ahead on a helper thread when
      // there are siblings to work on meanwhile; they are then processed after those siblings.
      // The layout keeps the children's own order either way.
      std::vector<Prefetched> prefetched(children.size());
      std::vector<size_t> order, later;
      if (children.size() >= 2 && depth + 1 <= options_.limits.max_depth) {
        if (scratch_ == nullptr && db.db != nullptr) hs_alloc_scratch(db.db, &scratch_);
        for (size_t i = 0; i < children.size(); ++i) {
          auto lead =
              scratch_ != nullptr ? LeadingCompression(children[i].blob, scratch_) : std::nullopt;
          if (lead) {
            prefetched[i].handler = *lead;
            later.push_back(i);
          } else {
            order.push_back(i);
          }
        }
      }
      std::thread helper;
      if (!later.empty() && !order.empty()) {
        Budget snapshot = budget_;
        helper = std::thread([&children, &prefetched, &later, &db, snapshot] {
          for (size_t i : later) {
            Budget own = snapshot;
            const Blob& b = children[i].blob;
            const PatternRef* pat = PatternAtStart(db, b.bytes(), prefetched[i].handler);
            if (pat == nullptr) continue;
            ParseContext pctx{b, b.bytes(), 0, own, pat->bytes};
            prefetched[i].parsed = Handlers()[prefetched[i].handler].parse(pctx);
            prefetched[i].charged = snapshot.bytes_left - own.bytes_left;
          }
        });
      } else {
        order.insert(order.end(), later.begin(), later.end());
        later.clear();
        if (order.empty())
          for (size_t i = 0; i < children.size(); ++i) order.push_back(i);
      }
      std::vector<std::optional<BlobLayout>> done(children.size());
      auto process = [&](size_t i, Prefetched* pre) {
        std::string child_name = SafeName(children[i].name, fmt::format("part{}", i));
        std::string child_path = r.path + "/" + child_name;
        if (depth + 1 > options_.limits.max_depth) {
          Diag(Diagnostic::Severity::kWarning, child_path, std::nullopt,
               fmt::format("nesting deeper than {} levels (--max-depth); not scanned",
                           options_.limits.max_depth));
          BlobLayout leaf;
          leaf.name = child_name;
          leaf.path = child_path;
          leaf.size = children[i].blob.size();
          WriteRaw(chunk_dir, child_name + ".bin", children[i].blob.bytes(), &leaf.disk_path);
          done[i] = std::move(leaf);
          return;
        }
        BlobLayout child = ScanBlob(children[i].blob, child_name, child_path,
                                    chunk_dir + "/" + child_name, depth + 1, pre);
        Bytes cb = children[i].blob.bytes();
        if (!cb.empty() && cb.data() >= data.data() &&
            cb.data() + cb.size() <= data.data() + data.size())
          child.offset_in_parent = static_cast<uint64_t>(cb.data() - data.data());
        bool understood =
            !child.regions.empty() &&
            std::all_of(child.regions.begin(), child.regions.end(),
                        [](const Region& x) { return x.kind != Region::Kind::kUnknown; });
        if (!understood)
          WriteRaw(chunk_dir, child_name + ".bin", children[i].blob.bytes(), &child.disk_path);
        done[i] = std::move(child);
      };
      for (size_t i : order) {
        process(i, nullptr);
        children[i].blob = Blob();  // release decompressed memory early
      }
      if (helper.joinable()) helper.join();
      for (size_t i : later) {
        process(i, &prefetched[i]);
        prefetched[i] = Prefetched();
        children[i].blob = Blob();
      }
      for (auto& c : done)
        if (c) r.children.push_back(std::move(*c));
      if (h.extract != nullptr && r.tree) ScanExtractedFiles(r, chunk_dir, depth);
      if (out_fd_ >= 0 && (h.extract != nullptr || !r.children.empty())) r.disk_path = chunk_dir;
      layout.regions.push_back(std::move(r));
      pos = c.offset + size;
    }
    AddGap(layout, data, pos, data.size());
    NoteKernelBanner(layout, data);
    return layout;
  }

  // Files extracted from an archive or filesystem that are themselves containers (a .tar.gz in a
  // rootfs, a firmware blob in /lib/firmware) are unpacked too, beside the tree in
  // "<chunk_dir>.nested/" so the tree itself stays exactly what the device has. Only files that
  // start with a strong signature of a container, compression, archive or filesystem are taken.
  // Extract mode only: info mode does not read file data.
  void ScanExtractedFiles(Region& r, const std::string& chunk_dir, int depth) {
    if (out_fd_ < 0 || !options_.output_dir || depth + 1 > options_.limits.max_depth) return;
    const Database& db = SignatureDatabase();
    if (db.db == nullptr) return;
    auto handlers = Handlers();
    const Tree tree = out_.files.trees()[*r.tree];
    for (size_t i = tree.first_entry; i < tree.first_entry + tree.entry_count; ++i) {
      if (budget_.TimeUp()) return;
      const FileEntry e = out_.files.entries()[i];  // copy: nested trees grow the vector
      if (e.type != EntryType::kFile || e.state != EntryState::kWritten || e.size < 64 ||
          e.disk_path.empty())
        continue;
      int fd = openat(out_fd_, e.disk_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) continue;
      char head[512];
      ssize_t n = pread(fd, head, sizeof head, 0);
      close(fd);
      if (n <= 0) continue;
      std::vector<Candidate> cands;
      ScanState st{&db, &cands, 64};
      if (scratch_ == nullptr) hs_alloc_scratch(db.db, &scratch_);
      hs_scan(db.db, head, static_cast<unsigned>(n), 0, scratch_, OnMatch, &st);
      bool container = false;
      std::optional<uint16_t> compression;
      for (const Candidate& c : cands) {
        const FormatHandler& h = handlers[c.handler];
        if (c.offset != 0 || h.kind == FormatKind::kRecognizer) continue;
        // Two-byte signatures (zlib, old binary cpio) and the lzma guesses are too weak to act on
        // without a reason; everything else at offset 0 is worth a look.
        if (db.patterns[c.pattern].length < 3 || h.name == "zlib" || h.name == "lzma") continue;
        if (h.kind == FormatKind::kCompression) {
          if (!compression) compression = c.handler;
        } else {
          container = true;
        }
      }
      if (!container && !compression) continue;
      auto blob = Blob::MapFile(*options_.output_dir + "/" + e.disk_path);
      if (!blob) continue;
      // A compressed file is only worth unpacking when what it holds is a container (a .tar.gz,
      // a gzipped filesystem image), not compressed text (Debian's changelog.gz): peek at the
      // first 64 KiB of its output first.
      if (!container && !PeekHoldsContainer(*blob, *compression)) continue;
      std::string name = SafeName(e.tree_path, "file");
      BlobLayout child = ScanBlob(*blob, name, r.path + "/" + e.tree_path,
                                  chunk_dir + ".nested/" + name, depth + 1);
      bool any = std::any_of(child.regions.begin(), child.regions.end(),
                             [](const Region& x) { return x.kind == Region::Kind::kChunk; });
      if (any) {
        child.disk_path = e.disk_path;
        r.children.push_back(std::move(child));
      }
    }
  }

  bool PeekHoldsContainer(const Blob& blob, uint16_t handler) {
    const Database& db = SignatureDatabase();
    const PatternRef* pat = PatternAtStart(db, blob.bytes(), handler);
    if (pat == nullptr) return false;
    Budget peek = budget_;
    peek.bytes_left = std::min<uint64_t>(budget_.bytes_left, 64 * 1024);
    ParseContext ctx{blob, blob.bytes(), 0, peek, pat->bytes};
    auto parsed = Handlers()[handler].parse(ctx);
    if (!parsed || parsed->children.empty()) return false;
    const Blob& inner = parsed->children[0].blob;
    std::vector<Candidate> cands;
    ScanState st{&db, &cands, 256};
    hs_scan(db.db, reinterpret_cast<const char*>(inner.bytes().data()),
            static_cast<unsigned>(inner.size()), 0, scratch_, OnMatch, &st);
    for (const Candidate& c : cands) {
      FormatKind k = Handlers()[c.handler].kind;
      if (c.offset == 0 && (k == FormatKind::kArchive || k == FormatKind::kFilesystem ||
                            k == FormatKind::kContainer || k == FormatKind::kCompression))
        return true;
    }
    return false;
  }

  void ExtractTree(const FormatHandler& h, Bytes chunk, uint64_t offset, Region& r,
                   const std::string& chunk_dir) {
    int root = -1;
    if (out_fd_ >= 0) {
      root = MakeDir(chunk_dir);
      if (root < 0) {
        Diag(Diagnostic::Severity::kError, r.path, offset,
             fmt::format("cannot create output directory {}: {}", chunk_dir, strerror(errno)));
        return;
      }
    }
    Tree t;
    t.format = std::string(h.name);
    t.chunk = r.path;
    t.disk_dir = root >= 0 ? chunk_dir : "";
    r.tree = out_.files.BeginTree(std::move(t));
    Origin origin{std::string(h.name), r.path, 0};
    TreeSink sink(out_.files, root, chunk_dir, origin, budget_, out_.diagnostics);
    ExtractContext ctx{chunk, offset, budget_, r.path};
    Status s = h.extract(ctx, sink);
    r.details.push_back({"entries", std::to_string(sink.entries_added())});
    if (!s) {
      // A limit stops the extraction; anything else is what the handler could not read (it
      // carried on past it where the format allowed).
      Diag(Diagnostic::Severity::kWarning, r.path, s.error().offset,
           s.error().code == ErrorCode::kLimit
               ? fmt::format("extraction stopped: {}", s.error().message)
               : fmt::format("{} extraction problems: {}", h.name, s.error().message));
    }
  }

  const UnpackOptions& options_;
  Unpacked& out_;
  int out_fd_;
  Budget budget_;
  uint64_t initial_bytes_ = 0;
  hs_scratch_t* scratch_ = nullptr;
};

namespace {

Result<int> PrepareOutputDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return Fail(ErrorCode::kIo,
                fmt::format("cannot create output directory {}: {}", dir, strerror(errno)));
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return Fail(ErrorCode::kIo,
                fmt::format("cannot open output directory {}: {}", dir, strerror(errno)));
  // Refuse a non-empty directory: mixing our output with existing files would make the manifest
  // lie.
  int probe = dup(fd);
  DIR* d = fdopendir(probe);
  bool empty = true;
  if (d != nullptr) {
    while (struct dirent* e = readdir(d)) {
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
        empty = false;
        break;
      }
    }
    closedir(d);
  }
  if (!empty) {
    close(fd);
    return Fail(ErrorCode::kUsage,
                fmt::format("output directory {} is not empty; choose a new or empty one", dir));
  }
  return fd;
}

Result<Unpacked> RunUnpack(const Blob& blob, const std::string& name,
                           const UnpackOptions& options) {
  int out_fd = -1;
  if (options.output_dir) {
    auto fd = PrepareOutputDir(*options.output_dir);
    if (!fd) return std::unexpected(fd.error());
    out_fd = *fd;
  }
  Unpacked out;
  auto t0 = std::chrono::steady_clock::now();
  Engine engine(options, out, out_fd);
  engine.Run(blob, name);
  out.stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (out_fd >= 0) {
    if (options.write_manifest) {
      Status s = WriteManifest(out_fd, out, name);
      if (!s) {
        close(out_fd);
        return std::unexpected(s.error());
      }
    }
    close(out_fd);
  }
  return out;
}

}  // namespace
}  // namespace unpack

Result<Unpacked> Unpack(const std::string& image_path, const UnpackOptions& options) {
  auto blob = Blob::MapFile(image_path);
  if (!blob) return std::unexpected(blob.error());
  std::string name = image_path.substr(image_path.find_last_of('/') + 1);
  return unpack::RunUnpack(*blob, name, options);
}

Result<Unpacked> UnpackMemory(std::string_view bytes, const std::string& name,
                              const UnpackOptions& options) {
  return unpack::RunUnpack(Blob::FromString(bytes), name, options);
}

}  // namespace firmwarden
