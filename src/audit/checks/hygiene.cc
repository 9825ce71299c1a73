// Build hygiene: HARD-09 ASLR switched off, SEC-04 developer leftovers (shell histories,
// credentials files, core dumps), FS-05 version-control and backup leftovers.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "audit/check.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

using facts::DeviceModel;
using facts::ScriptCommand;

// Scripts the boot graph runs (a started program's source, or a script on the way to one).
std::set<std::string> BootScripts(const DeviceModel& m) {
  std::set<std::string> out;
  for (const auto& s : m.started) {
    out.insert(s.source.path);
    for (const std::string& c : s.chain) out.insert(c);
  }
  return out;
}

void Hard09(const DeviceModel& m, const AuditContext&, Findings& out) {
  const auto& sys = m.configs.sysctl;
  if (const facts::Directive* d = sys.Get("kernel.randomize_va_space"); d && d->value == "0")
    out.Add("ASLR is switched off: kernel.randomize_va_space = 0", d->at);
  if (const facts::Directive* d = sys.Get("kernel.kptr_restrict"); d && d->value == "0")
    out.Add("kernel pointers are shown to every user: kernel.kptr_restrict = 0", d->at).severity =
        Severity::kLow;
  if (const facts::Directive* d = sys.Get("kernel.dmesg_restrict"); d && d->value == "0")
    out.Add("every user may read the kernel log: kernel.dmesg_restrict = 0", d->at).severity =
        Severity::kLow;
  std::set<std::string> boot = BootScripts(m);
  for (const auto& sf : m.configs.scripts) {
    for (const ScriptCommand& c : sf.commands) {
      const auto& w = c.words;
      bool hit = false;
      // echo 0 > /proc/sys/kernel/randomize_va_space
      for (size_t i = 0; i + 1 < w.size(); ++i)
        if ((w[i] == ">" || w[i] == ">>") &&
            facts::NormalizePath(w[i + 1]) == "proc/sys/kernel/randomize_va_space" && !w.empty() &&
            facts::Basename(w[0]) == "echo") {
          for (size_t j = 1; j < i; ++j)
            if (w[j] == "0") hit = true;
        }
      // sysctl -w kernel.randomize_va_space=0
      if (!w.empty() && facts::Basename(w[0]) == "sysctl")
        for (size_t i = 1; i < w.size(); ++i) {
          std::string a = w[i];
          std::replace(a.begin(), a.end(), '/', '.');
          if (a == "kernel.randomize_va_space=0" ||
              (a == "kernel.randomize_va_space" && i + 2 < w.size() && w[i + 1] == "=" &&
               w[i + 2] == "0"))
            hit = true;
        }
      if (!hit) continue;
      Finding& f = out.Add("a script switches ASLR off (randomize_va_space = 0)", c.at);
      if (boot.count(sf.path) == 0) {
        f.confidence = Confidence::kMedium;
        f.message += "; the script is not on a boot path the scanner followed";
      } else {
        f.message += " at boot";
      }
    }
  }
}

void Sec04(const DeviceModel& m, const AuditContext&, Findings& out) {
  static const std::set<std::string, std::less<>> kNames = {
      ".bash_history",    ".ash_history",     ".sh_history", ".zsh_history", ".mysql_history",
      ".psql_history",    ".python_history",  ".lesshst",    ".viminfo",     ".netrc",
      ".git-credentials", ".pgpass",          ".my.cnf",     ".wget-hsts",   ".node_repl_history",
      ".sqlite_history",  ".rediscli_history"};
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile || e->size == 0) continue;
    std::string name = facts::Basename(e->tree_path);
    std::string p = facts::RootFs::DevicePath(*e);
    if (kNames.count(name) != 0) {
      Finding& f = out.Add(
          fmt::format("developer leftover {} ({} bytes) ships in the image", p, e->size), p);
      if (name == ".netrc" || name == ".git-credentials" || name == ".pgpass" ||
          name == ".my.cnf") {
        f.severity = Severity::kHigh;
        f.message += ": a credentials file";
      } else if (name.ends_with("_history")) {
        f.message += ": commands typed on the build or test system, often with passwords and hosts";
      }
      continue;
    }
    if (name == "core" || (name.starts_with("core.") && name.size() > 5 &&
                           std::isdigit(static_cast<unsigned char>(name[5])))) {
      auto head = m.fs.ReadEntry(*e, 18);
      if (head && facts::IsElf(*head) && head->size() >= 18 &&
          (static_cast<unsigned char>((*head)[16]) == 4 ||
           static_cast<unsigned char>((*head)[17]) == 4))
        out.Add(fmt::format("core dump {} ships in the image: process memory (keys, passwords)", p),
                p);
    }
  }
}

void Fs05(const DeviceModel& m, const AuditContext&, Findings& out) {
  static const std::set<std::string, std::less<>> kVcs = {".git", ".svn", ".hg", ".bzr", "CVS"};
  std::vector<std::string> vcs_dirs;
  auto inside = [&](const std::string& tp) {
    for (const std::string& d : vcs_dirs)
      if (tp.starts_with(d + "/")) return true;
    return false;
  };
  for (const FileEntry* e : m.fs.All()) {
    std::string name = facts::Basename(e->tree_path);
    if (e->type == EntryType::kDir && kVcs.count(name) != 0) {
      std::string p = facts::RootFs::DevicePath(*e);
      if (name == "CVS" && m.fs.Entry(p + "/Entries") == nullptr) continue;
      vcs_dirs.push_back(e->tree_path);
      bool objects = name == ".git" && m.fs.Entry(p + "/objects") != nullptr;
      out.Add(fmt::format("{} repository metadata {} ships in the image{}",
                          name == "CVS" ? "CVS" : name.substr(1), p,
                          objects ? ": its objects hold the source and its history" : ""),
              p);
    }
  }
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile || inside(e->tree_path)) continue;
    std::string name = facts::Basename(e->tree_path);
    bool backup = name.size() > 1 &&
                  (name.ends_with(".bak") || name.ends_with(".orig") || name.ends_with(".rej") ||
                   name.ends_with(".old") || name.ends_with("~") || name == ".DS_Store" ||
                   (name.starts_with(".") && (name.ends_with(".swp") || name.ends_with(".swo"))));
    if (!backup || e->size == 0) continue;
    std::string p = facts::RootFs::DevicePath(*e);
    Finding& f = out.Add(
        fmt::format("backup or editor leftover {} ({} bytes) ships in the image", p, e->size), p);
    f.severity = Severity::kLow;
    std::string base =
        name.substr(0, name.find('.', 1) == std::string::npos ? name.size() : name.find('.', 1));
    if (base == "shadow" || base == "passwd" || base == "gshadow" ||
        name.find("key") != std::string::npos || e->tree_path.starts_with("etc/")) {
      f.severity = Severity::kMedium;
      f.message += ": an older copy of a configuration file, possibly with old credentials";
    }
  }
}

}  // namespace

extern const Check kHard09{
    "HARD-09",
    "System-wide exploit mitigations switched off",
    Severity::kMedium,
    "With kernel.randomize_va_space = 0 every process loads at the same addresses on every "
    "unit, so one working memory-corruption exploit works everywhere without an info leak.",
    "Leave randomize_va_space at 2 (the kernel default); do not write 0 from boot scripts. Set "
    "kptr_restrict and dmesg_restrict to 1.",
    {"5.6-9", "", "I.2(k)", "", "", ""},
    Hard09};

extern const Check kSec04{
    "SEC-04",
    "Developer leftovers with secrets",
    Severity::kMedium,
    "Shell histories, editor state, .netrc, .git-credentials and core dumps from the build or "
    "test system often hold passwords, internal hosts and tokens, now copied to every unit.",
    "Build the image from a clean staging tree; remove dot files of root and users and core "
    "dumps in the image recipe, and rotate any credential found.",
    {"5.4-3, 5.6-6", "", "I.2(j)", "", "DP", "SSM-3"},
    Sec04};

extern const Check kFs05{
    "FS-05",
    "Version-control or backup leftovers",
    Severity::kMedium,
    "A .git or .svn directory ships the source and its history; *.bak, *.orig and editor swap "
    "files ship older configurations that may hold credentials the current ones removed.",
    "Exclude VCS metadata and backup files when staging the root file system (a check in the "
    "image build that fails on them).",
    {"5.6-6", "", "I.2(j)", "", "", ""},
    Fs05};

}  // namespace firmwarden::audit
