// Boot loader: BOOT-01 U-Boot console exposure (autoboot that a key stops, init=/bin/sh).
#include <fmt/format.h>

#include <charconv>

#include "audit/check.h"

namespace firmwarden::audit {
namespace {

using facts::UBootBinary;
using facts::UBootEnv;

std::string_view KindName(UBootEnv::Kind k) {
  switch (k) {
    case UBootEnv::Kind::kSaved:
      return "saved environment (CRC verified)";
    case UBootEnv::Kind::kDefault:
      return "default environment compiled into U-Boot";
    case UBootEnv::Kind::kText:
      return "uEnv.txt";
    case UBootEnv::Kind::kUnchecked:
      return "environment (no CRC)";
  }
  return "";
}

std::optional<long> Number(const std::string& s) {
  long v = 0;
  const char* b = s.data();
  const char* e = b + s.size();
  while (b < e && *b == ' ') ++b;
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p == b) return std::nullopt;
  return v;
}

std::string EnvWhere(const UBootEnv& env) {
  return env.offset ? fmt::format("{} (offset {:#x})", env.where, env.offset) : env.where;
}

void Boot01(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  const facts::BootLoaderFacts& bl = m.bootloader;
  const UBootEnv* env = bl.Effective();
  // A flash image may hold a first stage and the main U-Boot: judge the one that has the autoboot
  // code (and its default environment).
  const UBootBinary* bin = nullptr;
  int best = -1;
  for (const UBootBinary& b : bl.binaries) {
    int score = (b.default_env ? 2 : 0) + (b.keyed || b.any_key_stops ? 4 : 0) +
                (b.version.empty() ? 0 : 1);
    if (score > best) {
      best = score;
      bin = &b;
    }
  }
  if (env == nullptr && bin == nullptr) return;  // no boot loader in the image: nothing to judge
  std::string rewrite =
      bl.fw_env_config.empty()
          ? ""
          : fmt::format("; {} lets Linux rewrite the environment (fw_setenv)", bl.fw_env_config);

  // The kernel command line: a shell instead of init is a root console for whoever has the UART.
  if (env) {
    for (const auto& [name, value] : env->vars) {
      if (name != "bootargs" && name.find("args") == std::string::npos) continue;
      for (std::string_view shell : {"init=/bin/sh", "init=/bin/ash", "init=/bin/bash"}) {
        size_t at = value.find(shell);
        if (at == std::string::npos) continue;
        size_t end = at + shell.size();
        if (end < value.size() && value[end] != ' ') continue;
        out.Add(fmt::format("the {} boots the kernel with {} ({}): a root shell on the console "
                            "without a password{}",
                            KindName(env->kind), shell, name, rewrite),
                EnvWhere(*env), fmt::format("{}={}", name, value));
      }
    }
  }

  // Autoboot: how long the console waits and what stops it.
  std::optional<long> delay;
  if (env)
    if (auto it = env->vars.find("bootdelay"); it != env->vars.end()) delay = Number(it->second);
  std::string version = bin && !bin->version.empty() ? bin->version : "U-Boot";
  bool any_key = bin && bin->any_key_stops;
  bool keyed_plain = bin && bin->keyed && !bin->hashed_stop_key && !any_key;
  std::string stop;
  std::string_view stop_from = "set in the environment";
  if (env)
    for (const char* k : {"bootstopkey", "bootstopkey2", "bootdelaykey", "bootdelaykey2"})
      if (auto it = env->vars.find(k); it != env->vars.end() && !it->second.empty()) {
        stop = it->second;
        break;
      }
  if (stop.empty() && bin) {
    stop = bin->stop_string;
    stop_from = "the string compiled beside the prompt";
  }
  std::string evidence = env && delay ? fmt::format("bootdelay={}", *delay) : "";
  std::string where = env ? EnvWhere(*env) : bin->where;

  if (delay && *delay == -1) {
    out.Add(fmt::format("{}: bootdelay=-1 disables autoboot, so the boot loader's command line "
                        "waits on the serial console at every power-on{}",
                        version, rewrite),
            where, evidence);
    return;
  }
  if (delay && *delay > 0 && any_key) {
    out.Add(fmt::format("{} waits {} s and any key on the serial console stops autoboot (\"Hit "
                        "any key to stop autoboot\"): the boot loader's command line can read and "
                        "rewrite flash and boot another kernel{}",
                        version, *delay, rewrite),
            where, evidence);
    return;
  }
  if (delay && *delay > 0 && keyed_plain) {
    Finding& f = out.Add(
        fmt::format("{} waits {} s for a stop string on the serial console{}; the string is "
                    "stored in clear in every unit's boot loader, so it is known to anyone with "
                    "the firmware{}",
                    version, *delay,
                    stop.empty() ? "" : fmt::format(" ({}: \"{}\")", stop_from, stop), rewrite),
        where, evidence);
    f.confidence = Confidence::kMedium;
    return;
  }
  if (delay && *delay > 0 && bin == nullptr) {
    // An environment without the boot loader (a saved environment partition): the delay is
    // known, what stops autoboot is not.
    Finding& f = out.Add(fmt::format("the {} sets bootdelay={}: autoboot waits on the serial "
                                     "console; the boot loader itself is not in the image, so "
                                     "whether any key or only a stop string interrupts it cannot "
                                     "be told{}",
                                     KindName(env->kind), *delay, rewrite),
                         where, evidence);
    f.verdict = false;
    f.confidence = Confidence::kLow;
    return;
  }
  if (!delay && any_key && bin) {
    // No environment found: the binary alone says a key stops autoboot, the delay is unknown.
    Finding& f = out.Add(fmt::format("{} lets any key on the serial console stop autoboot (\"Hit "
                                     "any key to stop autoboot\"); the boot delay is in an "
                                     "environment the image does not carry{}",
                                     version, rewrite),
                         bin->where);
    f.verdict = false;
    f.confidence = Confidence::kLow;
  }
}

}  // namespace

extern const Check kBoot01{
    "BOOT-01",
    "Boot loader console open",
    Severity::kMedium,
    "With physical access to the serial pins, a U-Boot that any key interrupts (or that boots "
    "init=/bin/sh) hands over the device: its command line reads and rewrites flash, dumps "
    "secrets and boots an attacker's kernel. Debug interfaces are to be closed or protected in "
    "production.",
    "Set bootdelay to 0 (or -2) in the production environment, build with "
    "CONFIG_AUTOBOOT_KEYED and a hashed stop key (CONFIG_AUTOBOOT_ENCRYPTION) or without the "
    "console, never pass init=/bin/sh, and protect the environment (read-only or signed).",
    {"5.6-4", "", "I.2(j)", "", "LA", "GEC-5"},
    Boot01};

}  // namespace firmwarden::audit
