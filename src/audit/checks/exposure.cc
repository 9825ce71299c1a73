// What the image exposes by shipping it: FS-06 source, build and developer cruft, FS-07 data that
// should not ship (logs, packet captures), FS-08 web handlers that pass request data to a shell.
#include <fmt/format.h>

#include <map>
#include <set>

#include "audit/check.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

using facts::DeviceModel;
using facts::RootFs;

// Joins the first few paths of a group for a finding's evidence.
std::string Examples(const std::vector<std::string>& paths, size_t n = 5) {
  std::string out;
  for (size_t i = 0; i < paths.size() && i < n; ++i) out += (i ? ", " : "") + paths[i];
  if (paths.size() > n) out += fmt::format(", … ({} in all)", paths.size());
  return out;
}

bool EndsWithAny(std::string_view name, std::initializer_list<std::string_view> suffixes) {
  for (std::string_view s : suffixes)
    if (name.size() > s.size() && name.ends_with(s)) return true;
  return false;
}

// ---- FS-06 ----

void Fs06(const DeviceModel& m, const AuditContext&, Findings& out) {
  // Group -> device paths, in tree order.
  std::map<std::string, std::vector<std::string>> groups;
  static const std::set<std::string, std::less<>> kTools = {
      "gcc",     "g++",    "cc",      "c++",      "cc1",     "cc1plus",  "as",
      "ld",      "ld.bfd", "ld.gold", "make",     "cmake",   "collect2", "objdump",
      "readelf", "tcc",    "clang",   "autoconf", "automake"};
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile) continue;
    const std::string& p = e->tree_path;
    std::string name = facts::Basename(p);
    std::string dev = RootFs::DevicePath(*e);
    if (EndsWithAny(name, {".c", ".cc", ".cpp", ".cxx"}))
      groups["source code"].push_back(dev);
    else if (EndsWithAny(name, {".h", ".hpp", ".hh"}))
      groups["C/C++ headers"].push_back(dev);
    else if (EndsWithAny(name, {".o", ".a", ".la", ".lo"}))
      groups["object files and static or libtool libraries"].push_back(dev);
    else if (name == "Makefile" || name == "CMakeLists.txt" || name == "configure.ac" ||
             name == "Makefile.am" || name == "CMakeCache.txt")
      groups["build files"].push_back(dev);
    else if (name.ends_with(".pc") && p.find("/pkgconfig/") != std::string::npos)
      groups["pkg-config files"].push_back(dev);
    else if (p.starts_with("usr/share/man/") || p.starts_with("usr/man/") ||
             p.starts_with("usr/share/info/"))
      groups["manual pages"].push_back(dev);
    else if (kTools.count(name) != 0 && m.elves.count(dev) != 0 &&
             (p.starts_with("bin/") || p.starts_with("usr/bin/") || p.starts_with("sbin/") ||
              p.starts_with("usr/sbin/") || p.starts_with("usr/local/bin/")))
      groups["compilers and build tools"].push_back(dev);
  }
  for (const auto& [what, paths] : groups) {
    out.Add(fmt::format("{} {} in the image: {}", paths.size(), what, Examples(paths)),
            paths.front());
  }
}

// ---- FS-07 ----

void Fs07(const DeviceModel& m, const AuditContext&, Findings& out) {
  std::vector<std::string> logs;
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile || e->size == 0) continue;
    const std::string& p = e->tree_path;
    std::string name = facts::Basename(p);
    std::string dev = RootFs::DevicePath(*e);
    if (auto c = m.captures.find(dev); c != m.captures.end()) {
      out.Add(fmt::format("packet capture {} ships in the image ({} bytes, {}): recorded "
                          "network traffic of a development or test network",
                          dev, e->size,
                          c->second == facts::CaptureFormat::kPcap ? "pcap" : "pcapng"),
              dev)
          .severity = Severity::kMedium;
      continue;
    }
    bool log_name = name.ends_with(".log") || name == "messages" || name == "syslog" ||
                    name == "wtmp" || name == "btmp" || name == "lastlog" ||
                    name.starts_with("messages.") || name.starts_with("syslog.");
    bool log_dir = p.starts_with("var/log/");
    if ((log_name && (log_dir || name.ends_with(".log"))) || (log_dir && e->size > 0))
      logs.push_back(dev);
  }
  if (!logs.empty())
    out.Add(fmt::format("{} non-empty log file{} ship{} in the image (written on the build or test "
                        "machine): {}",
                        logs.size(), logs.size() == 1 ? "" : "s", logs.size() == 1 ? "s" : "",
                        Examples(logs)),
            logs.front());
}

// ---- FS-08 ----

bool Has(std::string_view l, std::string_view s) { return l.find(s) != std::string_view::npos; }

// Request data as a shell CGI sees it: the query string, haserl/uncgi/proccgi form variables.
bool ShellRequestData(std::string_view l) {
  return Has(l, "QUERY_STRING") || Has(l, "$FORM_") || Has(l, "${FORM_") || Has(l, "$GET_") ||
         Has(l, "${GET_") || Has(l, "$POST_") || Has(l, "${POST_") || Has(l, "$CGI_") ||
         Has(l, "HTTP_COOKIE") || Has(l, "$WWW_");
}

void Fs08(const DeviceModel& m, const AuditContext&, Findings& out) {
  for (const facts::WebHandler& h : m.web_handlers) {
    if (h.kind == facts::HandlerKind::kElf || h.binary) continue;
    const std::string& dev = h.path;
    bool php = h.kind == facts::HandlerKind::kPhp;
    bool lua = h.kind == facts::HandlerKind::kLua;
    auto lines = facts::Lines(h.text);
    // Lua: names assigned from form values ("local cmd = luci.http.formvalue("cmd")").
    std::set<std::string> tainted;
    for (size_t n = 0; n < lines.size(); ++n) {
      std::string_view l = facts::Trim(lines[n]);
      if (l.empty() || l[0] == '#' || l.starts_with("--") || l.starts_with("//")) continue;
      std::string why;
      if (php) {
        bool exec = Has(l, "system(") || Has(l, "exec(") || Has(l, "shell_exec(") ||
                    Has(l, "passthru(") || Has(l, "popen(") || Has(l, "proc_open(") ||
                    (Has(l, "`") && Has(l, "$_"));
        if (exec && (Has(l, "$_GET") || Has(l, "$_POST") || Has(l, "$_REQUEST") ||
                     Has(l, "$_COOKIE") || Has(l, "$_SERVER")))
          why = "PHP passes request data to a shell command";
      } else if (lua) {
        if (Has(l, "formvalue(") && Has(l, "=")) {
          std::string_view lhs = facts::Trim(l.substr(0, l.find('=')));
          if (lhs.starts_with("local ")) lhs = facts::Trim(lhs.substr(6));
          if (!lhs.empty() && lhs.find_first_of(" (,") == std::string_view::npos)
            tainted.insert(std::string(lhs));
        }
        if (Has(l, "os.execute(") || Has(l, "io.popen(") || Has(l, "luci.sys.call(") ||
            Has(l, "luci.sys.exec(")) {
          bool data = Has(l, "formvalue(");
          for (const std::string& v : tainted)
            if (Has(l, ".. " + v) || Has(l, ".." + v) || Has(l, "(" + v + ")") ||
                Has(l, "(" + v + " "))
              data = true;
          if (data) why = "Lua runs a shell command built from a form value";
        }
      } else if (ShellRequestData(l)) {
        if (l.starts_with("eval ") || Has(l, "; eval ") || Has(l, "&& eval ") || Has(l, "`") ||
            Has(l, "$(") || Has(l, "sh -c"))
          why = "shell CGI evaluates request data (eval, backticks or $( ))";
      }
      if (why.empty()) continue;
      Finding& f = out.Add(fmt::format("{}: command injection is likely", why),
                           facts::SourceRef{dev, static_cast<int>(n + 1), std::string(l)});
      f.confidence = Confidence::kMedium;
    }
  }
}

}  // namespace

extern const Check kFs06{
    "FS-06",
    "Source, build and developer cruft",
    Severity::kLow,
    "Source files, headers, object files, build files, manual pages and compilers do nothing on a "
    "device but enlarge the attack surface (a compiler helps an attacker build tools in place) and "
    "leak how the product was built.",
    "Strip the staging tree before packing: no headers, static libraries, pkg-config files, "
    "manuals or toolchain binaries in the production image.",
    {"5.6-6", "", "I.2(j)", "", "", ""},
    Fs06};

extern const Check kFs07{
    "FS-07",
    "Data that should not ship",
    Severity::kLow,
    "Log files and packet captures written on a build or test machine disclose internal hosts, "
    "addresses, user names and traffic; on every unit they are the same disclosure.",
    "Clean /var/log and remove captures and test data from the staging tree; let logs be created "
    "at run time.",
    {"5.6-2", "", "I.2(g)", "", "DP", ""},
    Fs07};

extern const Check kFs08{
    "FS-08",
    "Injection-prone web handler",
    Severity::kHigh,
    "A CGI, PHP or Lua handler that hands request data to a shell (eval, backticks, system(), "
    "os.execute) lets anyone who can reach the web interface run commands, usually as root; this "
    "is how most router botnets spread after Mirai.",
    "Never build shell commands from request data: validate against a strict allow-list, pass "
    "arguments as an argv array (no shell), and run handlers unprivileged.",
    {"5.13-1", "", "I.2(d), I.2(k)", "", "", "GEC-6"},
    Fs08};

}  // namespace firmwarden::audit
