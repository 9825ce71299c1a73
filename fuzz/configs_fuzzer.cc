// The text parsers of the facts: UCI, key=value configurations, proftpd, snmpd, NFS exports,
// shell words, sshd_config, UPnP descriptions, BusyBox httpd.conf, the secret rules, the endpoint
// (URL) scanner. The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "facts/configs.h"
#include "facts/endpoints.h"
#include "facts/secrets.h"
#include "facts/uci.h"

using namespace firmwarden::facts;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 12) {
    case 0:
      (void)ParseUci(text);
      break;
    case 1:
      (void)ParseKeyValues(text, "/etc/x.conf", '=', true);
      break;
    case 2:
      (void)ParseKeyValues(text, "/etc/x.conf", ' ', false);
      break;
    case 3:
      (void)ParseProftpd(text, "/etc/proftpd.conf");
      break;
    case 4: {
      SnmpdConfig c;
      ParseSnmpd(text, "/etc/snmpd.conf", c);
      break;
    }
    case 5:
      (void)ParseExports(text, "/etc/exports");
      break;
    case 6:
      (void)ShellWords(text);
      break;
    case 7: {
      std::vector<Endpoint> out;
      ScanBufferForEndpoints(text, "/etc/x", false, out);
      ScanBufferForEndpoints(text, "/usr/bin/x", true, out, 4);
      break;
    }
    case 8:
      (void)ParseSshd(text, "/etc/ssh/sshd_config");
      break;
    case 9:
      (void)ParseUpnpDescription(text, "/etc/upnp/desc.xml");
      break;
    case 10:
      (void)ParseBusyBoxHttpd(text, "/etc/httpd.conf");
      break;
    default: {
      std::vector<Secret> out;
      ScanBufferForSecrets(text, "/etc/x", true, out);
      ScanBufferForSecrets(text, "/usr/bin/x", false, out);
      break;
    }
  }
  return 0;
}
