#include "facts/configs.h"

#include <algorithm>
#include <functional>
#include <set>

#include "facts/device_model.h"
#include "facts/text_util.h"

namespace firmwarden::facts {
namespace {

SourceRef At(const std::string& path, size_t index, std::string_view line) {
  return {path, static_cast<int>(index + 1), std::string(Trim(line))};
}

std::string_view Unquote(std::string_view v) {
  v = Trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  return v;
}

bool IsComment(std::string_view l) { return l.empty() || l[0] == '#'; }

// Reads the files an include directive names, at the point where it stands (every daemon here
// reads includes inline): (including file, argument) -> (path, text) in the daemon's order.
using IncludeFn = std::function<std::vector<std::pair<std::string, std::string>>(
    const std::string& from, const std::string& arg)>;
constexpr int kMaxIncludeDepth = 8;

std::optional<bool> ParseBool(std::string_view v) {
  std::string l = Lower(Trim(v));
  if (l == "yes" || l == "true" || l == "1" || l == "on" || l == "enabled" || l == "enable")
    return true;
  if (l == "no" || l == "false" || l == "0" || l == "off" || l == "disabled" || l == "disable")
    return false;
  return std::nullopt;
}

// ---- net-snmp ----

struct SnmpParse {
  struct Com2Sec {
    std::string secname, source, community;
    SourceRef at;
    std::string via;
  };
  std::vector<Com2Sec> com2sec;
  std::multimap<std::string, std::string> groups;       // secname -> group
  std::map<std::string, std::pair<bool, bool>> access;  // group -> (read, write)
};

void Resolve(SnmpParse& p, SnmpdConfig& out) {
  for (const auto& c : p.com2sec) {
    SnmpCommunity sc;
    sc.community = c.community;
    sc.source = c.source;
    sc.via = c.via;
    sc.at = c.at;
    sc.access = SnmpCommunity::Access::kNone;
    auto [b, e] = p.groups.equal_range(c.secname);
    for (auto it = b; it != e; ++it) {
      auto a = p.access.find(it->second);
      if (a == p.access.end()) continue;
      if (a->second.second)
        sc.access = SnmpCommunity::Access::kWrite;
      else if (a->second.first && sc.access == SnmpCommunity::Access::kNone)
        sc.access = SnmpCommunity::Access::kRead;
    }
    out.communities.push_back(std::move(sc));
  }
}

void ParseSnmpdInto(std::string_view text, const std::string& path, SnmpdConfig& out,
                    SnmpParse& p) {
  auto lines = Lines(text);
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view l = Trim(lines[n]);
    if (IsComment(l)) continue;
    auto w = Words(l);
    std::string key = Lower(w[0]);
    std::vector<std::string> args;
    for (size_t i = 1; i < w.size(); ++i) {
      // Options before the positional arguments (-Cn context, -V view) take a value.
      if (args.empty() && w[i].starts_with("-") && key != "access") {
        if (w[i].size() == 2 || w[i] == "-Cn") ++i;
        continue;
      }
      args.emplace_back(Unquote(w[i]));
    }
    if ((key == "rocommunity" || key == "rwcommunity" || key == "rocommunity6" ||
         key == "rwcommunity6") &&
        !args.empty()) {
      SnmpCommunity c;
      c.community = args[0];
      c.access =
          key.starts_with("rw") ? SnmpCommunity::Access::kWrite : SnmpCommunity::Access::kRead;
      c.source = args.size() > 1 ? args[1] : "";
      c.via = key;
      c.at = At(path, n, lines[n]);
      out.communities.push_back(std::move(c));
    } else if ((key == "com2sec" || key == "com2sec6") && args.size() >= 3) {
      p.com2sec.push_back({args[0], args[1], args[2], At(path, n, lines[n]), key});
    } else if (key == "group" && args.size() >= 3) {
      p.groups.emplace(args[2], args[0]);
    } else if (key == "access" && args.size() >= 7) {
      auto& a = p.access[args[0]];
      a.first = a.first || Lower(args[5]) != "none";
      a.second = a.second || Lower(args[6]) != "none";
    } else if (key == "createuser" || key == "rouser" || key == "rwuser") {
      out.v3_users = true;
    }
  }
}

// ---- mosquitto ----

void ParseMosquittoInto(std::string_view text, const std::string& path, MosquittoConfig& c,
                        const IncludeFn* include, int depth = 0) {
  auto lines = Lines(text);
  // The listener later lines apply to: index into c.listeners, -1 = the default listener/global.
  int cur = c.listeners.empty() ? -1 : static_cast<int>(c.listeners.size()) - 1;
  int default_listener = -1;
  for (size_t i = 0; i < c.listeners.size(); ++i)
    if (c.listeners[i].at.text.starts_with("port")) default_listener = static_cast<int>(i);
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view l = Trim(lines[n]);
    if (IsComment(l)) continue;
    auto w = Words(l);
    std::string key(w[0]);
    std::string v = w.size() > 1 ? std::string(Unquote(w[1])) : "";
    auto target = [&]() -> MqttListener* {
      if (cur >= 0) return &c.listeners[cur];
      if (default_listener >= 0) return &c.listeners[default_listener];
      return nullptr;
    };
    if (key == "listener" && !v.empty()) {
      MqttListener ls;
      ls.port = std::atoi(v.c_str());
      ls.bind = w.size() > 2 ? std::string(w[2]) : "";
      ls.at = At(path, n, lines[n]);
      c.listeners.push_back(std::move(ls));
      cur = static_cast<int>(c.listeners.size()) - 1;
    } else if (key == "port" && !v.empty()) {
      if (default_listener < 0) {
        c.listeners.emplace_back();
        default_listener = static_cast<int>(c.listeners.size()) - 1;
      }
      c.listeners[default_listener].port = std::atoi(v.c_str());
      c.listeners[default_listener].at = At(path, n, lines[n]);
    } else if (key == "bind_address") {
      if (default_listener >= 0) c.listeners[default_listener].bind = v;
    } else if (key == "certfile" || key == "psk_file") {
      if (MqttListener* t = target()) t->tls = true;
    } else if (key == "per_listener_settings") {
      c.per_listener_settings = ParseBool(v).value_or(false);
    } else if (key == "allow_anonymous") {
      if (c.per_listener_settings && cur >= 0)
        c.listeners[cur].allow_anonymous = ParseBool(v);
      else
        c.allow_anonymous = Directive{key, v, At(path, n, lines[n])};
    } else if (key == "password_file" || key == "auth_plugin" || key == "plugin") {
      if (c.per_listener_settings && cur >= 0)
        c.listeners[cur].password_file = true;
      else
        c.password_file = true;
    } else if (key == "include_dir" && include != nullptr && !v.empty() &&
               depth < kMaxIncludeDepth) {
      for (const auto& [p, t] : (*include)(path, v))
        ParseMosquittoInto(t, p, c, include, depth + 1);
      cur = c.listeners.empty() ? -1 : static_cast<int>(c.listeners.size()) - 1;
    }
  }
}

// ---- smb.conf ----

std::string SmbKey(std::string_view k) {
  std::string out;
  for (char ch : k)
    if (ch != ' ' && ch != '\t')
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (out == "public") return "guestok";
  if (out == "minprotocol") return "serverminprotocol";
  if (out == "writeable" || out == "writable") return "writable";
  if (out == "guestaccount") return "guestaccount";
  return out;
}

void ParseSmbInto(std::string_view text, const std::string& path, SmbConfig& c,
                  const IncludeFn* include, int depth = 0) {
  auto lines = Lines(text);
  for (size_t n = 0; n < lines.size(); ++n) {
    size_t first = n;
    std::string l(Trim(lines[n]));
    while (!l.empty() && l.back() == '\\' && n + 1 < lines.size()) {
      l.pop_back();
      l += " " + std::string(Trim(lines[++n]));
    }
    if (l.empty() || l[0] == '#' || l[0] == ';') continue;
    if (l[0] == '[') {
      size_t e = l.find(']');
      SmbSection s;
      s.name =
          Lower(Trim(std::string_view(l).substr(1, e == std::string::npos ? l.size() - 1 : e - 1)));
      s.line = static_cast<int>(first + 1);
      c.sections.push_back(std::move(s));
      continue;
    }
    size_t eq = l.find('=');
    if (eq == std::string::npos) continue;
    if (c.sections.empty()) c.sections.push_back({"global", 0, {}});
    std::string key = SmbKey(std::string_view(l).substr(0, eq));
    std::string value(Trim(std::string_view(l).substr(eq + 1)));
    if (key == "include" && include != nullptr && depth < kMaxIncludeDepth) {
      for (const auto& [p, t] : (*include)(path, value)) ParseSmbInto(t, p, c, include, depth + 1);
      continue;
    }
    if (key == "readonly") {
      // "read only = no" is "writable = yes".
      auto b = ParseBool(value);
      if (b) key = "writable", value = *b ? "no" : "yes";
    }
    c.sections.back().values[key] = Directive{key, value, At(path, first, lines[first])};
  }
}

// ---- lighttpd ----

void ParseLighttpdInto(std::string_view text, const std::string& path, KeyValues& kv,
                       const IncludeFn* include, int level = 0) {
  auto lines = Lines(text);
  int depth = 0;  // inside { } of a conditional
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view l = Trim(lines[n]);
    if (IsComment(l)) continue;
    int opens = static_cast<int>(std::count(l.begin(), l.end(), '{'));
    int closes = static_cast<int>(std::count(l.begin(), l.end(), '}'));
    if (l.starts_with("$") || l.starts_with("else")) {
      depth += opens - closes;
      continue;
    }
    if (depth == 0 && l.starts_with("include ") && include != nullptr && level < kMaxIncludeDepth) {
      for (const auto& [p, t] : (*include)(path, std::string(Unquote(l.substr(8)))))
        ParseLighttpdInto(t, p, kv, include, level + 1);
      continue;
    }
    size_t eq = l.find('=');
    if (depth == 0 && eq != std::string_view::npos && eq > 0) {
      bool append = l[eq - 1] == '+';
      std::string key(Trim(l.substr(0, append ? eq - 1 : eq)));
      if (!key.empty() && key.find(' ') == std::string::npos && eq + 1 < l.size() &&
          l[eq + 1] != '~' && l[eq + 1] != '=')
        kv.directives.push_back(
            {key, std::string(Unquote(l.substr(eq + 1))), At(path, n, lines[n])});
    }
    depth += opens - closes;
    if (depth < 0) depth = 0;
  }
}

// The file system side: reading, globbing, which files each program reads.
class Builder {
 public:
  explicit Builder(DeviceModel& m) : m_(m), c_(m.configs) {}

  std::optional<std::string> Read(const std::string& path) const {
    const FileEntry* e = m_.fs.Resolve(path);
    if (e == nullptr || e->type != EntryType::kFile) return std::nullopt;
    return m_.fs.ReadEntry(*e, 1 << 20);
  }

  // Regular files (symlinks followed) directly in `dir` whose names end with `suffix`, sorted.
  std::vector<std::string> Glob(const std::string& dir, std::string_view suffix) const {
    std::vector<std::string> out;
    std::string d = m_.fs.ResolvePath(dir);
    if (d.empty()) return out;
    for (const FileEntry* e : m_.fs.List(d)) {
      std::string name = Basename(e->tree_path);
      if (!name.ends_with(suffix)) continue;
      std::string p = (dir.ends_with("/") ? dir : dir + "/") + name;
      const FileEntry* r = m_.fs.Resolve(p);
      if (r != nullptr && r->type == EntryType::kFile) out.push_back(p);
    }
    return out;
  }

  // Config files named on the command line of a started program.
  std::vector<std::string> ArgFiles(std::initializer_list<std::string_view> programs,
                                    std::string_view flag) const {
    std::vector<std::string> out;
    for (const Started& s : m_.started) {
      if (std::find(programs.begin(), programs.end(), s.program) == programs.end()) continue;
      for (size_t i = 1; i < s.argv.size(); ++i) {
        const std::string& a = s.argv[i];
        bool named = flag.empty() ? (a.starts_with("/") && a.ends_with(".conf"))
                                  : (a == flag && i + 1 < s.argv.size());
        if (!named) continue;
        std::string p = flag.empty() ? a : s.argv[i + 1];
        if (p.starts_with("/") && std::find(out.begin(), out.end(), p) == out.end())
          out.push_back(p);
      }
    }
    return out;
  }

  void Add(std::vector<std::string>& files, std::initializer_list<const char*> more) const {
    for (const char* f : more)
      if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
  }

  std::string Relative(const std::string& base_file, const std::string& p) const {
    if (p.starts_with("/")) return p;
    return base_file.substr(0, base_file.rfind('/') + 1) + p;
  }

  // "dir/*.conf" or a plain path -> the files.
  std::vector<std::string> Expand(const std::string& pattern) const {
    size_t star = pattern.find('*');
    if (star == std::string::npos) return {pattern};
    size_t slash = pattern.rfind('/', star);
    if (slash == std::string::npos) return {};
    return Glob(pattern.substr(0, slash), pattern.substr(star + 1));
  }

  void Run() {
    Uci();
    Vsftpd();
    PureFtpd();
    Proftpd();
    Snmpd();
    Miniupnpd();
    Mosquitto();
    Exports();
    Samba();
    Hostapd();
    Opkg();
    Apt();
    Lighttpd();
    OtherServers();
    KernelConfig();
    Sysctl();
    Scripts();
    Sshd();
    Upnp();
    BusyBoxHttpd();
  }

 private:
  void Uci() {
    for (const std::string& p : Glob("/etc/config", ""))
      if (auto t = Read(p)) c_.uci[p] = ParseUci(*t);
  }

  void Vsftpd() {
    auto files = ArgFiles({"vsftpd"}, "");
    Add(files, {"/etc/vsftpd.conf", "/etc/vsftpd/vsftpd.conf"});
    for (const std::string& f : files)
      if (auto t = Read(f)) c_.vsftpd.push_back(ParseKeyValues(*t, f, '=', false));
  }

  void PureFtpd() {
    auto files = ArgFiles({"pure-ftpd"}, "");
    Add(files, {"/etc/pure-ftpd.conf", "/etc/pure-ftpd/pure-ftpd.conf"});
    for (const std::string& f : files)
      if (auto t = Read(f)) c_.pure_ftpd.push_back(ParseKeyValues(*t, f, ' ', true));
    // Debian's wrapper: one file per option under /etc/pure-ftpd/conf, the value inside.
    KeyValues deb;
    deb.path = "/etc/pure-ftpd/conf";
    for (const std::string& f : Glob("/etc/pure-ftpd/conf", "")) {
      auto t = Read(f);
      if (!t) continue;
      auto lines = Lines(*t);
      if (lines.empty()) continue;
      deb.directives.push_back(
          {Lower(Basename(f)), std::string(Trim(lines[0])), At(f, 0, lines[0])});
    }
    if (!deb.directives.empty()) c_.pure_ftpd.push_back(std::move(deb));
  }

  void Proftpd() {
    for (const char* f : {"/etc/proftpd.conf", "/etc/proftpd/proftpd.conf"}) {
      auto t = Read(f);
      if (!t) continue;
      c_.proftpd.push_back(ParseProftpd(*t, f));
      // One level of Include (Debian's conf.d, modules.conf).
      for (std::string_view l : Lines(*t)) {
        auto w = Words(Trim(l));
        if (w.size() < 2 || Lower(w[0]) != "include") continue;
        for (const std::string& inc : Expand(Relative(f, std::string(Unquote(w[1])))))
          if (auto it = Read(inc)) c_.proftpd.push_back(ParseProftpd(*it, inc));
      }
    }
  }

  void Snmpd() {
    auto files = ArgFiles({"snmpd"}, "-c");
    Add(files, {"/etc/snmp/snmpd.conf", "/etc/snmpd.conf", "/etc/snmp/snmpd.local.conf",
                "/usr/share/snmp/snmpd.conf"});
    for (const std::string& f : files) {
      auto t = Read(f);
      if (!t) continue;
      SnmpdConfig c;
      c.path = f;
      SnmpParse p;
      ParseSnmpdInto(*t, f, c, p);
      Resolve(p, c);
      c_.snmpd.push_back(std::move(c));
    }
    if (const auto* u = c_.Uci("snmpd")) c_.snmpd.push_back(SnmpdFromUci(*u, "/etc/config/snmpd"));
  }

  void Miniupnpd() {
    auto files = ArgFiles({"miniupnpd"}, "-f");
    Add(files, {"/etc/miniupnpd.conf", "/etc/miniupnpd/miniupnpd.conf"});
    for (const std::string& f : files) {
      auto t = Read(f);
      if (!t) continue;
      KeyValues kv;
      kv.path = f;
      auto lines = Lines(*t);
      for (size_t n = 0; n < lines.size(); ++n) {
        std::string_view l = Trim(lines[n]);
        if (IsComment(l)) continue;
        auto w = Words(l);
        if (w[0] == "allow" || w[0] == "deny") {
          c_.miniupnpd_rules.push_back(
              {std::string(w[0]), std::string(l.substr(w[0].size())), At(f, n, lines[n])});
          continue;
        }
        size_t eq = l.find('=');
        if (eq == std::string_view::npos) continue;
        kv.directives.push_back({std::string(Trim(l.substr(0, eq))),
                                 std::string(Unquote(l.substr(eq + 1))), At(f, n, lines[n])});
      }
      c_.miniupnpd.push_back(std::move(kv));
    }
  }

  void Mosquitto() {
    auto files = ArgFiles({"mosquitto"}, "-c");
    Add(files, {"/etc/mosquitto/mosquitto.conf", "/etc/mosquitto.conf"});
    for (const std::string& f : files) {
      auto t = Read(f);
      if (!t) continue;
      MosquittoConfig c;
      c.path = f;
      // include_dir: the directory's *.conf files in name order.
      IncludeFn inc = [&](const std::string& from, const std::string& dir) {
        std::vector<std::pair<std::string, std::string>> out;
        for (const std::string& p : Glob(Relative(from, dir), ".conf"))
          if (auto it = Read(p)) out.emplace_back(p, std::move(*it));
        return out;
      };
      ParseMosquittoInto(*t, f, c, &inc);
      c_.mosquitto.push_back(std::move(c));
    }
  }

  void Exports() {
    std::vector<std::string> files = {"/etc/exports"};
    for (const std::string& f : Glob("/etc/exports.d", ".exports")) files.push_back(f);
    for (const std::string& f : files)
      if (auto t = Read(f))
        for (NfsExport& e : ParseExports(*t, f)) c_.exports.push_back(std::move(e));
  }

  void Samba() {
    for (const char* f : {"/etc/samba/smb.conf", "/etc/smb.conf", "/etc/samba/smb.conf.template"}) {
      auto t = Read(f);
      if (!t) continue;
      SmbConfig c;
      c.path = f;
      // include = FILE (a name with %-substitutions depends on the client: skipped).
      IncludeFn inc = [&](const std::string& from, const std::string& file) {
        std::vector<std::pair<std::string, std::string>> out;
        if (file.find('%') != std::string::npos || file.find('|') != std::string::npos) return out;
        std::string p = Relative(from, file);
        if (auto it = Read(p)) out.emplace_back(p, std::move(*it));
        return out;
      };
      ParseSmbInto(*t, f, c, &inc);
      c_.samba.push_back(std::move(c));
    }
  }

  void Hostapd() {
    std::vector<std::string> files = ArgFiles({"hostapd"}, "");
    for (const FileEntry* e : m_.fs.All()) {
      if (e->type != EntryType::kFile || !e->tree_path.starts_with("etc/")) continue;
      std::string name = Basename(e->tree_path);
      if (name.starts_with("hostapd") && name.ends_with(".conf")) {
        std::string p = RootFs::DevicePath(*e);
        if (std::find(files.begin(), files.end(), p) == files.end()) files.push_back(p);
      }
    }
    for (const std::string& f : files)
      if (auto t = Read(f)) c_.hostapd.push_back(ParseKeyValues(*t, f, '=', false));
  }

  void Opkg() {
    std::vector<std::string> files;
    if (Read("/etc/opkg.conf")) files.push_back("/etc/opkg.conf");
    for (const std::string& f : Glob("/etc/opkg", ".conf")) files.push_back(f);
    for (const std::string& f : files) {
      auto t = Read(f);
      c_.opkg.files.push_back(f);
      auto lines = Lines(*t);
      for (size_t n = 0; n < lines.size(); ++n) {
        std::string_view l = Trim(lines[n]);
        if (IsComment(l)) continue;
        auto w = Words(l);
        if ((w[0] == "src/gz" || w[0] == "src") && w.size() >= 3) {
          c_.opkg.feeds.push_back({std::string(w[0]),
                                   std::string(Unquote(w[1])) + " " + std::string(Unquote(w[2])),
                                   At(f, n, lines[n])});
        } else if (w[0] == "option" && w.size() >= 2 && w[1] == "check_signature") {
          // opkg sets a boolean option on whatever value follows ("0" included).
          c_.opkg.check_signature = Directive{
              "check_signature", w.size() > 2 ? std::string(w[2]) : "", At(f, n, lines[n])};
        }
      }
    }
  }

  void Apt() {
    std::vector<std::string> lists;
    if (Read("/etc/apt/sources.list")) lists.push_back("/etc/apt/sources.list");
    for (const std::string& f : Glob("/etc/apt/sources.list.d", ".list")) lists.push_back(f);
    for (const std::string& f : lists) {
      auto t = Read(f);
      auto lines = Lines(*t);
      for (size_t n = 0; n < lines.size(); ++n) {
        std::string_view l = Trim(lines[n]);
        if (IsComment(l)) continue;
        auto w = Words(l);
        if (w[0] != "deb" && w[0] != "deb-src") continue;
        AptSource s;
        s.at = At(f, n, lines[n]);
        size_t i = 1;
        if (i < w.size() && w[i].starts_with("[")) {
          std::string opts;
          for (; i < w.size(); ++i) {
            opts += " " + std::string(w[i]);
            if (w[i].ends_with("]")) {
              ++i;
              break;
            }
          }
          s.trusted = Lower(opts).find("trusted=yes") != std::string::npos;
        }
        if (i < w.size()) s.uri = std::string(w[i]);
        c_.apt.sources.push_back(std::move(s));
      }
    }
    // deb822 .sources files: stanzas of "Field: value".
    for (const std::string& f : Glob("/etc/apt/sources.list.d", ".sources")) {
      auto t = Read(f);
      auto lines = Lines(*t);
      std::vector<AptSource> stanza;
      bool trusted = false;
      auto flush = [&] {
        for (AptSource& s : stanza) {
          s.trusted = trusted;
          c_.apt.sources.push_back(std::move(s));
        }
        stanza.clear();
        trusted = false;
      };
      for (size_t n = 0; n < lines.size(); ++n) {
        std::string_view l = Trim(lines[n]);
        if (l.empty()) {
          flush();
          continue;
        }
        if (l[0] == '#') continue;
        size_t colon = l.find(':');
        if (colon == std::string_view::npos) continue;
        std::string key = Lower(Trim(l.substr(0, colon)));
        std::string_view v = Trim(l.substr(colon + 1));
        if (key == "uris")
          for (std::string_view u : Words(v))
            stanza.push_back({std::string(u), false, At(f, n, lines[n])});
        if (key == "trusted") trusted = ParseBool(v).value_or(false);
      }
      flush();
    }
    std::vector<std::string> confs;
    if (Read("/etc/apt/apt.conf")) confs.push_back("/etc/apt/apt.conf");
    for (const std::string& f : Glob("/etc/apt/apt.conf.d", "")) confs.push_back(f);
    for (const std::string& f : confs) {
      auto t = Read(f);
      auto lines = Lines(*t);
      for (size_t n = 0; n < lines.size(); ++n) {
        std::string_view l = Trim(lines[n]);
        if (l.empty() || l[0] == '#' || l.starts_with("//")) continue;
        std::string low = Lower(l);
        for (const char* k : {"allowunauthenticated", "allowinsecurerepositories",
                              "allowdowngradetoinsecurerepositories"}) {
          size_t at = low.find(k);
          if (at == std::string::npos) continue;
          std::string rest = low.substr(at + std::string_view(k).size());
          if (rest.find("\"true\"") != std::string::npos ||
              rest.find("\"1\"") != std::string::npos || rest.find("\"yes\"") != std::string::npos)
            c_.apt.insecure.push_back({k, "true", At(f, n, lines[n])});
        }
      }
    }
  }

  void Lighttpd() {
    for (const char* f : {"/etc/lighttpd/lighttpd.conf", "/etc/lighttpd.conf"}) {
      auto t = Read(f);
      if (!t) continue;
      KeyValues kv;
      kv.path = f;
      IncludeFn inc = [&](const std::string& from, const std::string& pattern) {
        std::vector<std::pair<std::string, std::string>> out;
        for (const std::string& p : Expand(Relative(from, pattern)))
          if (auto it = Read(p)) out.emplace_back(p, std::move(*it));
        return out;
      };
      ParseLighttpdInto(*t, f, kv, &inc);
      c_.lighttpd.push_back(std::move(kv));
    }
  }

  // Servers read as flat directive files: which files, and how a line splits into key and value.
  void OtherServers() {
    struct Kind {
      const char* kind;
      std::initializer_list<std::string_view> dirs;   // every file below (not recursive)…
      std::initializer_list<std::string_view> files;  // …and these exact files
      std::string_view suffix;                        // of the files below `dirs`
      char sep;
    };
    static const Kind kKinds[] = {
        {"nginx",
         {"/etc/nginx/conf.d", "/etc/nginx/sites-enabled"},
         {"/etc/nginx/nginx.conf"},
         "",
         ' '},
        {"apache",
         {"/etc/apache2/conf-enabled", "/etc/apache2/sites-enabled", "/etc/apache2/mods-enabled",
          "/etc/httpd/conf.d"},
         {"/etc/apache2/apache2.conf", "/etc/httpd/conf/httpd.conf", "/etc/httpd.conf"},
         ".conf",
         ' '},
        {"stunnel", {"/etc/stunnel"}, {}, ".conf", '='},
        {"openssl", {}, {"/etc/ssl/openssl.cnf", "/usr/lib/ssl/openssl.cnf"}, "", '='},
        {"openvpn", {"/etc/openvpn", "/etc/openvpn/server", "/etc/openvpn/client"}, {}, "", ' '},
        {"ipsec", {}, {"/etc/ipsec.conf", "/etc/strongswan/ipsec.conf"}, "", '='},
        {"boa", {}, {"/etc/boa/boa.conf", "/etc/boa.conf"}, "", ' '},
        {"mini_httpd", {}, {"/etc/mini_httpd.conf", "/etc/mini_httpd/mini_httpd.conf"}, "", '='},
        {"cwmp", {"/etc/cwmp", "/etc/easycwmp", "/etc/tr069"}, {}, "", '='},
    };
    for (const Kind& k : kKinds) {
      std::vector<std::string> files;
      for (std::string_view f : k.files) files.emplace_back(f);
      for (std::string_view d : k.dirs)
        for (const std::string& f : Glob(std::string(d), k.suffix))
          if (k.suffix.empty() ? !f.ends_with(".md") && !f.ends_with(".txt") : true)
            files.push_back(f);
      std::set<std::string> seen;
      for (const std::string& f : files) {
        if (!seen.insert(f).second) continue;
        auto t = Read(f);
        if (!t || t->find('\0') != std::string::npos) continue;
        KeyValues kv = ParseKeyValues(*t, f, k.sep, true);
        for (Directive& d : kv.directives) {
          std::string_view v = Trim(d.value);
          if (std::string_view(k.kind) == "nginx" && v.ends_with(";")) v.remove_suffix(1);
          d.value = std::string(Trim(v));
        }
        c_.servers[k.kind].push_back(std::move(kv));
      }
    }
  }

  static KeyValues ParseKernelConfig(std::string_view text, const std::string& path) {
    KeyValues kv;
    kv.path = path;
    auto lines = Lines(text);
    for (size_t n = 0; n < lines.size(); ++n) {
      std::string_view l = Trim(lines[n]);
      if (l.starts_with("# CONFIG_") && l.ends_with(" is not set")) {
        std::string_view name = l.substr(2, l.size() - 2 - 11);
        kv.directives.push_back({std::string(name), "n", At(path, n, lines[n])});
      } else if (l.starts_with("CONFIG_")) {
        size_t eq = l.find('=');
        if (eq == std::string_view::npos) continue;
        kv.directives.push_back({std::string(l.substr(0, eq)),
                                 std::string(Unquote(l.substr(eq + 1))), At(path, n, lines[n])});
      }
    }
    return kv;
  }

  void KernelConfig() {
    std::vector<std::string> files = Glob("/boot", "");
    for (const FileEntry* e : m_.fs.List("/lib/modules"))
      if (e->type == EntryType::kDir) files.push_back("/" + e->tree_path + "/config");
    for (const std::string& f : files) {
      if (!Basename(f).starts_with("config")) continue;
      auto t = Read(f);
      if (!t || t->find("CONFIG_") == std::string::npos) continue;
      KeyValues kv = ParseKernelConfig(*t, f);
      if (kv.directives.empty()) continue;
      c_.kernel_config = std::move(kv);
      return;  // the first configuration found (a device runs one kernel)
    }
    // Else the configuration built into the kernel image (IKCONFIG), found with the boot loader.
    if (!m_.bootloader.kernel_config.empty()) {
      KeyValues kv =
          ParseKernelConfig(m_.bootloader.kernel_config, m_.bootloader.kernel_config_where);
      if (!kv.directives.empty()) c_.kernel_config = std::move(kv);
    }
  }

  void Sysctl() {
    // procps and OpenWrt: the sysctl.d files by name (/etc wins for a name), then sysctl.conf.
    std::map<std::string, std::string> by_name;
    for (const char* d : {"/lib/sysctl.d", "/usr/lib/sysctl.d", "/run/sysctl.d", "/etc/sysctl.d"})
      for (const std::string& f : Glob(d, ".conf")) by_name[Basename(f)] = f;
    std::vector<std::string> files;
    for (const auto& [name, f] : by_name) files.push_back(f);
    files.push_back("/etc/sysctl.conf");
    c_.sysctl.path = "/etc/sysctl.conf";
    for (const std::string& f : files) {
      auto t = Read(f);
      if (!t) continue;
      auto lines = Lines(*t);
      for (size_t n = 0; n < lines.size(); ++n) {
        std::string_view l = Trim(lines[n]);
        if (l.empty() || l[0] == '#' || l[0] == ';') continue;
        size_t eq = l.find('=');
        if (eq == std::string_view::npos) continue;
        std::string key(Trim(l.substr(0, eq)));
        if (key.starts_with("-")) key = key.substr(1);
        std::replace(key.begin(), key.end(), '/', '.');
        c_.sysctl.directives.push_back(
            {key, std::string(Trim(l.substr(eq + 1))), At(f, n, lines[n])});
      }
    }
  }

  void Scripts() {
    static constexpr std::string_view kDirs[] = {"etc/",     "sbin/", "usr/sbin/", "bin/",
                                                 "usr/bin/", "lib/",  "usr/lib/"};
    for (const FileEntry* e : m_.fs.All()) {
      if (e->type != EntryType::kFile || e->size == 0 || e->size > (256u << 10)) continue;
      bool in = false;
      for (std::string_view d : kDirs) in = in || e->tree_path.starts_with(d);
      if (!in || e->tree_path.starts_with("lib/modules/") ||
          e->tree_path.starts_with("usr/lib/opkg/") || e->tree_path.starts_with("etc/config/"))
        continue;
      auto head = m_.fs.ReadEntry(*e, 64);
      if (!head) continue;
      std::string first = head->substr(0, head->find('\n'));
      bool shebang = first.starts_with("#!") && first.find("sh") != std::string::npos;
      bool likely = e->tree_path.starts_with("etc/init.d/") ||
                    e->tree_path.starts_with("etc/rc.d/") ||
                    e->tree_path.starts_with("lib/upgrade/") || e->tree_path == "etc/rc.local" ||
                    e->tree_path.starts_with("etc/hotplug.d/") || e->tree_path.ends_with(".sh");
      if (!shebang && !likely) continue;
      if (IsElf(*head) || head->find('\0') != std::string::npos) continue;
      auto t = m_.fs.ReadEntry(*e, 256 << 10);
      if (!t) continue;
      c_.scripts.push_back(ParseScript(*t, RootFs::DevicePath(*e)));
    }
  }

  void Sshd() {
    const std::string f = "/etc/ssh/sshd_config";
    if (auto t = Read(f)) c_.sshd = ParseSshd(*t, f);
  }

  void Upnp() {
    for (const FileEntry* e : m_.fs.All()) {
      if (e->type != EntryType::kFile || !e->tree_path.ends_with(".xml") || e->size > kMaxUpnpXml)
        continue;
      auto t = m_.fs.ReadEntry(*e, kMaxUpnpXml);
      if (!t) continue;
      if (auto d = ParseUpnpDescription(*t, RootFs::DevicePath(*e))) c_.upnp.push_back(*d);
    }
  }

  void BusyBoxHttpd() {
    if (m_.busybox_applets.count("httpd") == 0) return;
    for (const Started& s : m_.started) {
      if (s.program != "httpd" || s.binary.empty()) continue;
      std::string f = BusyBoxHttpdConfPath(s.argv);
      if (c_.BusyBoxHttpd(f) != nullptr) continue;
      if (auto t = Read(f)) c_.busybox_httpd.push_back(ParseBusyBoxHttpd(*t, f));
    }
  }

  static constexpr uint64_t kMaxUpnpXml = 256 << 10;

  DeviceModel& m_;
  Configs& c_;
};

}  // namespace

const Directive* KeyValues::Get(std::string_view key) const {
  for (auto it = directives.rbegin(); it != directives.rend(); ++it)
    if (it->key == key) return &*it;
  return nullptr;
}

std::optional<bool> KeyValues::Bool(std::string_view key) const {
  const Directive* d = Get(key);
  if (d == nullptr) return std::nullopt;
  return ParseBool(d->value);
}

const Directive* SmbSection::Get(std::string_view key) const {
  auto it = values.find(std::string(key));
  return it == values.end() ? nullptr : &it->second;
}

const Directive* SshdConfig::Get(std::string_view key) const {
  for (const Directive& d : global)
    if (d.key == key) return &d;
  return nullptr;
}

std::string SshdConfig::Arg(std::string_view key) const {
  const Directive* d = Get(key);
  if (d == nullptr) return "";
  auto w = Words(d->value);
  return w.empty() ? "" : Lower(w[0]);
}

const std::vector<KeyValues>& Configs::Servers(std::string_view kind) const {
  static const std::vector<KeyValues> kNone;
  auto it = servers.find(std::string(kind));
  return it == servers.end() ? kNone : it->second;
}

const std::vector<UciSection>* Configs::Uci(std::string_view name) const {
  auto it = uci.find("/etc/config/" + std::string(name));
  return it == uci.end() ? nullptr : &it->second;
}

const BusyBoxHttpdConfig* Configs::BusyBoxHttpd(std::string_view path) const {
  for (const BusyBoxHttpdConfig& c : busybox_httpd)
    if (c.path == path) return &c;
  return nullptr;
}

std::string BusyBoxHttpdConfPath(const std::vector<std::string>& argv) {
  std::string conf = "/etc/httpd.conf";
  for (size_t i = 1; i + 1 < argv.size(); ++i)
    if (argv[i] == "-c") conf = argv[i + 1];
  return conf;
}

BusyBoxHttpdConfig ParseBusyBoxHttpd(std::string_view text, const std::string& path) {
  BusyBoxHttpdConfig c;
  c.path = path;
  auto lines = Lines(text);
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view l = Trim(lines[n]);
    if (!l.starts_with("/") || std::count(l.begin(), l.end(), ':') < 2) continue;
    c.basic_auth.push_back({path, static_cast<int>(n + 1), std::string(l.substr(0, l.find(':')))});
  }
  return c;
}

KeyValues ParseKeyValues(std::string_view text, const std::string& path, char sep,
                         bool lower_keys) {
  KeyValues kv;
  kv.path = path;
  auto lines = Lines(text);
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view l = Trim(lines[n]);
    if (IsComment(l)) continue;
    std::string_view key, value;
    if (sep == '=') {
      size_t eq = l.find('=');
      if (eq == std::string_view::npos) continue;
      key = Trim(l.substr(0, eq));
      value = l.substr(eq + 1);
    } else {
      size_t sp = l.find_first_of(" \t");
      key = l.substr(0, sp);
      value = sp == std::string_view::npos ? "" : l.substr(sp + 1);
    }
    if (key.empty()) continue;
    kv.directives.push_back({lower_keys ? Lower(key) : std::string(key),
                             std::string(Unquote(value)), At(path, n, lines[n])});
  }
  return kv;
}

ProftpdConfig ParseProftpd(std::string_view text, const std::string& path) {
  ProftpdConfig c;
  c.path = path;
  auto lines = Lines(text);
  bool in_anon = false, in_limit = false, write_limit = false;
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view l = Trim(lines[n]);
    if (IsComment(l)) continue;
    std::string low = Lower(l);
    if (low.starts_with("<anonymous")) {
      in_anon = true;
      std::string_view arg = Trim(l.substr(10));
      if (arg.ends_with(">")) arg.remove_suffix(1);
      c.anonymous.push_back({At(path, n, lines[n]), std::string(Trim(arg)), false, false});
    } else if (low.starts_with("</anonymous")) {
      in_anon = false;
    } else if (in_anon && low.starts_with("<limit")) {
      in_limit = true;
      write_limit = low.find("write") != std::string::npos ||
                    low.find("stor") != std::string::npos || low.find("mkd") != std::string::npos ||
                    low.find("appe") != std::string::npos;
    } else if (low.starts_with("</limit")) {
      in_limit = false;
    } else if (in_anon && in_limit && write_limit) {
      if (low == "denyall" || low == "deny from all" || low.starts_with("deny all"))
        c.anonymous.back().write_denied = true;
      if (low == "allowall" || low == "allow from all" || low.starts_with("allow all"))
        c.anonymous.back().write_allowed = true;
    }
  }
  return c;
}

void ParseSnmpd(std::string_view text, const std::string& path, SnmpdConfig& out) {
  SnmpParse p;
  out.path = path;
  ParseSnmpdInto(text, path, out, p);
  Resolve(p, out);
}

SnmpdConfig SnmpdFromUci(const std::vector<UciSection>& sections, const std::string& path) {
  SnmpdConfig out;
  out.path = path;
  SnmpParse p;
  auto opt = [](const UciSection& s, const char* k) {
    auto it = s.options.find(k);
    return it == s.options.end() ? std::string() : it->second;
  };
  for (const UciSection& s : sections) {
    if (s.type == "com2sec" || s.type == "com2sec6") {
      auto line = s.option_lines.find("community");
      int ln = line == s.option_lines.end() ? s.line : line->second;
      p.com2sec.push_back({opt(s, "secname"), opt(s, "source"), opt(s, "community"),
                           SourceRef{path, ln, "option community '" + opt(s, "community") + "'"},
                           "uci " + s.type});
    } else if (s.type == "group") {
      p.groups.emplace(opt(s, "secname"), opt(s, "group"));
    } else if (s.type == "access") {
      auto& a = p.access[opt(s, "group")];
      a.first = a.first || (!opt(s, "read").empty() && Lower(opt(s, "read")) != "none");
      a.second = a.second || (!opt(s, "write").empty() && Lower(opt(s, "write")) != "none");
    } else if (s.type == "v3" || s.type == "user") {
      out.v3_users = true;
    }
  }
  Resolve(p, out);
  return out;
}

MosquittoConfig ParseMosquitto(std::string_view text, const std::string& path) {
  MosquittoConfig c;
  c.path = path;
  ParseMosquittoInto(text, path, c, nullptr);
  return c;
}

std::vector<NfsExport> ParseExports(std::string_view text, const std::string& path) {
  std::vector<NfsExport> out;
  auto lines = Lines(text);
  for (size_t n = 0; n < lines.size(); ++n) {
    size_t first = n;
    std::string l(Trim(lines[n]));
    while (!l.empty() && l.back() == '\\' && n + 1 < lines.size()) {
      l.pop_back();
      l += " " + std::string(Trim(lines[++n]));
    }
    if (IsComment(l)) continue;
    std::vector<std::string> w = ShellWords(l);
    if (w.empty()) continue;
    NfsExport e;
    e.dir = w[0];
    e.at = At(path, first, lines[first]);
    std::vector<std::string> defaults;
    for (size_t i = 1; i < w.size(); ++i) {
      std::string_view word = w[i];
      if (word.starts_with("-")) {
        for (std::string_view o : Split(word.substr(1), ',')) defaults.emplace_back(o);
        continue;
      }
      NfsExport::Client c;
      size_t paren = word.find('(');
      c.host = std::string(word.substr(0, paren));
      c.options = defaults;
      if (paren != std::string_view::npos) {
        std::string_view o = word.substr(paren + 1);
        if (o.ends_with(")")) o.remove_suffix(1);
        for (std::string_view x : Split(o, ',')) c.options.emplace_back(Trim(x));
      }
      e.clients.push_back(std::move(c));
    }
    if (e.clients.empty()) e.clients.push_back({"", defaults});  // no host: everyone
    out.push_back(std::move(e));
  }
  return out;
}

SmbConfig ParseSmb(std::string_view text, const std::string& path) {
  SmbConfig c;
  c.path = path;
  ParseSmbInto(text, path, c, nullptr);
  return c;
}

std::vector<std::string> ShellWords(std::string_view l) {
  std::vector<std::string> out;
  std::string w;
  bool have = false;  // a word is being built (possibly empty: "")
  auto flush = [&] {
    if (have) out.push_back(std::move(w));
    w.clear();
    have = false;
  };
  size_t i = 0;
  while (i < l.size()) {
    char ch = l[i];
    if (ch == ' ' || ch == '\t') {
      flush();
      ++i;
    } else if (ch == '#' && !have) {
      break;  // a comment
    } else if (ch == '\'') {
      size_t e = l.find('\'', i + 1);
      if (e == std::string_view::npos) e = l.size();
      w += l.substr(i + 1, e - i - 1);
      have = true;
      i = e + 1;
    } else if (ch == '"') {
      ++i;
      while (i < l.size() && l[i] != '"') {
        if (l[i] == '\\' && i + 1 < l.size() &&
            (l[i + 1] == '"' || l[i + 1] == '\\' || l[i + 1] == '$' || l[i + 1] == '`'))
          ++i;
        w += l[i++];
      }
      ++i;
      have = true;
    } else if (ch == '\\' && i + 1 < l.size()) {
      w += l[i + 1];
      have = true;
      i += 2;
    } else if (ch == ';' || ch == '&' || ch == '|' || ch == '>' || ch == '<') {
      // A file-descriptor number right before a redirection belongs to it.
      if ((ch == '>' || ch == '<') && have && !w.empty() &&
          std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        w.clear();
        have = false;
      }
      flush();
      std::string op(1, ch);
      if (i + 1 < l.size() && (l[i + 1] == ch || (ch == '>' && l[i + 1] == '&'))) op += l[++i];
      out.push_back(op);
      ++i;
    } else {
      w += ch;
      have = true;
      ++i;
    }
  }
  flush();
  return out;
}

ScriptFile ParseScript(std::string_view text, const std::string& path) {
  static const std::set<std::string, std::less<>> kKeywords = {
      "if", "then", "else", "elif", "do", "while", "until", "!", "{", "(", "time", "exec"};
  ScriptFile f;
  f.path = path;
  auto lines = Lines(text);
  for (size_t n = 0; n < lines.size(); ++n) {
    size_t first = n;
    std::string l(lines[n]);
    while (!l.empty() && l.back() == '\\' && n + 1 < lines.size()) {
      l.pop_back();
      l += " " + std::string(Trim(lines[++n]));
    }
    std::vector<std::string> words = ShellWords(l);
    std::vector<std::string> cmd;
    auto flush = [&] {
      size_t k = 0;
      while (k < cmd.size() && (kKeywords.count(cmd[k]) != 0 ||
                                (k == 0 && cmd[k].size() > 1 && cmd[k].back() == ')')))
        ++k;
      if (k < cmd.size())
        f.commands.push_back(
            {std::vector<std::string>(cmd.begin() + static_cast<long>(k), cmd.end()),
             At(path, first, lines[first])});
      cmd.clear();
    };
    for (std::string& w : words) {
      if (w == ";" || w == "&" || w == "|" || w == "&&" || w == "||" || w == ";;")
        flush();
      else
        cmd.push_back(std::move(w));
    }
    flush();
  }
  return f;
}

void BuildConfigs(DeviceModel& m) { Builder(m).Run(); }

SshdConfig ParseSshd(std::string_view text, const std::string& path) {
  SshdConfig c;
  c.path = path;
  auto lines = Lines(text);
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view l = Trim(lines[n]);
    if (IsComment(l)) continue;
    size_t split = std::min(l.find_first_of(" \t="), l.size());
    std::string_view value = l.substr(split);
    while (!value.empty() && (value[0] == ' ' || value[0] == '\t' || value[0] == '='))
      value.remove_prefix(1);
    Directive d{Lower(l.substr(0, split)), std::string(Trim(value)), At(path, n, lines[n])};
    if (d.key == "match" || !c.match.empty())
      c.match.push_back(std::move(d));
    else
      c.global.push_back(std::move(d));
  }
  return c;
}

std::optional<UpnpDescription> ParseUpnpDescription(std::string_view t, const std::string& path) {
  if (t.find("urn:schemas-upnp-org:device-1-0") == std::string_view::npos) return std::nullopt;
  size_t a = t.find("<serialNumber>");
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = t.find("</serialNumber>", a);
  if (b == std::string_view::npos) return std::nullopt;
  UpnpDescription d;
  d.path = path;
  d.serial = std::string(Trim(t.substr(a + 14, b - a - 14)));
  int line = 1 + static_cast<int>(std::count(t.begin(), t.begin() + static_cast<long>(a), '\n'));
  d.at = SourceRef{path, line, "<serialNumber>" + d.serial + "</serialNumber>"};
  return d;
}

}  // namespace firmwarden::facts
