// Configs: daemon, package-manager, kernel and boot-script configuration, parsed once the way each
// program reads it (its comment syntax, quoting, which of two assignments wins, its includes and
// its built-in defaults where they matter). Checks read these views and never re-parse the files.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "facts/source_ref.h"
#include "facts/uci.h"

namespace firmwarden::facts {

// One directive: key and value as the program sees them, and the line that said it.
struct Directive {
  std::string key;    // lower-cased where the program ignores case
  std::string value;  // quotes removed
  SourceRef at;
};

// A flat configuration where a later assignment overrides an earlier one (vsftpd, hostapd,
// miniupnpd, pure-ftpd.conf, sysctl).
struct KeyValues {
  std::string path;                   // the main file (includes are named in each Directive)
  std::vector<Directive> directives;  // every assignment, in the order the program reads them
  // The effective (last) assignment of `key`, nullptr when never set.
  const Directive* Get(std::string_view key) const;
  // The effective value as a boolean (YES/NO, 1/0, true/false, on/off), nullopt when unset.
  std::optional<bool> Bool(std::string_view key) const;
};

// proftpd: one <Anonymous> block.
struct ProftpdAnonymous {
  SourceRef at;        // the <Anonymous ~ftp> line
  std::string dir;     // its argument
  bool write_denied;   // a <Limit WRITE …> (or STOR/MKD) inside with DenyAll
  bool write_allowed;  // a <Limit WRITE …> (or STOR/MKD) inside with AllowAll
};

struct ProftpdConfig {
  std::string path;
  std::vector<ProftpdAnonymous> anonymous;
};

// An SNMP community and what it grants.
struct SnmpCommunity {
  enum class Access { kNone, kRead, kWrite };
  std::string community;
  Access access = Access::kRead;
  std::string source;  // "default", "localhost", a network; "" = any
  std::string via;     // "rocommunity", "rwcommunity", "com2sec", "uci com2sec"
  SourceRef at;
};

struct SnmpdConfig {
  std::string path;
  std::vector<SnmpCommunity> communities;
  bool v3_users = false;  // createUser / rouser / rwuser present
};

// mosquitto: one listener (the default listener included).
struct MqttListener {
  int port = 1883;
  std::string bind;  // bind address or interface, "" = all
  bool tls = false;  // certfile (or psk_file) configured for it
  // per_listener_settings true: this listener's own settings.
  std::optional<bool> allow_anonymous;
  bool password_file = false;
  SourceRef at;  // the listener (or port) line
};

struct MosquittoConfig {
  std::string path;
  bool per_listener_settings = false;
  std::optional<Directive> allow_anonymous;  // global (per_listener_settings false)
  bool password_file = false;                // global password_file / auth plugin
  std::vector<MqttListener> listeners;       // empty: mosquitto 2.x listens on loopback only
};

struct NfsExport {
  std::string dir;
  struct Client {
    std::string host;  // "" or "*" = everyone
    std::vector<std::string> options;
  };
  std::vector<Client> clients;
  SourceRef at;
};

struct SmbSection {
  std::string name;  // lower-case: "global", "homes", a share name
  int line = 0;
  std::map<std::string, Directive> values;  // key normalised: lower-case, no spaces; last wins
  const Directive* Get(std::string_view key) const;
};

struct SmbConfig {
  std::string path;
  std::vector<SmbSection> sections;
};

// Package feeds and their trust settings.
struct OpkgConfig {
  std::vector<Directive> feeds;  // key "src/gz" or "src", value "name url"
  std::optional<Directive> check_signature;
  std::vector<std::string> files;  // the files opkg reads
};

struct AptSource {
  std::string uri;
  bool trusted = false;  // [trusted=yes] / Trusted: yes
  SourceRef at;
};

struct AptConfig {
  std::vector<AptSource> sources;
  std::vector<Directive> insecure;  // AllowUnauthenticated / AllowInsecureRepositories … "true"
};

// A shell script, as commands: words after quote removal, comments dropped, continuation lines
// joined, split at ; | & && || (redirections stay as words: ">" then the target).
struct ScriptCommand {
  std::vector<std::string> words;
  SourceRef at;
};

struct ScriptFile {
  std::string path;
  std::vector<ScriptCommand> commands;
};

// OpenSSH sshd_config: "Keyword value", "Keyword=value" or "Keyword = value"; keywords ignore case;
// for most keywords the first value wins; a Match line starts conditional blocks that last to the
// end of the file.
struct SshdConfig {
  std::string path;               // "" when the image has no sshd_config
  std::vector<Directive> global;  // before the first Match, in order; key lower-cased, value as
                                  // written after the separator
  std::vector<Directive> match;   // the Match lines and everything after them, the same way
  // The first global assignment of `key` (lower-case), nullptr when never set.
  const Directive* Get(std::string_view key) const;
  // Its first argument, lower-cased ("" when unset).
  std::string Arg(std::string_view key) const;
};

// A UPnP device description (urn:schemas-upnp-org:device-1-0) that has a <serialNumber>.
struct UpnpDescription {
  std::string path;
  std::string serial;  // the element's text, trimmed (may be a run-time template such as "%s")
  SourceRef at;        // the line of <serialNumber>; text "<serialNumber>…</serialNumber>"
};

// BusyBox httpd's configuration (the file after -c, else /etc/httpd.conf): the "/path:user:pass"
// lines that put a URL prefix behind HTTP Basic authentication.
struct BusyBoxHttpdConfig {
  std::string path;                   // as the command line names it
  std::vector<SourceRef> basic_auth;  // in file order; text is the URL prefix, never the password
};

// The configuration file a BusyBox httpd started with `argv` reads: the last -c, else
// /etc/httpd.conf.
std::string BusyBoxHttpdConfPath(const std::vector<std::string>& argv);

struct Configs {
  std::vector<KeyValues> vsftpd;
  std::vector<KeyValues> pure_ftpd;  // pure-ftpd.conf ("Key value")
  std::vector<ProftpdConfig> proftpd;
  std::vector<SnmpdConfig> snmpd;  // net-snmp files and OpenWrt /etc/config/snmpd
  std::vector<KeyValues> miniupnpd;
  std::vector<Directive> miniupnpd_rules;  // allow/deny lines, key "allow"/"deny"
  std::vector<MosquittoConfig> mosquitto;
  std::vector<NfsExport> exports;
  std::vector<SmbConfig> samba;
  std::vector<KeyValues> hostapd;
  OpkgConfig opkg;
  AptConfig apt;
  std::vector<KeyValues> lighttpd;
  // Directive files of other servers and crypto libraries, by kind: "nginx", "apache", "stunnel",
  // "openssl" (openssl.cnf), "openvpn", "ipsec" (strongSwan/Openswan ipsec.conf), "boa",
  // "mini_httpd", "cwmp" (TR-069 clients). Keys lower-cased; nginx's trailing ';' removed.
  std::map<std::string, std::vector<KeyValues>> servers;
  const std::vector<KeyValues>& Servers(std::string_view kind) const;
  // The kernel's build configuration (/boot/config-<release>, /lib/modules/<release>/config):
  // CONFIG_X=value, and "# CONFIG_X is not set" as value "n". Empty path when none ships.
  KeyValues kernel_config;
  KeyValues sysctl;                 // merged in the order sysctl applies them; key with '/' -> '.'
  std::vector<ScriptFile> scripts;  // shell scripts under /etc /sbin /usr/sbin /bin /usr/bin /lib
  SshdConfig sshd;                  // /etc/ssh/sshd_config
  std::vector<UpnpDescription> upnp;  // *.xml up to 256 KiB anywhere, in tree order
  // The files the started BusyBox httpd instances read (BusyBoxHttpdConfPath), in start order.
  std::vector<BusyBoxHttpdConfig> busybox_httpd;
  // Every /etc/config/<name> file: path -> sections.
  std::map<std::string, std::vector<UciSection>> uci;

  const std::vector<UciSection>* Uci(std::string_view name) const;  // "wireless"
  // The parsed BusyBox httpd configuration at `path` as started, nullptr when not read.
  const BusyBoxHttpdConfig* BusyBoxHttpd(std::string_view path) const;
};

// Parsers, exposed for tests. `path` labels the SourceRefs.
KeyValues ParseKeyValues(std::string_view text, const std::string& path, char sep, bool lower_keys);
ProftpdConfig ParseProftpd(std::string_view text, const std::string& path);
void ParseSnmpd(std::string_view text, const std::string& path, SnmpdConfig& out);
SnmpdConfig SnmpdFromUci(const std::vector<UciSection>& sections, const std::string& path);
MosquittoConfig ParseMosquitto(std::string_view text, const std::string& path);
std::vector<NfsExport> ParseExports(std::string_view text, const std::string& path);
SmbConfig ParseSmb(std::string_view text, const std::string& path);
ScriptFile ParseScript(std::string_view text, const std::string& path);
SshdConfig ParseSshd(std::string_view text, const std::string& path);
// nullopt unless `text` is a UPnP device description with a <serialNumber> element.
std::optional<UpnpDescription> ParseUpnpDescription(std::string_view text, const std::string& path);
BusyBoxHttpdConfig ParseBusyBoxHttpd(std::string_view text, const std::string& path);
// Shell words of one line: quotes removed, stops at a comment, operators as their own words.
std::vector<std::string> ShellWords(std::string_view line);

}  // namespace firmwarden::facts
