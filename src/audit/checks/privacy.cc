// Privacy: PRIV-01 the remote endpoints the image names (the third parties a device may talk to),
// and cleartext endpoints that look like they receive data.
#include <fmt/format.h>

#include <map>
#include <set>

#include "audit/check.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

using facts::Endpoint;

// Licence texts and their like name project sites, not endpoints.
bool Boilerplate(std::string_view path) {
  std::string name = facts::Lower(facts::Basename(path));
  return path.starts_with("/usr/share/common-licenses/") || name.starts_with("copying") ||
         name.starts_with("license") || name.starts_with("licence") || name == "copyright" ||
         name == "readme" || name.ends_with(".md") || name.ends_with(".txt");
}

// A URL path that sends something somewhere.
bool Uploads(std::string_view url) {
  std::string u = facts::Lower(url);
  size_t slash = u.find('/', u.find("://") + 3);
  if (slash == std::string::npos) return false;
  std::string_view p = std::string_view(u).substr(slash);
  for (std::string_view k : {"upload", "report", "telemetry", "statistic", "/stat", "collect",
                             "track", "analytics", "metric", "heartbeat", "register", "activate",
                             "/log", "/api/", "crash", "feedback", "diagnos"})
    if (p.find(k) != std::string_view::npos) return true;
  return false;
}

void Priv01(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  struct Host {
    std::set<std::string> schemes;
    const Endpoint* first = nullptr;
    size_t count = 0;
  };
  std::map<std::string, Host> hosts;
  std::set<std::string> cleartext_said;
  for (const Endpoint& e : m.endpoints) {
    if (Boilerplate(e.path)) continue;
    Host& h = hosts[e.host];
    h.schemes.insert(e.scheme);
    if (h.first == nullptr) h.first = &e;
    ++h.count;
    bool clear = e.scheme == "http" || e.scheme == "mqtt" || e.scheme == "ftp" ||
                 e.scheme == "ws" || e.scheme == "coap" || e.scheme == "amqp";
    if (clear && !e.in_program && Uploads(e.url) && cleartext_said.insert(e.url).second) {
      Finding& f =
          out.Add(fmt::format("{} sends data in clear text to {} ({})", e.path, e.host, e.url),
                  facts::SourceRef{e.path, 0, e.url});
      f.severity = Severity::kMedium;
      f.confidence = Confidence::kMedium;
    }
  }
  if (hosts.empty()) return;
  std::string list;
  size_t n = 0;
  for (const auto& [host, h] : hosts) {
    if (n++ == 20) {
      list += fmt::format(", … ({} hosts in all)", hosts.size());
      break;
    }
    std::string schemes;
    for (const std::string& s : h.schemes) schemes += (schemes.empty() ? "" : "/") + s;
    list += fmt::format("{}{} ({}, {}{})", n > 1 ? "; " : "", host, schemes, h.first->path,
                        h.count > 1 ? fmt::format(" and {} more", h.count - 1) : "");
  }
  Finding& f = out.Add(fmt::format("the image names {} remote host{}: {}", hosts.size(),
                                   hosts.size() == 1 ? "" : "s", list),
                       hosts.begin()->second.first->path);
  f.verdict = false;
}

}  // namespace

extern const Check kPriv01{
    "PRIV-01",
    "Remote endpoints inventory",
    Severity::kInfo,
    "EN 303 645 asks the manufacturer to tell users which data goes where; the hosts an image "
    "names (cloud services, telemetry, update and time servers) are where to start, and any that "
    "receive data over cleartext protocols expose it on the way.",
    "Document every remote endpoint and what it receives; send data only over TLS with "
    "certificate validation; remove endpoints the product does not use.",
    {"5.8-1, 5.8-2, 6-1, 6-5", "", "I.2(e), I.2(g)", "", "DP", "SCM-3"},
    Priv01};

}  // namespace firmwarden::audit
