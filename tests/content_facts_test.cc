// Facts computed once for the checks: web handlers (facts/web_handlers.h).
#include <gtest/gtest.h>

#include "facts/web_handlers.h"

namespace firmwarden {
namespace {

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

}  // namespace
}  // namespace firmwarden
