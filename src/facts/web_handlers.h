// Web handlers: the CGI programs and scripts (shell, PHP, Lua/LuCI) that the device's web servers
// run, read once with their text for the checks that look at request handling (FS-08, SVC-14).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace firmwarden::facts {

inline constexpr uint64_t kMaxWebHandlerBytes = 1 << 20;

enum class HandlerKind {
  kElf,    // a compiled program (in DeviceModel::elves); no text
  kPhp,    // *.php, or a text containing "<?php"
  kLua,    // *.lua (LuCI controllers and views)
  kShell,  // a "#!" line naming a shell (sh, ash, bash, haserl --shell=…)
  kOther   // any other text (*.asp, Perl CGIs, …)
};
std::string_view HandlerKindName(HandlerKind k);  // "elf", "php", "lua", "shell", "other"

struct WebHandler {
  std::string path;  // device path
  HandlerKind kind = HandlerKind::kOther;
  bool cgi = false;     // under a cgi-bin/ directory or named *.cgi
  bool binary = false;  // the text contains a NUL byte
  std::string shebang;  // the first line when it starts with "#!" (as written), else ""
  std::string text;     // the whole file (at most kMaxWebHandlerBytes); "" for kElf
};

// Whether a tree path ("www/cgi-bin/x", no leading '/') names a web handler: anything under
// cgi-bin/, *.cgi, *.php, *.asp, *.sh and *.lua under www/, and LuCI's Lua under
// usr/lib/lua/luci/.
bool IsWebHandlerPath(std::string_view tree_path);

// Classifies one handler from its tree path and content (`elf`: the file parsed as an ELF).
WebHandler MakeWebHandler(std::string_view tree_path, std::string text, bool elf);

}  // namespace firmwarden::facts
