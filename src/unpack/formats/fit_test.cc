#include <gtest/gtest.h>

#include "unpack/formats/handler_test_util.h"

namespace firmwarden::unpack::testing {
namespace {

using firmwarden::testing::RandomBytes;
using firmwarden::testing::ReadFile;
using firmwarden::testing::Sh;
using firmwarden::testing::Sha256Hex;
using firmwarden::testing::TempDir;
using firmwarden::testing::WriteFile;

bool HaveTool(const char* tool) {
  return Shell(std::string("command -v ") + tool + " >/dev/null 2>&1") == 0;
}

// A device tree written token by token, for shapes dtc would refuse to produce.
class FdtBuilder {
 public:
  FdtBuilder& Begin(std::string_view name) {
    Token(1);
    st_ += name;
    st_ += '\0';
    Pad();
    return *this;
  }
  FdtBuilder& End() {
    Token(2);
    return *this;
  }
  FdtBuilder& Prop(std::string_view name, std::string_view value) {
    Token(3);
    Token(static_cast<uint32_t>(value.size()));
    Token(static_cast<uint32_t>(strings_.size()));
    strings_ += name;
    strings_ += '\0';
    st_ += value;
    Pad();
    return *this;
  }
  FdtBuilder& Raw(uint32_t token) {
    Token(token);
    return *this;
  }
  std::string Finish(bool with_end = true) {
    if (with_end) Token(9);
    std::string h(40, '\0');
    const uint32_t off_rsv = 40, off_struct = 56;
    const uint32_t off_strings = off_struct + static_cast<uint32_t>(st_.size());
    const uint32_t total = off_strings + static_cast<uint32_t>(strings_.size());
    PutU32(h, 0, 0xD00DFEED, true);
    PutU32(h, 4, total, true);
    PutU32(h, 8, off_struct, true);
    PutU32(h, 12, off_strings, true);
    PutU32(h, 16, off_rsv, true);
    PutU32(h, 20, 17, true);
    PutU32(h, 24, 16, true);
    PutU32(h, 32, static_cast<uint32_t>(strings_.size()), true);
    PutU32(h, 36, static_cast<uint32_t>(st_.size()), true);
    return h + std::string(16, '\0') + st_ + strings_;
  }

 private:
  void Token(uint32_t v) { PutU32(st_, st_.size(), v, true); }
  void Pad() { st_.resize((st_.size() + 3) & ~size_t{3}, '\0'); }
  std::string st_, strings_;
};

std::string Be32(uint32_t v) {
  std::string s;
  PutU32(s, 0, v, true);
  return s;
}

constexpr const char* kIts = R"(/dts-v1/;
/ {
  description = "Test FIT image";
  #address-cells = <1>;
  images {
    kernel-1 {
      description = "Test kernel";
      data = /incbin/("kernel.bin");
      type = "kernel"; arch = "arm"; os = "linux"; compression = "gzip";
      load = <0x80008000>; entry = <0x80008000>;
      hash-1 { algo = "sha256"; };
      hash-2 { algo = "crc32"; };
    };
    ramdisk-1 {
      description = "Test ramdisk";
      data = /incbin/("ramdisk.bin");
      type = "ramdisk"; arch = "arm"; os = "linux"; compression = "none";
      hash-1 { algo = "sha1"; };
    };
  };
  configurations {
    default = "conf-1";
    conf-1 { kernel = "kernel-1"; ramdisk = "ramdisk-1"; };
  };
};
)";

struct FitFiles {
  std::string kernel, ramdisk, itb;
};

FitFiles BuildFit(const TempDir& dir, bool external) {
  FitFiles f;
  f.kernel = RandomBytes(3001, 1);
  f.ramdisk = RandomBytes(1234, 2);
  WriteFile(dir / "kernel.bin", f.kernel);
  WriteFile(dir / "ramdisk.bin", f.ramdisk);
  WriteFile(dir / "t.its", kIts);
  std::string cmd = "cd " + Sh(dir.path()) + " && SOURCE_DATE_EPOCH=1600000000 mkimage " +
                    (external ? "-E " : "") + "-f t.its t.itb >/dev/null 2>&1";
  if (Shell(cmd) != 0) return {};
  f.itb = ReadFile(dir / "t.itb");
  return f;
}

void ExpectFitDetails(const Parsed& p) {
  EXPECT_EQ(Detail(p, "description"), "Test FIT image");
  EXPECT_EQ(Detail(p, "images"), "2");
  EXPECT_EQ(Detail(p, "default_configuration"), "conf-1");
  EXPECT_EQ(Detail(p, "kernel-1.type"), "kernel");
  EXPECT_EQ(Detail(p, "kernel-1.arch"), "arm");
  EXPECT_EQ(Detail(p, "kernel-1.os"), "linux");
  EXPECT_EQ(Detail(p, "kernel-1.compression"), "gzip");
  EXPECT_EQ(Detail(p, "kernel-1.load"), "0x80008000");
  EXPECT_EQ(Detail(p, "kernel-1.sha256"), "ok");
  EXPECT_EQ(Detail(p, "kernel-1.crc32"), "ok");
  EXPECT_EQ(Detail(p, "ramdisk-1.type"), "ramdisk");
  EXPECT_EQ(Detail(p, "ramdisk-1.compression"), "none");
  EXPECT_EQ(Detail(p, "ramdisk-1.sha1"), "ok");
  EXPECT_TRUE(p.warnings.empty());
}

TEST(Fit, MkimageEmbeddedData) {
  if (!HaveTool("mkimage") || !HaveTool("dtc")) GTEST_SKIP() << "mkimage/dtc not installed";
  TempDir dir;
  FitFiles f = BuildFit(dir, false);
  ASSERT_FALSE(f.itb.empty());
  std::string blob = std::string(64, '\0') + f.itb + std::string(32, '\xff');
  auto p = ParseWith("fit", blob, 64);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, f.itb.size());
  EXPECT_FALSE(p->truncated);
  ExpectFitDetails(*p);
  ASSERT_EQ(p->children.size(), 2u);
  EXPECT_EQ(p->children[0].name, "kernel-1");
  EXPECT_EQ(p->children[1].name, "ramdisk-1");
  EXPECT_EQ(Sha256Hex(BlobString(p->children[0].blob)), Sha256Hex(f.kernel));
  EXPECT_EQ(Sha256Hex(BlobString(p->children[1].blob)), Sha256Hex(f.ramdisk));
  // A FIT is not a plain DTB.
  EXPECT_FALSE(ParseWith("dtb", blob, 64).has_value());

  Unpacked u = Info(blob);
  const Region* r = FindRegion(u.layout, "fit");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 64u);
  EXPECT_EQ(r->size, f.itb.size());
  EXPECT_EQ(FindRegion(u.layout, "dtb"), nullptr);
}

TEST(Fit, MkimageExternalData) {
  if (!HaveTool("mkimage") || !HaveTool("dtc")) GTEST_SKIP() << "mkimage/dtc not installed";
  TempDir dir;
  FitFiles f = BuildFit(dir, true);
  ASSERT_FALSE(f.itb.empty());
  auto p = ParseWith("fit", f.itb);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  ExpectFitDetails(*p);
  uint32_t totalsize = *ReadU32(AsBytes(f.itb), 4, Endian::kBig);
  // The chunk runs to the end of the last external image, past the tree itself (mkimage puts each
  // image on a 4-byte boundary).
  EXPECT_EQ(p->size, ((totalsize + 3) & ~3u) + ((f.kernel.size() + 3) & ~3u) + f.ramdisk.size());
  EXPECT_NE(Detail(*p, "kernel-1.data").find("external"), std::string::npos);
  ASSERT_EQ(p->children.size(), 2u);
  EXPECT_EQ(Sha256Hex(BlobString(p->children[0].blob)), Sha256Hex(f.kernel));
  EXPECT_EQ(Sha256Hex(BlobString(p->children[1].blob)), Sha256Hex(f.ramdisk));

  // External data cut off: truncated, never read past the end.
  auto t = ParseWith("fit", f.itb.substr(0, totalsize + 100));
  ASSERT_TRUE(t.has_value());
  EXPECT_TRUE(t->truncated);
  ASSERT_EQ(t->children.size(), 1u);
  EXPECT_EQ(t->children[0].blob.size(), 100u - (((totalsize + 3) & ~3u) - totalsize));
}

TEST(Fit, HashMismatchIsAWarning) {
  if (!HaveTool("mkimage") || !HaveTool("dtc")) GTEST_SKIP() << "mkimage/dtc not installed";
  TempDir dir;
  FitFiles f = BuildFit(dir, false);
  ASSERT_FALSE(f.itb.empty());
  size_t at = f.itb.find(f.kernel.substr(0, 64));
  ASSERT_NE(at, std::string::npos);
  std::string bad = f.itb;
  bad[at + 10] ^= 1;
  auto p = ParseWith("fit", bad);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(Detail(*p, "kernel-1.sha256"), "mismatch");
  EXPECT_EQ(Detail(*p, "kernel-1.crc32"), "mismatch");
  EXPECT_EQ(p->warnings.size(), 2u);
}

TEST(Dtb, DtcPlainDeviceTree) {
  if (!HaveTool("dtc")) GTEST_SKIP() << "dtc not installed";
  TempDir dir;
  WriteFile(dir / "b.dts", R"(/dts-v1/;
/ {
  model = "Example Board v2";
  compatible = "vendor,example-v2", "vendor,example";
  #address-cells = <1>; #size-cells = <1>;
  memory@80000000 { device_type = "memory"; reg = <0x80000000 0x4000000>; };
  images { note = "an images node without data does not make a FIT"; };
};
)");
  ASSERT_EQ(Shell("dtc -q -I dts -O dtb -o " + Sh(dir / "b.dtb") + " " + Sh(dir / "b.dts")), 0);
  std::string dtb = ReadFile(dir / "b.dtb");
  std::string blob = "junk" + dtb + "more junk";
  auto p = ParseWith("dtb", blob, 4);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, dtb.size());
  EXPECT_EQ(Detail(*p, "model"), "Example Board v2");
  EXPECT_EQ(Detail(*p, "compatible"), "vendor,example-v2, vendor,example");
  EXPECT_EQ(Detail(*p, "version"), "17");
  EXPECT_TRUE(p->children.empty());
  EXPECT_FALSE(ParseWith("fit", blob, 4).has_value());

  Unpacked u = Info(blob);
  const Region* r = FindRegion(u.layout, "dtb");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 4u);
  EXPECT_EQ(r->size, dtb.size());
}

TEST(Fdt, HandBuiltFitAndDtb) {
  std::string fit = FdtBuilder()
                        .Begin("")
                        .Prop("description", std::string("hand made\0", 10))
                        .Begin("images")
                        .Begin("fw@1")
                        .Prop("data", "PAYLOAD!")
                        .Prop("type", std::string("firmware\0", 9))
                        .End()
                        .End()
                        .End()
                        .Finish();
  auto p = ParseWith("fit", fit);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  ASSERT_EQ(p->children.size(), 1u);
  EXPECT_EQ(p->children[0].name, "fw@1");
  EXPECT_EQ(BlobString(p->children[0].blob), "PAYLOAD!");
  EXPECT_EQ(Detail(*p, "fw@1.type"), "firmware");
  EXPECT_EQ(p->size, fit.size());
}

TEST(Fdt, HostileStructuresRejected) {
  // Nesting far deeper than any real tree.
  FdtBuilder deep;
  deep.Begin("");
  for (int i = 0; i < 10000; ++i) deep.Begin("n");
  for (int i = 0; i < 10000; ++i) deep.End();
  deep.End();
  std::string d = deep.Finish();
  EXPECT_FALSE(ParseWith("dtb", d).has_value());
  EXPECT_FALSE(ParseWith("fit", d).has_value());

  // Structures that look cyclic or unbalanced.
  std::vector<std::string> bad = {
      FdtBuilder().Begin("").Finish(),                        // END inside an open node
      FdtBuilder().Begin("").End().End().Finish(),            // END_NODE without a node
      FdtBuilder().Begin("").End().Begin("").End().Finish(),  // two roots
      FdtBuilder().Begin("x").End().Finish(),                 // named root
      FdtBuilder().Prop("p", "v").Begin("").End().Finish(),   // property outside a node
      FdtBuilder().Begin("").Raw(7).End().Finish(),           // unknown token
      FdtBuilder().Begin("").End().Finish(false),             // no FDT_END
      FdtBuilder().Begin("").Begin("").End().End().Finish(),  // unnamed child
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_FALSE(ParseWith("dtb", bad[i]).has_value()) << i;
    EXPECT_FALSE(ParseWith("fit", bad[i]).has_value()) << i;
  }

  // Property length and name offset past their blocks.
  std::string good = FdtBuilder().Begin("").Prop("model", "m").End().Finish();
  ASSERT_TRUE(ParseWith("dtb", good).has_value());
  size_t prop = 56 + 8;  // BEGIN_NODE "" (8 bytes), then PROP
  std::string len_bad = good;
  PutU32(len_bad, prop + 4, 0x7FFFFFFF, true);
  EXPECT_FALSE(ParseWith("dtb", len_bad).has_value());
  std::string name_bad = good;
  PutU32(name_bad, prop + 8, 0x10000, true);
  EXPECT_FALSE(ParseWith("dtb", name_bad).has_value());
  // Header offsets outside the tree, wrong versions.
  for (size_t field : {8u, 12u, 16u}) {
    std::string h = good;
    PutU32(h, field, 0xFFFFFFF0, true);
    EXPECT_FALSE(ParseWith("dtb", h).has_value()) << field;
  }
  std::string v = good;
  PutU32(v, 20, 3, true);
  EXPECT_FALSE(ParseWith("dtb", v).has_value());

  // A FIT whose image points far outside: accepted as truncated, nothing read past the end.
  std::string ext = FdtBuilder()
                        .Begin("")
                        .Begin("images")
                        .Begin("k")
                        .Prop("data-size", Be32(0x1000))
                        .Prop("data-position", Be32(0xFFFFFF00))
                        .End()
                        .End()
                        .End()
                        .Finish();
  auto p = ParseWith("fit", ext);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->truncated);
  EXPECT_TRUE(p->children.empty());
}

TEST(Fdt, TruncatedAtEveryOffsetRejected) {
  std::string fit = FdtBuilder()
                        .Begin("")
                        .Begin("images")
                        .Begin("a")
                        .Prop("data", RandomBytes(100, 3))
                        .End()
                        .End()
                        .Prop("model", std::string("x\0", 2))
                        .End()
                        .Finish();
  for (size_t n = 0; n < fit.size(); ++n) {
    EXPECT_FALSE(ParseWith("fit", fit.substr(0, n)).has_value()) << n;
    EXPECT_FALSE(ParseWith("dtb", fit.substr(0, n)).has_value()) << n;
  }
}

TEST(Fdt, GarbageAndBitFlips) {
  for (uint64_t seed = 0; seed < 300; ++seed) {
    std::string g = std::string("\xd0\x0d\xfe\xed", 4) + RandomBytes(500, seed);
    EXPECT_FALSE(ParseWith("fit", g).has_value()) << seed;
    EXPECT_FALSE(ParseWith("dtb", g).has_value()) << seed;
  }
  std::string fit = FdtBuilder()
                        .Begin("")
                        .Prop("description", std::string("d\0", 2))
                        .Begin("images")
                        .Begin("a")
                        .Prop("data", RandomBytes(64, 4))
                        .Begin("hash-1")
                        .Prop("algo", std::string("crc32\0", 6))
                        .Prop("value", Be32(0))
                        .End()
                        .End()
                        .Begin("b")
                        .Prop("data-size", Be32(10))
                        .Prop("data-offset", Be32(0))
                        .End()
                        .End()
                        .End()
                        .Finish() +
                    "0123456789";
  for (uint64_t seed = 0; seed < 400; ++seed) {
    std::string m = FlipBits(fit, seed, 1 + seed % 4, 4);
    auto p = ParseWith("fit", m);
    if (p) {
      for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), m.size());
    }
    (void)ParseWith("dtb", m);
    if (seed % 10 == 0) Info(m);
  }
}

}  // namespace
}  // namespace firmwarden::unpack::testing
