// Flattened device trees (magic d0 0d fe ed), in two handlers:
//   fit: a U-Boot FIT image, i.e. a device tree whose /images node holds the payloads, either
//        inline ("data") or after the tree ("data-offset" from the end of the tree, or
//        "data-position" from its start, with "data-size"). One sub-blob per image.
//   dtb: any other device tree, recognised only (model, compatible).
// Each rejects what the other accepts, so the order in formats.def does not change the result.
//
// The tree parser is our own and trusts nothing: every offset is checked against the blocks the
// header declares, strings must end inside the strings block, and depth, node and property counts
// are capped. The structure block is read once, front to back, so no input can make it loop.
#include <fmt/format.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <optional>

#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr uint32_t kFdtMagic = 0xD00DFEED;
constexpr size_t kFdtHeaderSize = 40;
constexpr uint32_t kBeginNode = 1, kEndNode = 2, kProp = 3, kNop = 4, kEnd = 9;
constexpr int kMaxDepth = 64;
constexpr size_t kMaxNodes = 100000;
constexpr size_t kMaxProps = 1000000;
constexpr size_t kMaxNameLen = 1024;

constexpr Magic kMagics[] = {{std::string_view("\xd0\x0d\xfe\xed", 4), 0}};

struct FdtProp {
  std::string_view name;
  size_t value_offset;  // from the start of the tree
  uint32_t len;
};

struct FdtNode {
  std::string_view name;
  std::vector<FdtProp> props;
  std::vector<size_t> children;
};

struct Fdt {
  Bytes bytes;  // from the start of the tree to min(totalsize, end of data)
  uint32_t totalsize = 0;
  uint32_t version = 0;
  std::vector<FdtNode> nodes;  // nodes[0] is the root

  const FdtNode* Child(const FdtNode& n, std::string_view name) const {
    for (size_t c : n.children)
      if (nodes[c].name == name) return &nodes[c];
    return nullptr;
  }
  static const FdtProp* Prop(const FdtNode& n, std::string_view name) {
    for (const FdtProp& p : n.props)
      if (p.name == name) return &p;
    return nullptr;
  }
  Bytes Value(const FdtProp& p) const { return bytes.subspan(p.value_offset, p.len); }
  // A string property: up to the first NUL, control bytes replaced, so reports stay clean.
  std::string String(const FdtNode& n, std::string_view name) const {
    const FdtProp* p = Prop(n, name);
    if (p == nullptr) return "";
    std::string out;
    for (std::byte b : Value(*p)) {
      char c = static_cast<char>(b);
      if (c == '\0') break;
      out += (c >= 0x20 && c < 0x7F) ? c : '?';
    }
    return out;
  }
  // A string-list property ("a\0b\0"), joined with ", ".
  std::string StringList(const FdtNode& n, std::string_view name) const {
    const FdtProp* p = Prop(n, name);
    if (p == nullptr) return "";
    std::string out;
    bool start = true;
    for (std::byte b : Value(*p)) {
      char c = static_cast<char>(b);
      if (c == '\0') {
        start = true;
        continue;
      }
      if (start && !out.empty()) out += ", ";
      start = false;
      out += (c >= 0x20 && c < 0x7F) ? c : '?';
    }
    return out;
  }
  std::optional<uint32_t> U32(const FdtNode& n, std::string_view name) const {
    const FdtProp* p = Prop(n, name);
    if (p == nullptr || p->len != 4) return std::nullopt;
    return *ReadU32(Value(*p), 0, Endian::kBig);
  }
};

Result<Fdt> ParseFdt(Bytes data, uint64_t base) {
  auto fail = [&](std::string msg, uint64_t at = 0) {
    return Fail(ErrorCode::kMalformed, "device tree: " + msg, base + at);
  };
  if (data.size() < kFdtHeaderSize)
    return Fail(ErrorCode::kTruncated, "device tree header cut short", base);
  ByteReader h(data.first(kFdtHeaderSize), base);
  uint32_t magic = *h.U32be();
  uint32_t totalsize = *h.U32be();
  uint32_t off_struct = *h.U32be();
  uint32_t off_strings = *h.U32be();
  uint32_t off_rsvmap = *h.U32be();
  uint32_t version = *h.U32be();
  uint32_t last_comp = *h.U32be();
  (void)*h.U32be();  // boot_cpuid_phys
  uint32_t size_strings = *h.U32be();
  uint32_t size_struct = *h.U32be();
  if (magic != kFdtMagic) return fail("bad magic");
  // Versions before 16 are long obsolete; 17 is what every tool writes.
  if (version < 16 || version > 32 || last_comp > 17 || last_comp > version)
    return fail(fmt::format("unsupported version {} (compatible {})", version, last_comp));
  if (totalsize < kFdtHeaderSize) return fail("totalsize smaller than the header");
  if (off_rsvmap < kFdtHeaderSize || off_rsvmap >= totalsize || off_rsvmap % 8 != 0)
    return fail("memory reservation map outside the tree");
  if (off_struct < kFdtHeaderSize || off_struct >= totalsize || off_struct % 4 != 0)
    return fail("structure block outside the tree");
  if (off_strings > totalsize || size_strings > totalsize - off_strings)
    return fail("strings block outside the tree");
  if (version < 17) size_struct = totalsize - off_struct;
  if (size_struct > totalsize - off_struct) return fail("structure block outside the tree");

  Fdt fdt;
  fdt.totalsize = totalsize;
  fdt.version = version;
  fdt.bytes = data.first(std::min<size_t>(totalsize, data.size()));
  if (uint64_t{off_struct} + size_struct > fdt.bytes.size() ||
      uint64_t{off_strings} + size_strings > fdt.bytes.size())
    return Fail(ErrorCode::kTruncated, "device tree blocks extend past the data", base);
  Bytes strings = fdt.bytes.subspan(off_strings, size_strings);
  Bytes sblock = fdt.bytes.subspan(off_struct, size_struct);

  ByteReader r(sblock, base + off_struct);
  std::vector<size_t> stack;  // open nodes
  size_t prop_count = 0;
  bool ended = false;
  while (!ended) {
    auto tok = r.U32be();
    if (!tok) return fail("structure block ends without FDT_END", off_struct + r.pos());
    switch (*tok) {
      case kBeginNode: {
        if (stack.empty() && !fdt.nodes.empty()) return fail("second root node");
        if (stack.size() >= static_cast<size_t>(kMaxDepth)) return fail("nesting too deep");
        if (fdt.nodes.size() >= kMaxNodes) return fail("too many nodes");
        std::string_view rest = AsChars(sblock.subspan(r.pos()));
        size_t nul = rest.substr(0, kMaxNameLen + 1).find('\0');
        if (nul == std::string_view::npos) return fail("unterminated node name");
        std::string_view name = rest.substr(0, nul);
        if (stack.empty() && !name.empty()) return fail("root node has a name");
        if (!stack.empty() && name.empty()) return fail("node without a name");
        if (!r.Skip((nul + 1 + 3) & ~size_t{3})) return fail("node name past the block");
        fdt.nodes.push_back({name, {}, {}});
        size_t idx = fdt.nodes.size() - 1;
        if (!stack.empty()) fdt.nodes[stack.back()].children.push_back(idx);
        stack.push_back(idx);
        break;
      }
      case kEndNode:
        if (stack.empty()) return fail("FDT_END_NODE without a node");
        stack.pop_back();
        break;
      case kProp: {
        if (stack.empty()) return fail("property outside any node");
        if (++prop_count > kMaxProps) return fail("too many properties");
        auto len = r.U32be();
        auto nameoff = r.U32be();
        if (!len || !nameoff) return fail("property header past the block");
        if (*nameoff >= strings.size()) return fail("property name outside the strings block");
        std::string_view sn = AsChars(strings.subspan(*nameoff));
        size_t nul = sn.find('\0');
        if (nul == std::string_view::npos) return fail("unterminated property name");
        size_t value_at = off_struct + r.pos();
        if (*len > r.remaining()) return fail("property value past the block");
        (void)r.Skip(*len);
        if (!r.Skip(std::min<size_t>((4 - *len % 4) % 4, r.remaining())))
          return fail("property padding past the block");
        fdt.nodes[stack.back()].props.push_back({sn.substr(0, nul), value_at, *len});
        break;
      }
      case kNop:
        break;
      case kEnd:
        ended = true;
        break;
      default:
        return fail(fmt::format("unknown token 0x{:x}", *tok), off_struct + r.pos() - 4);
    }
  }
  if (fdt.nodes.empty()) return fail("no root node");
  if (!stack.empty()) return fail("FDT_END inside an open node");
  return fdt;
}

// One image of a FIT, located.
struct FitImage {
  const FdtNode* node;
  uint64_t offset;  // from the start of the tree
  uint64_t size;
  bool external;
};

// The images of a FIT; empty when the tree is not one.
std::vector<FitImage> FitImages(const Fdt& fdt) {
  std::vector<FitImage> out;
  const FdtNode* images = fdt.Child(fdt.nodes[0], "images");
  if (images == nullptr) return out;
  // External data starts after the tree, on a 4-byte boundary.
  const uint64_t ext_base = (uint64_t{fdt.totalsize} + 3) & ~uint64_t{3};
  for (size_t c : images->children) {
    const FdtNode& n = fdt.nodes[c];
    if (const FdtProp* d = Fdt::Prop(n, "data")) {
      out.push_back({&n, d->value_offset, d->len, false});
      continue;
    }
    auto size = fdt.U32(n, "data-size");
    if (!size) continue;
    if (auto pos = fdt.U32(n, "data-position")) {
      out.push_back({&n, *pos, *size, true});
    } else if (auto off = fdt.U32(n, "data-offset")) {
      out.push_back({&n, ext_base + *off, *size, true});
    }
  }
  return out;
}

std::string HexString(Bytes b) {
  std::string s;
  for (std::byte x : b) s += fmt::format("{:02x}", static_cast<uint8_t>(x));
  return s;
}

// Checks the hash sub-nodes of an image ("hash-1 { algo = "sha256"; value = <...>; }").
void CheckHashes(const Fdt& fdt, const FitImage& img, Bytes payload, Parsed& p) {
  for (size_t c : img.node->children) {
    const FdtNode& h = fdt.nodes[c];
    if (!h.name.starts_with("hash")) continue;
    std::string algo = fdt.String(h, "algo");
    const FdtProp* value = Fdt::Prop(h, "value");
    if (value == nullptr || algo.empty()) continue;
    std::string computed;
    if (algo == "crc32") {
      uLong crc = crc32(0, nullptr, 0);
      Bytes b = payload;
      while (!b.empty()) {
        size_t n = std::min<size_t>(b.size(), 1u << 30);
        crc = crc32(crc, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(n));
        b = b.subspan(n);
      }
      computed = fmt::format("{:08x}", static_cast<uint32_t>(crc));
    } else {
      const EVP_MD* md = algo == "sha1"     ? EVP_sha1()
                         : algo == "sha256" ? EVP_sha256()
                         : algo == "sha384" ? EVP_sha384()
                         : algo == "sha512" ? EVP_sha512()
                         : algo == "md5"    ? EVP_md5()
                                            : nullptr;
      if (md == nullptr) continue;
      unsigned char out[EVP_MAX_MD_SIZE];
      unsigned int out_len = 0;
      if (EVP_Digest(payload.data(), payload.size(), out, &out_len, md, nullptr) != 1) continue;
      computed = HexString(Bytes(reinterpret_cast<const std::byte*>(out), out_len));
    }
    std::string stored = HexString(fdt.Value(*value));
    std::string key = fmt::format("{}.{}", img.node->name, algo);
    if (stored == computed) {
      p.details.push_back({key, "ok"});
    } else {
      p.details.push_back({key, "mismatch"});
      p.warnings.push_back(fmt::format("FIT image {}: {} mismatch: stored {}, computed {}",
                                       img.node->name, algo, stored, computed));
    }
  }
}

Result<Parsed> ParseFit(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  auto fdt = ParseFdt(data, ctx.offset);
  if (!fdt) return std::unexpected(fdt.error());
  std::vector<FitImage> images = FitImages(*fdt);
  if (images.empty())
    return Fail(ErrorCode::kMalformed, "device tree is not a FIT image", ctx.offset);

  Parsed p;
  p.size = fdt->totalsize;
  const FdtNode& root = fdt->nodes[0];
  if (std::string d = fdt->String(root, "description"); !d.empty())
    p.details.push_back({"description", d});
  if (auto t = fdt->U32(root, "timestamp")) p.details.push_back({"timestamp", std::to_string(*t)});
  p.details.push_back({"images", std::to_string(images.size())});
  if (const FdtNode* conf = fdt->Child(root, "configurations"))
    if (std::string def = fdt->String(*conf, "default"); !def.empty())
      p.details.push_back({"default_configuration", def});

  for (const FitImage& img : images) {
    std::string name(img.node->name);
    for (std::string_view field : {"description", "type", "arch", "os", "compression"})
      if (std::string v = fdt->String(*img.node, field); !v.empty())
        p.details.push_back({fmt::format("{}.{}", name, field), v});
    if (auto load = fdt->U32(*img.node, "load"))
      p.details.push_back({name + ".load", fmt::format("0x{:08x}", *load)});
    if (auto entry = fdt->U32(*img.node, "entry"))
      p.details.push_back({name + ".entry", fmt::format("0x{:08x}", *entry)});
    p.details.push_back({name + ".size", std::to_string(img.size)});
    if (img.external) {
      p.details.push_back({name + ".data", fmt::format("external at 0x{:x}", img.offset)});
      p.size = std::max<uint64_t>(p.size, img.offset + img.size);
    }
    if (img.offset >= data.size() || img.size > data.size() - img.offset) {
      p.warnings.push_back(fmt::format("FIT image {} ({} bytes at 0x{:x}) runs past the data", name,
                                       img.size, img.offset));
      p.truncated = true;
      if (img.offset >= data.size()) continue;
    } else {
      CheckHashes(*fdt, img, data.subspan(img.offset, img.size), p);
    }
    p.children.push_back({name, ctx.blob.Slice(ctx.offset + img.offset, img.size)});
  }
  if (p.size > data.size()) p.truncated = true;
  return p;
}

Result<Parsed> ParseDtb(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  auto fdt = ParseFdt(data, ctx.offset);
  if (!fdt) return std::unexpected(fdt.error());
  if (!FitImages(*fdt).empty())
    return Fail(ErrorCode::kMalformed, "device tree is a FIT image", ctx.offset);
  Parsed p;
  p.size = fdt->totalsize;
  p.truncated = fdt->totalsize > data.size();
  const FdtNode& root = fdt->nodes[0];
  if (std::string m = fdt->String(root, "model"); !m.empty()) p.details.push_back({"model", m});
  if (std::string c = fdt->StringList(root, "compatible"); !c.empty())
    p.details.push_back({"compatible", c});
  p.details.push_back({"version", std::to_string(fdt->version)});
  p.details.push_back({"nodes", std::to_string(fdt->nodes.size())});
  return p;
}

}  // namespace

extern const FormatHandler fit_handler{
    "fit",  FormatKind::kContainer, "U-Boot FIT image (flattened image tree)", kMagics, ParseFit,
    nullptr};
extern const FormatHandler dtb_handler{
    "dtb", FormatKind::kRecognizer, "Flattened device tree blob (DTB)", kMagics, ParseDtb, nullptr};

}  // namespace firmwarden::unpack
