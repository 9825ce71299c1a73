// The configuration parsers (facts/configs.h), each against the rules of the program that reads
// the file: comments, quoting, which of two assignments wins, includes; and a few checks end to
// end through small images.
#include "facts/configs.h"

#include <gtest/gtest.h>

#include "firmwarden/scan.h"
#include "test_util.h"

namespace firmwarden {
namespace {

namespace t = firmwarden::testing;
using namespace facts;

TEST(ConfigParsers, KeyValuesLaterAssignmentWinsAndCommentsAreSkipped) {
  KeyValues kv = ParseKeyValues(
      "anonymous_enable=YES\n#anonymous_enable=NO\n  anonymous_enable=NO\nftpd_banner=\"hi "
      "there\"\n",
      "/etc/vsftpd.conf", '=', false);
  ASSERT_NE(kv.Get("anonymous_enable"), nullptr);
  EXPECT_EQ(kv.Get("anonymous_enable")->at.line, 3);
  EXPECT_EQ(kv.Bool("anonymous_enable"), false);
  EXPECT_EQ(kv.Get("ftpd_banner")->value, "hi there");
  EXPECT_EQ(kv.Bool("write_enable"), std::nullopt);
  KeyValues pure =
      ParseKeyValues("NoAnonymous   no\n# NoAnonymous yes\n", "/etc/pure-ftpd.conf", ' ', true);
  EXPECT_EQ(pure.Bool("noanonymous"), false);
}

TEST(ConfigParsers, ProftpdAnonymousBlocksAndWriteLimits) {
  ProftpdConfig c = ParseProftpd(R"(ServerName "x"
# <Anonymous /srv/old>
# </Anonymous>
<Anonymous ~ftp>
  User ftp
  <Limit WRITE>
    DenyAll
  </Limit>
</Anonymous>
<Anonymous /srv/incoming>
  <Limit STOR MKD>
    AllowAll
  </Limit>
</Anonymous>
)",
                                 "/etc/proftpd.conf");
  ASSERT_EQ(c.anonymous.size(), 2u);
  EXPECT_EQ(c.anonymous[0].dir, "~ftp");
  EXPECT_EQ(c.anonymous[0].at.line, 4);
  EXPECT_TRUE(c.anonymous[0].write_denied);
  EXPECT_FALSE(c.anonymous[1].write_denied);
  EXPECT_TRUE(c.anonymous[1].write_allowed);
}

TEST(ConfigParsers, SnmpdCom2secNeedsAGroupAndAnAccessLine) {
  SnmpdConfig c;
  ParseSnmpd(R"(rocommunity public 10.0.0.0/8
rwcommunity -V all private
com2sec readonly default monitor
com2sec nothing default orphan
group ROGroup v2c readonly
access ROGroup "" any noauth exact all none none
#rwcommunity secret
)",
             "/etc/snmp/snmpd.conf", c);
  using A = SnmpCommunity::Access;
  ASSERT_EQ(c.communities.size(), 4u);
  EXPECT_EQ(c.communities[0].community, "public");
  EXPECT_EQ(c.communities[0].source, "10.0.0.0/8");
  EXPECT_EQ(c.communities[0].access, A::kRead);
  EXPECT_EQ(c.communities[1].community, "private");
  EXPECT_EQ(c.communities[1].access, A::kWrite);
  EXPECT_EQ(c.communities[2].community, "monitor");
  EXPECT_EQ(c.communities[2].access, A::kRead);
  EXPECT_EQ(c.communities[3].access, A::kNone);
  EXPECT_FALSE(c.v3_users);
}

TEST(ConfigParsers, SnmpdFromOpenWrtUci) {
  auto sections = ParseUci(R"(config agent
	option agentaddress UDP:161
config com2sec public
	option secname ro
	option source default
	option community public
config com2sec private
	option secname rw
	option source localhost
	option community private
config group public_v2c
	option group public
	option version v2c
	option secname ro
config group private_v2c
	option group private
	option version v2c
	option secname rw
config access public_access
	option group public
	option read all
	option write none
config access private_access
	option group private
	option read all
	option write all
)");
  SnmpdConfig c = SnmpdFromUci(sections, "/etc/config/snmpd");
  ASSERT_EQ(c.communities.size(), 2u);
  EXPECT_EQ(c.communities[0].access, SnmpCommunity::Access::kRead);
  EXPECT_EQ(c.communities[0].at.line, 6);
  EXPECT_EQ(c.communities[1].access, SnmpCommunity::Access::kWrite);
  EXPECT_EQ(c.communities[1].source, "localhost");
}

TEST(ConfigParsers, MosquittoListenersAndPerListenerSettings) {
  MosquittoConfig c = ParseMosquitto(R"(per_listener_settings true
listener 1883 127.0.0.1
allow_anonymous true
listener 8883
certfile /etc/mosquitto/server.crt
password_file /etc/mosquitto/passwd
listener 1884
allow_anonymous true
)",
                                     "/etc/mosquitto/mosquitto.conf");
  ASSERT_EQ(c.listeners.size(), 3u);
  EXPECT_EQ(c.listeners[0].bind, "127.0.0.1");
  EXPECT_EQ(c.listeners[0].allow_anonymous, true);
  EXPECT_TRUE(c.listeners[1].tls);
  EXPECT_TRUE(c.listeners[1].password_file);
  EXPECT_FALSE(c.listeners[1].allow_anonymous.has_value());  // 2.x default: false
  EXPECT_EQ(c.listeners[2].port, 1884);
  EXPECT_FALSE(c.listeners[2].tls);
  EXPECT_FALSE(c.allow_anonymous.has_value());
  MosquittoConfig d = ParseMosquitto("port 1883\nallow_anonymous true\n", "/m.conf");
  ASSERT_EQ(d.listeners.size(), 1u);
  EXPECT_EQ(d.listeners[0].port, 1883);
  ASSERT_TRUE(d.allow_anonymous.has_value());
  EXPECT_EQ(d.allow_anonymous->at.line, 2);
  EXPECT_TRUE(ParseMosquitto("# listener 1883\n", "/m.conf").listeners.empty());
}

TEST(ConfigParsers, ExportsClientsOptionsAndContinuations) {
  auto e = ParseExports(R"(# /srv *(rw)
/srv/nfs 192.168.1.0/24(ro,root_squash) \
    *(rw,no_root_squash)
"/srv/with space" -rw,sync host1 host2(ro)
/srv/all
)",
                        "/etc/exports");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].at.line, 2);
  ASSERT_EQ(e[0].clients.size(), 2u);
  EXPECT_EQ(e[0].clients[1].host, "*");
  EXPECT_EQ(e[0].clients[1].options, (std::vector<std::string>{"rw", "no_root_squash"}));
  EXPECT_EQ(e[1].dir, "/srv/with space");
  ASSERT_EQ(e[1].clients.size(), 2u);
  EXPECT_EQ(e[1].clients[0].options, (std::vector<std::string>{"rw", "sync"}));
  EXPECT_EQ(e[1].clients[1].options, (std::vector<std::string>{"rw", "sync", "ro"}));
  ASSERT_EQ(e[2].clients.size(), 1u);
  EXPECT_EQ(e[2].clients[0].host, "");
}

TEST(ConfigParsers, SmbKeysIgnoreCaseAndSpacesSynonymsAndLastWins) {
  SmbConfig c = ParseSmb(R"([Global]
  Server Min Protocol = NT1
  ; server min protocol = SMB2
  min protocol = SMB2_10
[Share]
  public = yes
  read only = no
  guest ok = \
     no
)",
                         "/etc/samba/smb.conf");
  ASSERT_EQ(c.sections.size(), 2u);
  EXPECT_EQ(c.sections[0].name, "global");
  EXPECT_EQ(c.sections[0].Get("serverminprotocol")->value, "SMB2_10");
  EXPECT_EQ(c.sections[1].Get("guestok")->value, "no");
  EXPECT_EQ(c.sections[1].Get("guestok")->at.line, 8);
  EXPECT_EQ(c.sections[1].Get("writable")->value, "yes");
}

TEST(ConfigParsers, ShellWordsQuotesCommentsAndOperators) {
  EXPECT_EQ(ShellWords("curl -k 'a b' \"c\\\"d\" e\\ f # comment"),
            (std::vector<std::string>{"curl", "-k", "a b", "c\"d", "e f"}));
  EXPECT_EQ(ShellWords("echo 0 >/proc/x 2>/dev/null && a|b;c"),
            (std::vector<std::string>{"echo", "0", ">", "/proc/x", ">", "/dev/null", "&&", "a", "|",
                                      "b", ";", "c"}));
  EXPECT_EQ(ShellWords("echo a#b"), (std::vector<std::string>{"echo", "a#b"}));
  EXPECT_TRUE(ShellWords("  # nc -l -e /bin/sh").empty());
}

TEST(ConfigParsers, ScriptCommandsDropKeywordsAndJoinContinuations) {
  ScriptFile f = ParseScript(R"(#!/bin/sh
if [ -x /usr/bin/curl ]; then curl -k \
   https://x/fw.bin; fi
  start) wget --no-check-certificate https://y ;;
)",
                             "/etc/init.d/x");
  ASSERT_EQ(f.commands.size(), 4u);
  EXPECT_EQ(f.commands[0].words[0], "[");
  EXPECT_EQ(f.commands[1].words, (std::vector<std::string>{"curl", "-k", "https://x/fw.bin"}));
  EXPECT_EQ(f.commands[1].at.line, 2);
  EXPECT_EQ(f.commands[2].words, (std::vector<std::string>{"fi"}));
  EXPECT_EQ(f.commands[3].words[0], "wget");
  EXPECT_EQ(f.commands[3].at.line, 4);
}

TEST(ConfigParsers, SshdFirstValueWinsSeparatorsAndMatchBlocks) {
  SshdConfig c = ParseSshd(R"(# PermitRootLogin yes
PermitRootLogin=No
permitrootlogin yes
MaxAuthTries = 10
  Ciphers aes128-ctr,3des-cbc # trailing
ListenAddress 10.0.0.1
Match User backup
  PermitRootLogin yes
  ListenAddress 0.0.0.0
)",
                           "/etc/ssh/sshd_config");
  EXPECT_EQ(c.path, "/etc/ssh/sshd_config");
  ASSERT_EQ(c.global.size(), 5u);
  ASSERT_NE(c.Get("permitrootlogin"), nullptr);
  EXPECT_EQ(c.Get("permitrootlogin")->at.line, 2);  // the first assignment, not line 3
  EXPECT_EQ(c.Get("permitrootlogin")->value, "No");
  EXPECT_EQ(c.Arg("permitrootlogin"), "no");
  EXPECT_EQ(c.Arg("maxauthtries"), "10");
  EXPECT_EQ(c.Get("ciphers")->value, "aes128-ctr,3des-cbc # trailing");
  EXPECT_EQ(c.Get("ciphers")->at.text, "Ciphers aes128-ctr,3des-cbc # trailing");
  EXPECT_EQ(c.Get("match"), nullptr);
  EXPECT_EQ(c.Arg("passwordauthentication"), "");
  ASSERT_EQ(c.match.size(), 3u);
  EXPECT_EQ(c.match[0].key, "match");
  EXPECT_EQ(c.match[2].key, "listenaddress");
  EXPECT_EQ(c.match[2].at.line, 9);
  EXPECT_TRUE(ParseSshd("", "/x").global.empty());
}

TEST(ConfigParsers, UpnpDescriptionSerialNumberAndItsLine) {
  auto d = ParseUpnpDescription(R"(<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
<device>
  <serialNumber> 12345678 </serialNumber>
</device></root>
)",
                                "/etc/upnp/desc.xml");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->path, "/etc/upnp/desc.xml");
  EXPECT_EQ(d->serial, "12345678");
  EXPECT_EQ(d->at.line, 4);
  EXPECT_EQ(d->at.text, "<serialNumber>12345678</serialNumber>");
  EXPECT_FALSE(ParseUpnpDescription("<root><serialNumber>1</serialNumber></root>", "/a.xml"));
  EXPECT_FALSE(ParseUpnpDescription("urn:schemas-upnp-org:device-1-0 <serialNumber>1", "/b.xml"));
  auto templ = ParseUpnpDescription(
      "urn:schemas-upnp-org:device-1-0<serialNumber>%s</serialNumber>", "/c.xml");
  ASSERT_TRUE(templ.has_value());
  EXPECT_EQ(templ->serial, "%s");
}

TEST(ConfigParsers, BusyBoxHttpdBasicAuthLinesAndTheFileItReads) {
  BusyBoxHttpdConfig c = ParseBusyBoxHttpd(
      "# /commented:out:pass\nA:*\n  /cgi-bin:admin:secret\r\n/adm:root:x:y\n/only:one\n"
      "E404:/404.html\n/:nobody:\n",
      "/etc/web.conf");
  EXPECT_EQ(c.path, "/etc/web.conf");
  ASSERT_EQ(c.basic_auth.size(), 3u);
  EXPECT_EQ(c.basic_auth[0].path, "/etc/web.conf");
  EXPECT_EQ(c.basic_auth[0].line, 3);
  EXPECT_EQ(c.basic_auth[0].text, "/cgi-bin");  // the URL prefix, never the password
  EXPECT_EQ(c.basic_auth[1].line, 4);
  EXPECT_EQ(c.basic_auth[1].text, "/adm");
  EXPECT_EQ(c.basic_auth[2].line, 7);
  EXPECT_EQ(c.basic_auth[2].text, "/");
  EXPECT_TRUE(ParseBusyBoxHttpd("", "/x").basic_auth.empty());

  EXPECT_EQ(BusyBoxHttpdConfPath({"httpd", "-p", "80"}), "/etc/httpd.conf");
  EXPECT_EQ(BusyBoxHttpdConfPath({"httpd", "-c", "/a.conf", "-c", "/b.conf"}), "/b.conf");
  EXPECT_EQ(BusyBoxHttpdConfPath({"httpd", "-h", "/www", "-c"}), "/etc/httpd.conf");
  EXPECT_EQ(BusyBoxHttpdConfPath({}), "/etc/httpd.conf");
}

// ---- end to end ----

std::string ChecksDir() { return std::string(FIRMWARDEN_SOURCE_DIR) + "/tests/checks"; }

std::string ChecksText(const std::string& name) { return t::ReadFile(ChecksDir() + "/" + name); }

ScanResult ScanText(const std::string& spec, const t::TempDir& dir) {
  t::WriteFile(dir / "spec", spec);
  std::string tar = dir / "image.tar";
  EXPECT_EQ(t::PackSpec(dir / "spec", tar), 0);
  auto r = Scan(tar, ScanOptions{});
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? std::move(*r) : ScanResult{};
}

std::vector<const Finding*> Of(const ScanResult& r, std::string_view id) {
  std::vector<const Finding*> out;
  for (const Finding& f : r.findings)
    if (f.check_id == id) out.push_back(&f);
  return out;
}

constexpr const char* kBase = R"(=== file etc/passwd
root:x:0:0:root:/root:/bin/sh
=== file etc/shadow
root:*:1:0:99999:7:::
=== file bin/busybox elf
BusyBox v1.36.1
=== link bin/sh -> busybox
=== file etc/inittab
::sysinit:/etc/init.d/rcS
)";

TEST(ConfigChecks, OpkgFeedsOverHttpAreHighWithoutSignaturesMediumWith) {
  t::TempDir a, b;
  std::string feeds = R"(=== file bin/opkg elf
opkg
=== file etc/opkg/distfeeds.conf
src/gz base http://downloads.openwrt.org/base
)";
  ScanResult unsigned_r =
      ScanText(std::string(kBase) + feeds + "=== file etc/opkg.conf\ndest root /\n", a);
  auto u1 = Of(unsigned_r, "UPD-01");
  ASSERT_EQ(u1.size(), 1u);
  EXPECT_EQ(u1[0]->severity, Severity::kHigh);
  EXPECT_EQ(u1[0]->path, "/etc/opkg/distfeeds.conf");
  EXPECT_EQ(u1[0]->line, 1);
  EXPECT_EQ(Of(unsigned_r, "UPD-04").size(), 1u);
  ScanResult signed_r = ScanText(
      std::string(kBase) + feeds + "=== file etc/opkg.conf\noption check_signature 1\n", b);
  auto u2 = Of(signed_r, "UPD-01");
  ASSERT_EQ(u2.size(), 1u);
  EXPECT_EQ(u2[0]->severity, Severity::kMedium);
  EXPECT_TRUE(Of(signed_r, "UPD-04").empty());
}

TEST(ConfigChecks, SnmpReadWriteIsHighReadOnlyPublicMedium) {
  t::TempDir dir;
  ScanResult r = ScanText(ChecksText("SVC-04.fires"), dir);
  auto hits = Of(r, "SVC-04");
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0]->severity, Severity::kHigh);  // sorted: rw private first
  EXPECT_NE(hits[0]->message.find("'private'"), std::string::npos) << hits[0]->message;
  EXPECT_EQ(hits[1]->severity, Severity::kMedium);
  EXPECT_EQ(hits[1]->evidence, "rocommunity public default");
}

TEST(ConfigChecks, ConfigOfADaemonThatIsNotStartedHasLowConfidence) {
  t::TempDir dir;
  ScanResult r = ScanText(std::string(kBase) + R"(=== file usr/sbin/vsftpd elf
vsftpd
=== file etc/vsftpd.conf
anonymous_enable=YES
)",
                          dir);
  auto hits = Of(r, "SVC-03");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->confidence, Confidence::kLow);
  EXPECT_EQ(hits[0]->severity, Severity::kMedium);  // read-only anonymous
}

TEST(ConfigChecks, AConfigWithoutItsDaemonIsNotReported) {
  t::TempDir dir;
  ScanResult r =
      ScanText(std::string(kBase) + "=== file etc/vsftpd.conf\nanonymous_enable=YES\n", dir);
  EXPECT_TRUE(Of(r, "SVC-03").empty());
}

TEST(ConfigChecks, OpenWrtWirelessWpsAndWepOnAnEnabledRadio) {
  t::TempDir dir;
  ScanResult r = ScanText(std::string(kBase) + R"(=== file etc/config/wireless
config wifi-device 'radio0'
	option type 'mac80211'
config wifi-iface
	option device 'radio0'
	option mode 'ap'
	option ssid 'Shop'
	option encryption 'wep-open'
	option key '1'
	option wps_pushbutton '1'
)",
                          dir);
  auto hits = Of(r, "SVC-12");
  ASSERT_EQ(hits.size(), 2u);
  for (const Finding* f : hits) EXPECT_EQ(f->path, "/etc/config/wireless");
}

TEST(ConfigChecks, IncludesAreReadWhereTheyStand) {
  // mosquitto reads include_dir files at the directive: a later line in the main file wins.
  t::TempDir dir;
  ScanResult r = ScanText(std::string(kBase) + R"(=== file usr/sbin/mosquitto elf
mosquitto
=== file etc/mosquitto/mosquitto.conf
include_dir /etc/mosquitto/conf.d
listener 8883
certfile /etc/mosquitto/server.crt
allow_anonymous true
=== file etc/mosquitto/conf.d/00-auth.conf
allow_anonymous false
password_file /etc/mosquitto/passwd
=== file usr/sbin/smbd elf
smbd
=== file etc/samba/smb.conf
[global]
  include = /etc/samba/legacy.conf
  server min protocol = SMB2
=== file etc/samba/legacy.conf
  server min protocol = NT1
[media]
  guest ok = yes
)",
                          dir);
  auto mqtt = Of(r, "SVC-09");
  ASSERT_EQ(mqtt.size(), 1u);
  EXPECT_EQ(mqtt[0]->path, "/etc/mosquitto/mosquitto.conf");
  EXPECT_EQ(mqtt[0]->line, 4);
  // smb.conf: the included file opens [media], so the SMB2 line after the include lands there
  // (Samba reads it that way) and [global] keeps NT1.
  auto smb = Of(r, "SVC-10");
  ASSERT_EQ(smb.size(), 2u);
  for (const Finding* f : smb) EXPECT_EQ(f->path, "/etc/samba/legacy.conf") << f->message;
}

TEST(ConfigChecks, VsftpdDefaultsAndOpkgBooleanOptions) {
  // vsftpd: anonymous_enable unset is YES (compiled-in default) when the ftp account exists.
  // opkg: a boolean option is switched on by its presence, whatever value follows.
  t::TempDir dir;
  ScanResult r = ScanText(R"(=== file etc/passwd
root:x:0:0:root:/root:/bin/sh
ftp:x:55:55:ftp:/srv/ftp:/bin/false
=== file etc/shadow
root:*:1:0:99999:7:::
=== file bin/busybox elf
BusyBox v1.36.1
=== link bin/sh -> busybox
=== file usr/sbin/vsftpd elf
vsftpd
=== file etc/vsftpd.conf
listen=YES
local_enable=YES
=== file bin/opkg elf
opkg
=== file etc/opkg.conf
src/gz base https://downloads.example.com/base
option check_signature 0
)",
                          dir);
  auto ftp = Of(r, "SVC-03");
  ASSERT_EQ(ftp.size(), 1u);
  EXPECT_NE(ftp[0]->message.find("default is YES"), std::string::npos) << ftp[0]->message;
  EXPECT_EQ(ftp[0]->path, "/etc/vsftpd.conf");
  EXPECT_EQ(ftp[0]->confidence, Confidence::kLow);  // installed, not started
  EXPECT_TRUE(Of(r, "UPD-04").empty());
}

}  // namespace
}  // namespace firmwarden
