// Remote management: SVC-11 TR-069/CWMP (cleartext ACS, fixed connection-request credentials, the
// listener), SVC-14 administrative handlers reachable without authentication, CRYP-02 an
// administration web interface served over plain HTTP only.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "audit/check.h"
#include "facts/text_util.h"
#include "facts/uci.h"

namespace firmwarden::audit {
namespace {

using facts::DeviceModel;
using facts::SourceRef;

bool IsPlaceholder(std::string_view v) {
  return v.empty() || v.find('$') != std::string_view::npos ||
         v.find('%') != std::string_view::npos || v.find('<') != std::string_view::npos;
}

// ---- SVC-11 ----

constexpr std::string_view kCwmpDaemons[] = {"cwmpd", "easycwmpd", "icwmpd",    "tr69",
                                             "tr069", "cwmp",      "dimclient", "tr69c"};

void Svc11(const DeviceModel& m, const AuditContext&, Findings& out) {
  // Settings as (key, value, where), from the TR-069 clients' uci files and flat configs.
  struct Setting {
    std::string key, value;
    SourceRef at;
  };
  std::vector<Setting> settings;
  for (const auto& [path, sections] : m.configs.uci) {
    std::string name = facts::Basename(path);
    if (name != "cwmp" && name != "easycwmp" && name != "icwmp" && name != "tr069" &&
        name != "tr69")
      continue;
    for (const facts::UciSection& s : sections)
      for (const auto& [k, v] : s.options) {
        auto line = s.option_lines.find(k);
        settings.push_back({s.type + "." + facts::Lower(k), v,
                            SourceRef{path, line == s.option_lines.end() ? s.line : line->second,
                                      fmt::format("option {} '{}'", k, v)}});
      }
  }
  for (const facts::KeyValues& kv : m.configs.Servers("cwmp"))
    for (const facts::Directive& d : kv.directives) settings.push_back({d.key, d.value, d.at});

  std::set<std::string> said;
  for (const Setting& s : settings) {
    const std::string& k = s.key;
    bool acs = k.find("acs") != std::string::npos || k.ends_with(".url") || k == "url";
    if (acs && k.find("url") != std::string::npos && s.value.starts_with("http://"))
      out.Add(fmt::format("TR-069 talks to its ACS over cleartext HTTP ({}): whoever is on the "
                          "path can push configuration and firmware to the device",
                          s.value),
              s.at);
    bool request = k.find("connection_request") != std::string::npos ||
                   k.find("connectionrequest") != std::string::npos || k.find("cpe.") == 0 ||
                   k.starts_with("local.");
    bool secret = k.ends_with("password") || k.ends_with("passwd");
    if (secret && !IsPlaceholder(s.value) && said.insert(k).second)
      out.Add(fmt::format("TR-069 {} password is fixed in the image ({}): the same on every unit",
                          request ? "connection-request" : "ACS", k),
              s.at)
          .severity = request ? Severity::kHigh : Severity::kMedium;
  }
  for (const facts::Started& s : m.started) {
    bool cwmp = false;
    for (std::string_view d : kCwmpDaemons) cwmp = cwmp || s.program == d;
    if (!cwmp || !said.insert("started:" + s.program).second) continue;
    Finding& f = out.Add(fmt::format("TR-069 client {} is started: it accepts connection requests "
                                     "from the network (port 7547 by default)",
                                     s.program),
                         s.source);
    f.severity = Severity::kMedium;
    f.verdict = false;
  }
}

// ---- SVC-14 ----

void Svc14(const DeviceModel& m, const AuditContext&, Findings& out) {
  // lighttpd runs CGIs and asks for no authentication anywhere.
  for (const facts::KeyValues& kv : m.configs.lighttpd) {
    const facts::Directive* cgi = kv.Get("cgi.assign");
    bool auth = kv.Get("auth.require") != nullptr;
    if (cgi != nullptr && !auth) {
      Finding& f = out.Add(
          "lighttpd runs CGI programs and no auth.require protects any path: every handler is "
          "reachable without a password unless it checks a session itself",
          cgi->at);
      f.confidence = Confidence::kLow;
    }
  }
  // Shell CGIs that change the device and never look at a session, cookie or password.
  for (const facts::WebHandler& h : m.web_handlers) {
    if (!h.cgi || h.kind == facts::HandlerKind::kElf || h.shebang.find("sh") == std::string::npos)
      continue;
    const std::string& dev = h.path;
    std::string low = facts::Lower(h.text);
    bool checks = false;
    for (std::string_view k :
         {"http_cookie", "session", "auth", "token", "login", "passw", "remote_user", "sid="})
      checks = checks || low.find(k) != std::string::npos;
    if (checks) continue;
    auto lines = facts::Lines(h.text);
    for (size_t n = 0; n < lines.size(); ++n) {
      std::string_view l = facts::Trim(lines[n]);
      if (l.starts_with("#")) continue;
      std::string_view what;
      if (l.find("nvram set") != std::string_view::npos ||
          l.find("nvram commit") != std::string_view::npos)
        what = "changes nvram settings";
      else if (l.find("sysupgrade") != std::string_view::npos ||
               l.find("mtd write") != std::string_view::npos)
        what = "writes firmware";
      else if (l.find("uci set") != std::string_view::npos ||
               l.find("uci commit") != std::string_view::npos)
        what = "changes the configuration";
      else if (l.starts_with("reboot") || l.find(" reboot") != std::string_view::npos ||
               l.find("factory_reset") != std::string_view::npos ||
               l.find("firstboot") != std::string_view::npos)
        what = "reboots or resets the device";
      if (what.empty()) continue;
      Finding& f = out.Add(
          fmt::format("CGI {} {} and never checks a session, cookie or password", dev, what),
          SourceRef{dev, static_cast<int>(n + 1), std::string(l)});
      f.confidence = Confidence::kMedium;
      break;
    }
  }
}

// ---- CRYP-02 ----

void Cryp02(const DeviceModel& m, const AuditContext&, Findings& out) {
  bool luci =
      m.fs.Resolve("/www/cgi-bin/luci") != nullptr || m.fs.Resolve("/usr/lib/lua/luci") != nullptr;
  // uhttpd: HTTP listeners and no HTTPS one (or HTTPS without a certificate).
  if (const auto* u = m.configs.Uci("uhttpd"))
    for (const facts::UciSection& s : *u) {
      if (s.type != "uhttpd") continue;
      bool http = s.lists.count("listen_http") != 0 || s.options.count("listen_http") != 0;
      bool https = s.lists.count("listen_https") != 0 || s.options.count("listen_https") != 0;
      if (https && (s.options.count("cert") == 0 || s.options.count("key") == 0)) https = false;
      if (!http || https) continue;
      Finding& f = out.Add(
          fmt::format("uhttpd instance '{}' serves {} over plain HTTP only (listen_http, no "
                      "listen_https with a certificate): the admin password crosses the network "
                      "in clear",
                      s.name, luci ? "the LuCI administration interface" : "its pages"),
          SourceRef{"/etc/config/uhttpd", s.line, "config uhttpd '" + s.name + "'"});
      if (!luci) {
        f.confidence = Confidence::kLow;
        f.severity = Severity::kMedium;
      }
    }
  // lighttpd with authentication configured and no TLS.
  for (const facts::KeyValues& kv : m.configs.lighttpd) {
    const facts::Directive* auth = kv.Get("auth.backend");
    const facts::Directive* ssl = kv.Get("ssl.engine");
    bool tls = ssl != nullptr && facts::Lower(ssl->value) == "enable";
    for (const facts::Directive& d : kv.directives)
      if (d.key == "server.modules" && d.value.find("mod_openssl") != std::string::npos)
        tls = tls || ssl != nullptr;
    if (auth != nullptr && !tls)
      out.Add(
          "lighttpd asks for passwords (auth.backend) but has no TLS (ssl.engine): logins "
          "travel in clear",
          auth->at);
  }
  // BusyBox httpd with Basic-auth lines in its config (/path:user:password).
  for (const facts::Started& s : m.started) {
    if (s.program != "httpd" || s.binary.empty()) continue;
    if (m.busybox_applets.count("httpd") == 0) continue;
    const facts::BusyBoxHttpdConfig* conf =
        m.configs.BusyBoxHttpd(facts::BusyBoxHttpdConfPath(s.argv));
    if (conf == nullptr || conf->basic_auth.empty()) continue;
    out.Add(
        "BusyBox httpd protects pages with HTTP Basic authentication and has no TLS: the "
        "password is sent base64-encoded in clear",
        conf->basic_auth.front());
  }
}

}  // namespace

extern const Check kSvc11{
    "SVC-11",
    "TR-069/CWMP exposure",
    Severity::kHigh,
    "TR-069 lets a provider's ACS reconfigure and reflash the device; over cleartext HTTP, or "
    "with connection-request credentials that are the same on every unit, anyone on the path or "
    "the network can do the same (the 2016 Deutsche Telekom outage came through port 7547).",
    "Use an https:// ACS URL with certificate validation, generate connection-request "
    "credentials per unit, and accept connection requests only from the ACS.",
    {"5.5-1, 5.1-1, 5.5-5", "", "I.2(d), I.2(e)", "§1", "LA", "AUM-5-1, SCM-3"},
    Svc11};

extern const Check kSvc14{
    "SVC-14",
    "Unauthenticated administrative endpoint",
    Severity::kHigh,
    "A web handler that changes settings, writes firmware or reboots the device without checking "
    "who asks can be driven by anyone who reaches the web interface, or by a web page the "
    "administrator visits (CSRF).",
    "Put every administrative handler behind the web server's authentication or a session check, "
    "and require an anti-CSRF token for changes.",
    {"5.5-5, 5.5-4", "", "I.2(d)", "", "LA, DC", "ACM-2, AUM-1"},
    Svc14};

extern const Check kCryp02{
    "CRYP-02",
    "Administration over plain HTTP",
    Severity::kHigh,
    "A web interface that takes the administrator's password over plain HTTP hands it to anyone "
    "on the same network segment or Wi-Fi.",
    "Serve administration over HTTPS only (a per-unit certificate), redirect HTTP to HTTPS, and "
    "never use HTTP Basic authentication without TLS.",
    {"5.5-1, 5.5-6, 5.5-7, 5.1-3", "", "I.2(e)", "", "DP, LA", "SCM-3"},
    Cryp02};

}  // namespace firmwarden::audit
