#include "facts/web_handlers.h"

#include "facts/device_model.h"

namespace firmwarden::facts {

std::string_view HandlerKindName(HandlerKind k) {
  switch (k) {
    case HandlerKind::kElf:
      return "elf";
    case HandlerKind::kPhp:
      return "php";
    case HandlerKind::kLua:
      return "lua";
    case HandlerKind::kShell:
      return "shell";
    case HandlerKind::kOther:
      break;
  }
  return "other";
}

bool IsWebHandlerPath(std::string_view p) {
  return p.find("cgi-bin/") != std::string_view::npos || p.ends_with(".cgi") ||
         p.ends_with(".php") || p.ends_with(".asp") ||
         (p.starts_with("www/") && p.ends_with(".sh")) ||
         (p.starts_with("usr/lib/lua/luci/") && p.ends_with(".lua")) ||
         (p.starts_with("www/") && p.ends_with(".lua"));
}

WebHandler MakeWebHandler(std::string_view tree_path, std::string text, bool elf) {
  WebHandler h;
  h.path = "/" + std::string(tree_path);
  h.cgi = tree_path.find("cgi-bin/") != std::string_view::npos || tree_path.ends_with(".cgi");
  if (elf) {
    h.kind = HandlerKind::kElf;
    return h;
  }
  h.binary = text.find('\0') != std::string::npos;
  if (text.starts_with("#!")) h.shebang = text.substr(0, text.find('\n'));
  if (tree_path.ends_with(".php") || text.find("<?php") != std::string::npos)
    h.kind = HandlerKind::kPhp;
  else if (tree_path.ends_with(".lua"))
    h.kind = HandlerKind::kLua;
  else if (h.shebang.find("sh") != std::string::npos)
    h.kind = HandlerKind::kShell;
  h.text = std::move(text);
  return h;
}

void BuildWebHandlers(DeviceModel& m) {
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile || e->size == 0 || e->size > kMaxWebHandlerBytes) continue;
    if (!IsWebHandlerPath(e->tree_path)) continue;
    bool elf = m.elves.count(RootFs::DevicePath(*e)) != 0;
    std::string text;
    if (!elf) {
      auto t = m.fs.ReadEntry(*e, kMaxWebHandlerBytes);
      if (!t) continue;
      text = std::move(*t);
    }
    m.web_handlers.push_back(MakeWebHandler(e->tree_path, std::move(text), elf));
  }
}

}  // namespace firmwarden::facts
