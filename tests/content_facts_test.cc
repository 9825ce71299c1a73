// Facts computed once for the checks: web handlers (facts/web_handlers.h), the library names and
// AES S-box found in the one pass over file contents (facts/program_bytes.h), each unit on its
// own and through BuildModel on a small packed image.
#include <gtest/gtest.h>

#include <algorithm>

#include "facts/device_model.h"
#include "facts/program_bytes.h"
#include "facts/web_handlers.h"
#include "firmwarden/unpack.h"
#include "test_util.h"

namespace firmwarden {
namespace {

namespace t = firmwarden::testing;
using namespace facts;

TEST(WebHandlers, PathsThatWebServersRun) {
  EXPECT_TRUE(IsWebHandlerPath("www/cgi-bin/status"));
  EXPECT_TRUE(IsWebHandlerPath("usr/share/x/admin.cgi"));
  EXPECT_TRUE(IsWebHandlerPath("var/www/index.php"));
  EXPECT_TRUE(IsWebHandlerPath("www/apply.sh"));
  EXPECT_TRUE(IsWebHandlerPath("usr/lib/lua/luci/controller/admin.lua"));
  EXPECT_FALSE(IsWebHandlerPath("etc/init.d/apply.sh"));
  EXPECT_FALSE(IsWebHandlerPath("usr/lib/lua/json.lua"));
  EXPECT_FALSE(IsWebHandlerPath("www/index.html"));
}

TEST(WebHandlers, KindShebangAndText) {
  WebHandler sh = MakeWebHandler("www/cgi-bin/reboot", "#!/bin/sh\nreboot\n", false);
  EXPECT_EQ(sh.path, "/www/cgi-bin/reboot");
  EXPECT_EQ(sh.kind, HandlerKind::kShell);
  EXPECT_TRUE(sh.cgi);
  EXPECT_FALSE(sh.binary);
  EXPECT_EQ(sh.shebang, "#!/bin/sh");
  EXPECT_EQ(sh.text, "#!/bin/sh\nreboot\n");

  // PHP by content wins over the shebang; the shebang stays for the checks that want it.
  WebHandler php = MakeWebHandler("www/cgi-bin/x.cgi", "#!/usr/bin/php-cgi\n<?php echo 1;", false);
  EXPECT_EQ(php.kind, HandlerKind::kPhp);
  EXPECT_EQ(php.shebang, "#!/usr/bin/php-cgi");
  EXPECT_EQ(HandlerKindName(php.kind), "php");

  WebHandler lua = MakeWebHandler("usr/lib/lua/luci/controller/a.lua", "module(...)", false);
  EXPECT_EQ(lua.kind, HandlerKind::kLua);
  EXPECT_FALSE(lua.cgi);
  EXPECT_TRUE(lua.shebang.empty());

  WebHandler perl = MakeWebHandler("www/cgi-bin/p", std::string("#!/usr/bin/perl\n\0x", 18), false);
  EXPECT_EQ(perl.kind, HandlerKind::kOther);
  EXPECT_TRUE(perl.binary);

  WebHandler elf = MakeWebHandler("www/cgi-bin/luci", "ignored", true);
  EXPECT_EQ(elf.kind, HandlerKind::kElf);
  EXPECT_TRUE(elf.text.empty());
}

ElfInfo Library(std::string soname) {
  ElfInfo e;
  e.type = ElfType::kDyn;
  e.soname = std::move(soname);
  return e;
}

TEST(LibraryNames, FindsStemsAndSonamesAnywhereButInTheLibraryItself) {
  std::map<std::string, ElfInfo> elves;
  elves["/usr/lib/libfoo.so.1.2"] = Library("libfoo.so.1");
  elves["/usr/lib/libuClibc-0.9.33.so"] = Library("libc.so.0");
  elves["/usr/lib/plugin.so"] = Library("weird-soname");  // a soname without ".so"
  ElfInfo program;
  program.type = ElfType::kDyn;
  program.interpreter = "/lib/ld.so.1";
  elves["/usr/bin/pie.so"] = program;    // a PIE program: not a library
  elves["/usr/bin/tool"] = Library("");  // no ".so" in the name
  LibraryNames names(elves);
  EXPECT_EQ(names.size(), 3u);

  std::map<std::string, std::string> named;
  // Its own soname inside the library does not count.
  names.Scan(std::string("\0libfoo.so.1\0", 13), "/usr/lib/libfoo.so.1.2", named);
  EXPECT_TRUE(named.empty());
  // The stem inside a longer path, the soname of the C library, the plain name.
  names.Scan("dlopen(\"/usr/lib/libfoo.so\") xlibc.so.0 weird-soname", "/usr/bin/a", named);
  names.Scan("libfoo.so.1", "/usr/bin/b", named);  // named already: the first file stays
  ASSERT_EQ(named.size(), 3u);
  EXPECT_EQ(named["/usr/lib/libfoo.so.1.2"], "/usr/bin/a");
  EXPECT_EQ(named["/usr/lib/libuClibc-0.9.33.so"], "/usr/bin/a");
  EXPECT_EQ(named["/usr/lib/plugin.so"], "/usr/bin/a");

  std::map<std::string, std::string> none;
  names.Scan("libfo.so libfoo.s0 libc.so.1 libuClibc.so .so .so.so", "/etc/x.conf", none);
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(MayNameLibraries("etc/ld.so.conf"));
  EXPECT_TRUE(MayNameLibraries("usr/share/x/run.sh"));
  EXPECT_FALSE(MayNameLibraries("usr/share/doc/README"));
}

TEST(AesSbox, FirstOccurrenceOfTheFirstSixteenBytes) {
  const std::string sbox("\x63\x7c\x77\x7b\xf2\x6b\x6f\xc5\x30\x01\x67\x2b\xfe\xd7\xab\x76", 16);
  EXPECT_EQ(FindAesSbox("xx" + sbox + sbox), 2u);
  EXPECT_EQ(FindAesSbox(sbox.substr(0, 15) + "!"), std::nullopt);
  EXPECT_EQ(FindAesSbox(""), std::nullopt);
}

TEST(Captures, PcapMagicsAndVersionAndPcapngSectionHeader) {
  using namespace std::string_literals;
  std::string rest(8, '\0');
  EXPECT_EQ(SniffCapture("\xd4\xc3\xb2\xa1\x02\x00\x04\x00"s + rest), CaptureFormat::kPcap);
  EXPECT_EQ(SniffCapture("\xa1\xb2\xc3\xd4\x00\x02\x00\x04"s + rest), CaptureFormat::kPcap);
  EXPECT_EQ(SniffCapture("\x4d\x3c\xb2\xa1\x02\x00\x04\x00"s + rest), CaptureFormat::kPcap);
  EXPECT_EQ(SniffCapture("\xa1\xb2\x3c\x4d\x00\x02\x00\x04"s + rest), CaptureFormat::kPcap);
  // another major version is not pcap 2.x
  EXPECT_EQ(SniffCapture("\xd4\xc3\xb2\xa1\x01\x00\x00\x00"s + rest), std::nullopt);
  EXPECT_EQ(SniffCapture("\xa1\xb2\xc3\xd4\x02\x00\x04\x00"s + rest), std::nullopt);
  std::string shb = "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00"s;
  EXPECT_EQ(SniffCapture(shb + "\x4d\x3c\x2b\x1a"s), CaptureFormat::kPcapng);
  EXPECT_EQ(SniffCapture("\x0a\x0d\x0d\x0a\x00\x00\x00\x1c\x1a\x2b\x3c\x4d"s),
            CaptureFormat::kPcapng);
  EXPECT_EQ(SniffCapture(shb + "\x00\x00\x00\x00"s), std::nullopt);  // no byte-order magic
  EXPECT_EQ(SniffCapture(shb + "\x4d\x3c\x2b"s), std::nullopt);      // under 12 bytes
  EXPECT_EQ(SniffCapture(""), std::nullopt);
  EXPECT_EQ(SniffCapture("\x7f"
                         "ELF\x01\x01\x01\x00\x00\x00\x00\x00"s),
            std::nullopt);
}

// The facts from BuildModel on a packed root file system.
struct Built {
  t::TempDir dir;
  Unpacked unpacked;
  std::unique_ptr<DeviceModel> model;
};

std::unique_ptr<Built> Build(const std::string& spec) {
  auto b = std::make_unique<Built>();
  t::WriteFile(b->dir / "spec", spec);
  EXPECT_EQ(t::PackSpec(b->dir / "spec", b->dir / "image.tar"), 0);
  UnpackOptions o;
  o.output_dir = b->dir / "out";
  auto u = Unpack(b->dir / "image.tar", o);
  EXPECT_TRUE(u) << (u ? "" : u.error().message);
  if (!u) return b;
  b->unpacked = std::move(*u);
  b->model = BuildModel(b->unpacked, *o.output_dir);
  return b;
}

// Every walk of the tree sees it in path order, whatever order the unpacker produced (SquashFS
// decompresses on several threads).
TEST(ContentFacts, RootFsWalksTheTreeInPathOrder) {
  if (t::CorpusDir().empty()) GTEST_SKIP() << "no corpus (FIRMWARDEN_CORPUS_DIR)";
  std::string img = t::CorpusDir() + "/bookworm-mipsel/squashfs-xz.sqfs";
  if (!t::Exists(img)) GTEST_SKIP() << "no " << img;
  t::TempDir d;
  UnpackOptions o;
  o.output_dir = d / "out";
  auto u = Unpack(img, o);
  ASSERT_TRUE(u) << u.error().message;
  auto model = BuildModel(*u, *o.output_dir);
  const std::vector<const FileEntry*>& all = model->fs.All();
  ASSERT_GT(all.size(), 100u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const FileEntry* x, const FileEntry* y) {
    return x->tree_path < y->tree_path;
  }));
  EXPECT_EQ(all.size(), u->files.EntriesOf(model->fs.tree()).size());
}

TEST(ContentFacts, WebHandlersLibraryNamesAndAesSboxFromTheModel) {
  auto b = Build(R"(=== file etc/passwd
root:x:0:0:root:/root:/bin/sh
=== file www/cgi-bin/apply
#!/bin/sh
nvram set x=$QUERY_STRING
=== file www/index.html
<html></html>
=== file usr/lib/lua/luci/controller/admin/system.lua
module("luci.controller.admin.system", package.seeall)
=== file www/cgi-bin/empty.cgi
=== cc usr/lib/libplug.so.1 mode=0755 flags="-shared -fPIC -Wl,-soname,libplug.so.1"
int plug(void) { return 1; }
=== cc usr/lib/libalone.so.1 mode=0755 flags="-shared -fPIC -Wl,-soname,libalone.so.1"
int alone(void) { return 2; }
=== cc usr/bin/loader mode=0755 flags="-O0"
const char *name = "/usr/lib/libplug.so";
int main(void) { return name[0]; }
=== cc usr/bin/crypt mode=0755 flags="-O0"
const unsigned char sbox[] = {0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5,
                              0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76};
int main(int argc, char **argv) { (void)argv; return sbox[argc]; }
)");
  ASSERT_NE(b->model, nullptr);
  const DeviceModel& m = *b->model;
  ASSERT_EQ(m.web_handlers.size(), 2u);  // the empty CGI and the HTML page are not handlers
  std::map<std::string, const WebHandler*> by_path;
  for (const WebHandler& h : m.web_handlers) by_path[h.path] = &h;
  const WebHandler* lua = by_path["/usr/lib/lua/luci/controller/admin/system.lua"];
  const WebHandler* cgi = by_path["/www/cgi-bin/apply"];
  ASSERT_NE(lua, nullptr);
  ASSERT_NE(cgi, nullptr);
  EXPECT_EQ(lua->kind, HandlerKind::kLua);
  EXPECT_EQ(cgi->kind, HandlerKind::kShell);
  EXPECT_TRUE(cgi->cgi);
  EXPECT_NE(cgi->text.find("nvram set"), std::string::npos);

  ASSERT_EQ(m.elves.count("/usr/lib/libplug.so.1"), 1u);
  auto named = m.library_named_by.find("/usr/lib/libplug.so.1");
  ASSERT_NE(named, m.library_named_by.end());
  EXPECT_EQ(named->second, "/usr/bin/loader");
  EXPECT_EQ(m.library_named_by.count("/usr/lib/libalone.so.1"), 0u);

  ASSERT_EQ(m.aes_sbox.count("/usr/bin/crypt"), 1u);
  EXPECT_EQ(m.aes_sbox.count("/usr/bin/loader"), 0u);
}

// Captures come from the ELF facts' read of each file's first bytes: by magic, not by name, and
// only from files long enough for a capture header; ELF files are still recognised.
TEST(ContentFacts, CapturesFromTheFirstBytesOfEveryFile) {
  auto b = Build(std::string(R"(=== file etc/passwd
root:x:0:0:root:/root:/bin/sh
=== cc usr/bin/tool mode=0755 flags="-O0"
int main(void) { return 0; }
)") + t::kCaptureSamplesSpec);
  ASSERT_NE(b->model, nullptr);
  const DeviceModel& m = *b->model;
  EXPECT_EQ(m.captures,
            (std::map<std::string, CaptureFormat>{{"/srv/be.cap", CaptureFormat::kPcap},
                                                  {"/srv/trace.bin", CaptureFormat::kPcapng}}));
  EXPECT_EQ(m.elves.count("/usr/bin/tool"), 1u);
}

}  // namespace
}  // namespace firmwarden
