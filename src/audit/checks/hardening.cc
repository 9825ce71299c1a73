// Binary hardening, checksec semantics over the ELF facts: HARD-01 NX, HARD-02 stack canary,
// HARD-03 RELRO, HARD-04 PIE, HARD-05 FORTIFY, HARD-06 RPATH/RUNPATH, HARD-07 release hygiene;
// HARD-08 lists network daemons that import dangerous functions, for review.
//
// Not flooding: a firmware image has hundreds of ELF files built the same way, so each check
// reports every *prominent* binary on its own (started at boot according to the boot graph, or
// setuid/setgid: the ones an attacker reaches first) and folds all the others into one finding
// per check ("23 of 140 other ELF executables and libraries …", the first paths as evidence) at a
// lower severity. Kernel modules and object files (ET_REL) are not programs and are skipped.
#include <fmt/format.h>

#include <functional>
#include <map>
#include <set>

#include "audit/check.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

using facts::DeviceModel;
using facts::ElfInfo;

constexpr size_t kEvidencePaths = 10;

// Daemons that listen on the network; a weakness in one of them is remotely reachable.
bool NetworkFacing(std::string_view program) {
  static const std::set<std::string_view> kNames = {
      "telnetd", "utelnetd",  "in.telnetd", "httpd",   "uhttpd",    "lighttpd",     "nginx",
      "boa",     "goahead",   "mini_httpd", "thttpd",  "webs",      "dropbear",     "sshd",
      "dnsmasq", "hostapd",   "miniupnpd",  "upnpd",   "inetd",     "xinetd",       "ftpd",
      "vsftpd",  "tftpd",     "smbd",       "nmbd",    "snmpd",     "ntpd",         "udhcpd",
      "odhcpd",  "pppd",      "cwmpd",      "tr069",   "mosquitto", "avahi-daemon", "lldpd",
      "proftpd", "pure-ftpd", "rpcbind",    "portmap", "zebra",     "bftpd",        "cgi"};
  return kNames.contains(program);
}

// Why a binary is prominent.
struct Prominence {
  std::vector<std::string> programs;  // what the boot graph starts from it ("telnetd")
  std::string first_source;           // the line that starts it
  bool network = false;
  bool setuid = false;  // setuid or setgid
  uint32_t mode = 0;
};

std::map<std::string, Prominence> Prominent(const DeviceModel& m) {
  std::map<std::string, Prominence> out;
  for (const facts::Started& s : m.started) {
    if (s.binary.empty() || !m.elves.contains(s.binary)) continue;
    Prominence& p = out[s.binary];
    if (std::find(p.programs.begin(), p.programs.end(), s.program) == p.programs.end())
      p.programs.push_back(s.program);
    if (p.first_source.empty())
      p.first_source = fmt::format("{}:{}: {}", s.source.path, s.source.line, s.source.text);
    if (NetworkFacing(s.program) || s.via == "inetd") p.network = true;
  }
  for (const auto& [path, elf] : m.elves) {
    const FileEntry* e = m.fs.Entry(path);
    if (e == nullptr || (e->mode & 06000) == 0) continue;
    Prominence& p = out[path];
    p.setuid = true;
    p.mode = e->mode;
  }
  return out;
}

std::string Why(const Prominence& p) {
  std::string why;
  if (!p.programs.empty()) {
    why = "started at boot as ";
    for (size_t i = 0; i < p.programs.size() && i < 4; ++i) why += (i ? ", " : "") + p.programs[i];
    if (p.programs.size() > 4) why += ", …";
  }
  if (p.setuid) why += fmt::format("{}setuid/setgid, mode {:04o}", why.empty() ? "" : "; ", p.mode);
  return why;
}

bool Program(const ElfInfo& e) {
  return e.type != facts::ElfType::kRel && (e.IsExecutable() || e.IsLibrary());
}

// One check's verdict on one binary.
struct Verdict {
  bool applies = false;  // counted in the denominator
  bool fires = false;
  std::string detail;                     // what is wrong, for the per-binary finding
  Severity severity = Severity::kMedium;  // of the per-binary finding
  std::string kind;                       // bucket for the aggregate ("no RELRO")
};

using Judge = std::function<Verdict(const std::string& path, const ElfInfo&, const Prominence*)>;

// Per-binary findings for prominent binaries, one aggregate for the rest.
void Report(const DeviceModel& m, Findings& out, const Judge& judge, std::string_view summary,
            Severity aggregate, std::string_view noun = "ELF executables and libraries") {
  auto prominent = Prominent(m);
  size_t total = 0;
  std::vector<std::string> hits;
  std::map<std::string, size_t> kinds;
  for (const auto& [path, elf] : m.elves) {
    if (!Program(elf)) continue;
    auto it = prominent.find(path);
    const Prominence* p = it == prominent.end() ? nullptr : &it->second;
    Verdict v = judge(path, elf, p);
    if (!v.applies) continue;
    if (p != nullptr) {
      if (!v.fires) continue;
      std::string evidence =
          p->first_source.empty() ? fmt::format("{} mode {:04o}", path, p->mode) : p->first_source;
      Finding& f =
          out.Add(fmt::format("{} ({}): {}", path, Why(*p), v.detail), path, std::move(evidence));
      f.severity = v.severity;
      continue;
    }
    ++total;
    if (!v.fires) continue;
    hits.push_back(path);
    if (!v.kind.empty()) ++kinds[v.kind];
  }
  if (hits.empty()) return;
  std::string msg =
      fmt::format("{} of {} other ELF executables and libraries {}", hits.size(), total, summary);
  if (!kinds.empty()) {
    std::string parts;
    for (const auto& [k, n] : kinds)
      parts += fmt::format("{}{}: {}", parts.empty() ? "" : ", ", k, n);
    msg += " (" + parts + ")";
  }
  std::string evidence;
  for (size_t i = 0; i < hits.size() && i < kEvidencePaths; ++i)
    evidence += (i ? ", " : "") + hits[i];
  if (hits.size() > kEvidencePaths)
    evidence += fmt::format(", … ({} more)", hits.size() - kEvidencePaths);
  Finding& f = out.Add(std::move(msg), hits.front(), std::move(evidence));
  f.severity = aggregate;
}

std::string Hex(uint64_t v) { return fmt::format("0x{:x}", v); }

void Hard01(const DeviceModel& m, const AuditContext&, Findings& out) {
  Report(
      m, out,
      [](const std::string&, const ElfInfo& e, const Prominence* p) {
        Verdict v;
        v.applies = true;
        std::vector<std::string> why;
        if (!e.has_gnu_stack) {
          why.push_back("no PT_GNU_STACK header, so the kernel maps the stack executable");
          v.kind = "no PT_GNU_STACK";
        } else if (e.exec_stack) {
          why.push_back("PT_GNU_STACK asks for an executable stack");
          v.kind = "executable stack";
        }
        for (const facts::ElfSegment& s : e.segments)
          if (s.type == facts::kPtLoad && (s.flags & facts::kPfW) && (s.flags & facts::kPfX)) {
            why.push_back(fmt::format("PT_LOAD at {} is writable and executable", Hex(s.vaddr)));
            if (v.kind.empty()) v.kind = "W+X segment";
            break;
          }
        v.fires = !why.empty();
        for (const std::string& w : why) v.detail += (v.detail.empty() ? "" : "; ") + w;
        if (e.IsLibrary()) v.detail += " (every process that loads it gets an executable stack)";
        v.severity = p != nullptr && p->network ? Severity::kHigh : Severity::kMedium;
        return v;
      },
      "have an executable stack or a writable and executable segment", Severity::kLow);
}

bool Canary(const ElfInfo& e) {
  return e.HasSymbol("__stack_chk_fail") || e.HasSymbol("__stack_chk_guard") ||
         e.HasSymbol("__stack_chk_fail_local") || e.HasSymbol("__stack_smash_handler");
}

void Hard02(const DeviceModel& m, const AuditContext&, Findings& out) {
  Report(
      m, out,
      [](const std::string&, const ElfInfo& e, const Prominence*) {
        Verdict v;
        // Stripped and static: no symbol to look at. Unknown, not a finding.
        v.applies = e.has_dynsym || !e.symtab.empty();
        v.fires = v.applies && !Canary(e);
        v.detail = "no __stack_chk_fail or __stack_chk_guard: built without stack protector";
        v.severity = Severity::kMedium;
        return v;
      },
      "were built without stack canaries", Severity::kLow);
}

void Hard03(const DeviceModel& m, const AuditContext&, Findings& out) {
  Report(
      m, out,
      [](const std::string&, const ElfInfo& e, const Prominence*) {
        Verdict v;
        v.applies = e.has_dynamic;  // static binaries have no dynamic relocations to protect
        if (!e.has_relro) {
          v.fires = true;
          v.kind = "no RELRO";
          v.detail = "no RELRO (no PT_GNU_RELRO): the GOT and other relocated data stay writable";
          v.severity = Severity::kMedium;
        } else if (!e.bind_now) {
          v.fires = true;
          v.kind = "partial RELRO";
          v.detail = "partial RELRO (PT_GNU_RELRO without BIND_NOW): the PLT GOT stays writable";
          v.severity = Severity::kLow;
        }
        v.fires = v.fires && v.applies;
        return v;
      },
      "lack full RELRO", Severity::kLow);
}

void Hard04(const DeviceModel& m, const AuditContext&, Findings& out) {
  Report(
      m, out,
      [](const std::string&, const ElfInfo& e, const Prominence* p) {
        Verdict v;
        v.applies = e.IsExecutable();
        v.fires = v.applies && e.type == facts::ElfType::kExec;
        v.detail = fmt::format(
            "not PIE (ET_EXEC{}): its code and data sit at fixed addresses that ASLR cannot move",
            e.has_dynamic ? "" : ", static");
        v.severity = Severity::kMedium;
        return v;
      },
      "are not position-independent (ET_EXEC)", Severity::kLow, "ELF executables");
}

// libc calls that _FORTIFY_SOURCE replaces with a checked __*_chk variant.
constexpr std::string_view kFortifiable[] = {
    "strcpy",   "strncpy",   "strcat", "strncat",  "stpcpy",   "stpncpy", "sprintf", "vsprintf",
    "snprintf", "vsnprintf", "memcpy", "memmove",  "mempcpy",  "memset",  "gets",    "fgets",
    "read",     "pread",     "recv",   "recvfrom", "realpath", "printf",  "fprintf", "vprintf",
    "vfprintf", "wcscpy",    "getcwd", "readlink", "confstr",  "fread",   "poll",    "syslog"};

bool Glibc(const ElfInfo& e) {
  for (const std::string& n : e.needed)
    if (n == "libc.so.6") return true;
  return false;
}

void Hard05(const DeviceModel& m, const AuditContext&, Findings& out) {
  Report(
      m, out,
      [](const std::string&, const ElfInfo& e, const Prominence*) {
        Verdict v;
        // Only glibc has __*_chk symbols; musl's and uClibc's fortify headers are inline and
        // leave no trace, so there the answer is "unknown".
        if (!Glibc(e) || !e.has_dynsym) return v;
        std::vector<std::string_view> unsafe;
        for (std::string_view f : kFortifiable)
          if (e.Imports(f)) unsafe.push_back(f);
        if (unsafe.empty()) return v;
        v.applies = true;
        for (const std::string& i : e.imports)
          if (i.starts_with("__") && i.ends_with("_chk") && i != "__stack_chk_fail") return v;
        v.fires = true;
        v.detail = "imports ";
        for (size_t i = 0; i < unsafe.size() && i < 6; ++i)
          v.detail += fmt::format("{}{}", i ? ", " : "", unsafe[i]);
        if (unsafe.size() > 6) v.detail += ", …";
        v.detail += " but no __*_chk variant: built without _FORTIFY_SOURCE";
        v.severity = Severity::kLow;
        return v;
      },
      "import unchecked libc string and memory functions but no FORTIFY variant", Severity::kInfo);
}

void Hard06(const DeviceModel& m, const AuditContext&, Findings& out) {
  Report(
      m, out,
      [&m](const std::string&, const ElfInfo& e, const Prominence* p) {
        Verdict v;
        v.applies = true;
        std::vector<std::string> bad;
        auto judge_list = [&](std::string_view tag, const std::string& list) {
          for (std::string_view d : facts::Split(list, ':')) {
            std::string why;
            if (d.empty())
              why = "empty entry (the current directory)";
            else if (d.starts_with("$ORIGIN") || d.starts_with("${ORIGIN}")) {
              if (p != nullptr && p->setuid) why = "$ORIGIN in a setuid/setgid binary";
            } else if (!d.starts_with('/'))
              why = "relative to the current directory";
            else if (d == "/tmp" || d.starts_with("/tmp/") || d.starts_with("/var") ||
                     d.starts_with("/dev/shm"))
              why = "a world-writable location";
            else if (const FileEntry* de = m.fs.Resolve(d);
                     de != nullptr && de->type == EntryType::kDir && (de->mode & 0002) != 0)
              why = fmt::format("a world-writable directory (mode {:04o})", de->mode);
            if (why.empty()) continue;
            bad.push_back(fmt::format("{} '{}': {}", tag, d, why));
            if (v.kind.empty())
              v.kind =
                  d.empty() ? "empty " + std::string(tag) : std::string(tag) + " " + std::string(d);
          }
        };
        if (e.has_rpath) judge_list("DT_RPATH", e.rpath);
        if (e.has_runpath) judge_list("DT_RUNPATH", e.runpath);
        v.fires = !bad.empty();
        for (const std::string& b : bad) v.detail += (v.detail.empty() ? "" : "; ") + b;
        v.detail += ": whoever can write there can plant a library the loader will prefer";
        v.severity = Severity::kMedium;
        return v;
      },
      "search for libraries in relative, empty or writable directories", Severity::kLow);
}

void Hard07(const DeviceModel& m, const AuditContext&, Findings& out) {
  Report(
      m, out,
      [](const std::string&, const ElfInfo& e, const Prominence* p) {
        Verdict v;
        v.applies = true;
        std::vector<std::string> why;
        bool sanitizer = e.HasSymbolPrefix("__asan_") || e.HasSymbolPrefix("__ubsan_handle_") ||
                         e.HasSymbolPrefix("__tsan_") || e.HasSymbolPrefix("__msan_") ||
                         e.HasSymbolPrefix("__hwasan_");
        if (sanitizer) {
          why.push_back("a sanitizer build (__asan_/__ubsan_handle_ symbols)");
          v.kind = "sanitizer";
        }
        if (e.has_debug) {
          why.push_back("carries .debug_* sections");
          if (v.kind.empty()) v.kind = "debug info";
        }
        if (e.has_symtab) {
          why.push_back("not stripped (.symtab)");
          if (v.kind.empty()) v.kind = "unstripped";
        }
        v.fires = !why.empty();
        for (const std::string& w : why) v.detail += (v.detail.empty() ? "" : "; ") + w;
        // Sanitizer runtimes trust their environment (ASAN_OPTIONS log_path=…): in a setuid
        // program that is a way to root.
        v.severity = sanitizer ? (p != nullptr && p->setuid ? Severity::kHigh : Severity::kLow)
                               : Severity::kInfo;
        return v;
      },
      "are unstripped, carry debug information or are sanitizer builds", Severity::kInfo);
}

// Calls that are the usual root cause in network daemons: unbounded copies and command execution.
constexpr std::string_view kDangerous[] = {"gets",   "strcpy", "strcat", "sprintf", "vsprintf",
                                           "system", "popen",  "execl",  "execlp",  "execle"};

void Hard08(const DeviceModel& m, const AuditContext&, Findings& out) {
  auto prominent = Prominent(m);
  for (const auto& [path, p] : prominent) {
    if (!p.network) continue;
    const ElfInfo& e = m.elves.at(path);
    std::vector<std::string_view> calls;
    for (std::string_view f : kDangerous)
      if (e.Imports(f)) calls.push_back(f);
    if (calls.empty()) continue;
    std::string list;
    for (std::string_view c : calls) list += (list.empty() ? "" : ", ") + std::string(c);
    Finding& f = out.Add(fmt::format("{} ({}) is network-facing and imports {}: review and fuzz "
                                     "these call sites first",
                                     path, Why(p), list),
                         path, p.first_source);
    f.verdict = false;
  }
}

}  // namespace

// The rationale strings are concatenated at compile time through these macros so that the
// shared aggregation note is stated once.
#define HARD_NOTE                                                                              \
  " Binaries started at boot or setuid/setgid are reported one by one; all other executables " \
  "and libraries with the same weakness are folded into one finding at a lower severity, "     \
  "naming the first ten."

extern const Check kHard01{
    "HARD-01",
    "No NX: executable stack or writable-and-executable segment",
    Severity::kMedium,
    "With an executable stack or a segment that is both writable and executable, a memory "
    "corruption bug turns directly into running injected code. A missing PT_GNU_STACK header "
    "makes the kernel assume the old executable-stack behaviour; a library asking for an "
    "executable stack forces it on every process that loads it. High when the binary is a "
    "network daemon started at boot." HARD_NOTE,
    "Link with -z noexecstack and without -z execstack; find the object file that lacks a "
    ".note.GNU-stack section (often hand-written assembly) and add one; keep code and data in "
    "separate segments.",
    {"5.6-9", "", "I.2(k)", "", "", ""},
    Hard01};

extern const Check kHard02{
    "HARD-02",
    "No stack canary",
    Severity::kMedium,
    "Without stack-protector code a stack buffer overflow overwrites the return address "
    "silently. Detected as the absence of __stack_chk_fail / __stack_chk_guard among the "
    "dynamic or static symbols (glibc, musl and uClibc all use these names). A static binary "
    "without any symbol table cannot be judged and is not reported." HARD_NOTE,
    "Build with -fstack-protector-strong (the toolchain default on most distributions; "
    "Buildroot: BR2_SSP_STRONG, OpenWrt: PKG_SSP / CONFIG_PKG_CC_STACKPROTECTOR_STRONG).",
    {"5.6-9", "", "I.2(k)", "", "", ""},
    Hard02};

extern const Check kHard03{
    "HARD-03",
    "No or partial RELRO",
    Severity::kMedium,
    "RELRO makes the relocated data (GOT, init arrays) read-only after start-up; with BIND_NOW "
    "the whole GOT is covered, so an arbitrary write cannot redirect a library call. No "
    "PT_GNU_RELRO is reported at medium, RELRO without BIND_NOW (partial) at low. Statically "
    "linked programs are not judged." HARD_NOTE,
    "Link with -Wl,-z,relro,-z,now.",
    {"5.6-9", "", "I.2(k)", "", "", ""},
    Hard03};

extern const Check kHard04{
    "HARD-04",
    "Executable not position-independent",
    Severity::kMedium,
    "An ET_EXEC program is loaded at the address it was linked for, so ASLR cannot move its "
    "code: return-oriented programming against it needs no information leak. PIE executables "
    "are ET_DYN with an interpreter or the DF_1_PIE flag; shared libraries are always "
    "relocatable and not judged." HARD_NOTE,
    "Compile with -fPIE and link with -pie (OpenWrt: CONFIG_PKG_ASLR_PIE; Buildroot: "
    "BR2_PIC_PIE).",
    {"5.6-9", "", "I.2(k)", "", "", ""},
    Hard04};

extern const Check kHard05{
    "HARD-05",
    "No FORTIFY_SOURCE",
    Severity::kLow,
    "_FORTIFY_SOURCE swaps unchecked string and memory calls for variants that know the "
    "destination size and abort on overflow. A glibc program that imports strcpy, sprintf, "
    "memcpy and the like but no __*_chk function was built without it. musl and uClibc "
    "implement fortification inline without such symbols, so their programs cannot be judged "
    "from the image and are not reported." HARD_NOTE,
    "Build with -O2 -D_FORTIFY_SOURCE=2 (or 3); the optimisation level matters, -O0 disables it.",
    {"5.6-9", "", "I.2(k)", "", "", ""},
    Hard05};

extern const Check kHard06{
    "HARD-06",
    "Insecure RPATH or RUNPATH",
    Severity::kMedium,
    "The dynamic loader searches DT_RPATH/DT_RUNPATH directories before the system ones. An "
    "empty or relative entry means the current directory of whoever runs the program; /tmp and "
    "/var are writable at run time; $ORIGIN in a setuid program lets a user who hard-links it "
    "choose its libraries. Any of these lets a local attacker inject code into the "
    "program." HARD_NOTE,
    "Drop RPATH/RUNPATH from production builds (chrpath -d, patchelf --remove-rpath) or use "
    "absolute, root-owned, read-only directories.",
    {"5.6-7", "", "I.2(k)", "", "", ""},
    Hard06};

extern const Check kHard07{
    "HARD-07",
    "Debug build shipped: unstripped, debug info or sanitizer",
    Severity::kLow,
    "Symbol tables and debug sections hand an attacker a map of the program and show that the "
    "release process does not strip its output; a sanitizer runtime is a debugging aid whose "
    "environment options (log paths, suppressions) are an attack surface, high in a setuid "
    "program. Unstripped binaries are informational, sanitizer builds low." HARD_NOTE,
    "Strip release binaries (strip --strip-unneeded, or the build system's install-strip); keep "
    "debug information in separate files off the device; never ship sanitizer builds.",
    {"5.6-6", "", "I.2(j)", "", "", ""},
    Hard07};

extern const Check kHard08{
    "HARD-08",
    "Network-facing program imports dangerous functions",
    Severity::kInfo,
    "A daemon that the boot graph starts as a network service (web server, telnet, SSH, UPnP, "
    "DNS/DHCP, anything under inetd) and that calls gets, strcpy, strcat, sprintf, system, popen "
    "or execl* is where remote overflows and command injections are usually found. This is a "
    "prioritisation list for code review and fuzzing, not a verdict: the calls may be safe.",
    "Review each call site for bounded lengths and for user input reaching a shell; prefer "
    "snprintf/strlcpy and execve with a fixed argument vector.",
    {"5.13-1", "", "I.2(k)", "", "", "GEC-6"},
    Hard08};

}  // namespace firmwarden::audit
