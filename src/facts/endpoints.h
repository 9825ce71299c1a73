// Endpoints: the URLs a device's files name (configuration, scripts, web pages and the strings of
// its programs): where it talks to, over which scheme. PRIV-01 inventories them; later modules
// (MUD profiles) read the same facts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace firmwarden::facts {

struct Endpoint {
  std::string scheme;  // "http", "https", "mqtt", "ftp", "tftp", "ws", "wss", "coap", …
  std::string host;    // lower-cased host name or address literal (IPv6 without brackets)
  int port = 0;        // explicit port, 0 when none
  std::string url;     // the URL as written (at most 256 bytes)
  std::string path;    // device path of the file
  uint64_t offset = 0;
  bool in_program = false;  // found in an ELF program's bytes rather than a text file
};

// Finds URLs in one buffer. Skips loopback, documentation domains (example.com/.org/.net, .test,
// .invalid, .local), XML namespace and schema hosts (w3.org, xmlsoap.org, purl.org…), and
// format-string templates ("%s"). At most `limit` endpoints per buffer.
void ScanBufferForEndpoints(std::string_view data, const std::string& path, bool in_program,
                            std::vector<Endpoint>& out, size_t limit = 256);

}  // namespace firmwarden::facts
