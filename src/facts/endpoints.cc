#include "facts/endpoints.h"

#include <cctype>

#include "facts/text_util.h"

namespace firmwarden::facts {

namespace {

constexpr std::string_view kSchemes[] = {"https", "http", "mqtts", "mqtt", "ftp",  "tftp",
                                         "wss",   "ws",   "coaps", "coap", "sftp", "ntp",
                                         "amqps", "amqp", "rtsp",  "sip",  "xmpp"};

bool HostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

bool UrlChar(char c) {
  return c > 0x20 && c < 0x7f && c != '"' && c != '\'' && c != '<' && c != '>' && c != '`' &&
         c != '\\' && c != '{' && c != '}' && c != '|' && c != '^';
}

// Hosts that are not somewhere a device talks to.
bool Ignored(std::string_view host) {
  static constexpr std::string_view kExact[] = {
      "localhost", "127.0.0.1", "0.0.0.0", "::1",    "::",  "host",
      "hostname",  "ip",        "server",  "domain", "www", "255.255.255.255"};
  for (std::string_view h : kExact)
    if (host == h) return true;
  static constexpr std::string_view kSuffixes[] = {
      "example.com",  "example.org",        "example.net", ".example",    ".test",    ".invalid",
      ".local",       ".localhost",         "w3.org",      "xmlsoap.org", "purl.org", "xml.org",
      "ns.adobe.com", "openxmlformats.org", "tempuri.org", ".here"};
  for (std::string_view s : kSuffixes)
    if (host == s || (host.size() > s.size() && host.ends_with(s) &&
                      (s[0] == '.' || host[host.size() - s.size() - 1] == '.')))
      return true;
  if (host.starts_with("127.")) return true;
  if (host.starts_with("schemas.")) return true;
  return false;
}

}  // namespace

void ScanBufferForEndpoints(std::string_view data, const std::string& path, bool in_program,
                            std::vector<Endpoint>& out, size_t limit) {
  size_t found = 0;
  size_t from = 0;
  while (found < limit) {
    size_t at = data.find("://", from);
    if (at == std::string_view::npos) break;
    from = at + 3;
    // The scheme: the longest known scheme ending right before "://", not preceded by a letter.
    std::string_view scheme;
    for (std::string_view s : kSchemes) {
      if (at < s.size()) continue;
      std::string_view cand = data.substr(at - s.size(), s.size());
      bool same = true;
      for (size_t i = 0; i < s.size(); ++i)
        same = same && std::tolower(static_cast<unsigned char>(cand[i])) == s[i];
      if (!same) continue;
      size_t before = at - s.size();
      if (before > 0 && std::isalnum(static_cast<unsigned char>(data[before - 1]))) continue;
      scheme = s;
      break;
    }
    if (scheme.empty()) continue;
    size_t h = at + 3;
    // Skip user:password@ (the secrets rules report those).
    size_t end = h;
    while (end < data.size() && UrlChar(data[end]) && end - h < 512) ++end;
    std::string_view rest = data.substr(h, end - h);
    size_t slash = rest.find('/');
    size_t atsign = rest.find('@');
    if (atsign != std::string_view::npos && (slash == std::string_view::npos || atsign < slash))
      h += atsign + 1;
    std::string host;
    int port = 0;
    size_t p = h;
    if (p < data.size() && data[p] == '[') {  // IPv6 literal
      size_t close = data.find(']', p);
      if (close == std::string_view::npos || close - p > 64) continue;
      host = std::string(data.substr(p + 1, close - p - 1));
      p = close + 1;
    } else {
      while (p < data.size() && HostChar(data[p]) && p - h < 253) ++p;
      host = Lower(data.substr(h, p - h));
    }
    if (p < data.size() && data[p] == ':') {
      size_t q = p + 1;
      int v = 0;
      while (q < data.size() && std::isdigit(static_cast<unsigned char>(data[q])) && v < 65536)
        v = v * 10 + (data[q++] - '0');
      if (q > p + 1 && v > 0 && v < 65536) port = v;
    }
    while (!host.empty() && (host.back() == '.' || host.back() == '-')) host.pop_back();
    // A host name needs a dot (or is an address literal); templates and placeholders are skipped.
    if (host.empty() ||
        (host.find('.') == std::string::npos && host.find(':') == std::string::npos))
      continue;
    if (rest.find('%') != std::string_view::npos && rest.find('%') < rest.find('/')) continue;
    if (rest.find('$') != std::string_view::npos && rest.find('$') < rest.find('/')) continue;
    if (Ignored(host)) continue;
    size_t begin = at - scheme.size();
    size_t url_end = std::min(end, begin + 256);
    Endpoint e;
    e.scheme = std::string(scheme);
    e.host = host;
    e.port = port;
    e.url = std::string(data.substr(begin, url_end - begin));
    while (!e.url.empty() && (e.url.back() == '.' || e.url.back() == ',' || e.url.back() == ';' ||
                              e.url.back() == ')'))
      e.url.pop_back();
    e.path = path;
    e.offset = begin;
    e.in_program = in_program;
    out.push_back(std::move(e));
    ++found;
    from = end;
  }
}

}  // namespace firmwarden::facts
