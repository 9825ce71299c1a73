// Helpers shared by the configuration checks: is a daemon started at boot, is it in the image,
// and how sure a finding about its configuration can be.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "audit/check.h"
#include "facts/device_model.h"
#include "facts/text_util.h"

namespace firmwarden::audit {

// The boot-graph entry that starts one of `programs`: an unconditional start first.
inline const facts::Started* FindStarted(const facts::DeviceModel& m,
                                         std::initializer_list<std::string_view> programs) {
  const facts::Started* best = nullptr;
  for (const facts::Started& s : m.started)
    for (std::string_view p : programs)
      if (s.program == p && (best == nullptr || (best->conditional && !s.conditional))) best = &s;
  return best;
}

// One of `programs` is in the image (a binary in a bin directory, or a BusyBox applet).
inline bool Installed(const facts::DeviceModel& m,
                      std::initializer_list<std::string_view> programs) {
  for (std::string_view p : programs) {
    if (m.busybox_applets.count(std::string(p)) != 0) return true;
    for (const char* d : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/", "/usr/local/sbin/"})
      if (m.fs.Resolve(std::string(d) + std::string(p)) != nullptr) return true;
  }
  return false;
}

// What the boot graph says about the daemon a configuration belongs to.
struct DaemonState {
  const facts::Started* started = nullptr;
  bool installed = false;
  std::string name;
};

inline DaemonState Daemon(const facts::DeviceModel& m,
                          std::initializer_list<std::string_view> programs) {
  DaemonState d;
  d.started = FindStarted(m, programs);
  d.installed = d.started != nullptr || Installed(m, programs);
  d.name = std::string(*programs.begin());
  return d;
}

// Sets a finding's confidence from the daemon's state and says why in the message: started at
// boot (high), maybe started (medium), installed but not started (low: a web UI or a script may
// still start it).
inline void Qualify(Finding& f, const DaemonState& d) {
  if (d.started != nullptr && !d.started->conditional) {
    f.message += " (" + d.name + " is started at boot: " + d.started->source.path + ")";
    return;
  }
  if (d.started != nullptr) {
    f.confidence = Confidence::kMedium;
    f.message += " (" + d.name + " may be started at boot: " + d.started->source.path + ")";
    return;
  }
  f.confidence = Confidence::kLow;
  f.message += " (" + d.name + " is in the image but not started at boot)";
}

inline Severity Lower1(Severity s) {
  return s == Severity::kInfo ? s : static_cast<Severity>(static_cast<int>(s) - 1);
}

}  // namespace firmwarden::audit
