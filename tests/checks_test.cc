// The check registry against its fixtures: every registered check has a spec under tests/checks/
// where it must fire (<ID>.fires) and one where it must stay quiet (<ID>.quiet). Each spec is
// packed into a root-file-system tarball and scanned end to end, like a vendor image.
#include <crypt.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <map>
#include <set>

#include "audit/check.h"
#include "audit/checks/components.h"
#include "audit/checks/lifecycle.h"
#include "audit/crack.h"
#include "facts/device_model.h"
#include "facts/secrets.h"
#include "firmwarden/scan.h"
#include "test_util.h"

namespace firmwarden {
namespace {

namespace t = firmwarden::testing;

std::string ChecksDir() { return std::string(FIRMWARDEN_SOURCE_DIR) + "/tests/checks"; }

std::string CredentialsDir() { return t::SharedDir() + "/data/credentials"; }

std::string KnownKeysDir() { return t::SharedDir() + "/data/credentials/known-ssh-keys"; }

// Packs `spec` into a tarball and scans it.
ScanResult ScanSpec(const std::string& spec_path, const t::TempDir& dir) {
  std::string tar = dir / "image.tar";
  // `gen` blocks may read the shared data (KEY-02 packs a known key from there).
  EXPECT_EQ(t::PackSpec(spec_path, tar), 0) << spec_path;
  ScanOptions o;
  if (t::Exists(CredentialsDir())) o.credential_dirs.push_back(CredentialsDir());
  if (t::Exists(KnownKeysDir())) o.known_key_dirs.push_back(KnownKeysDir());
  auto r = Scan(tar, o);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? std::move(*r) : ScanResult{};
}

ScanResult ScanSpecText(const std::string& spec, const t::TempDir& dir) {
  t::WriteFile(dir / "spec", spec);
  return ScanSpec(dir / "spec", dir);
}

std::vector<const Finding*> Of(const ScanResult& r, std::string_view id) {
  std::vector<const Finding*> out;
  for (const Finding& f : r.findings)
    if (f.check_id == id) out.push_back(&f);
  return out;
}

// Findings by the path they name (one finding per path in the tests that use it).
std::map<std::string, const Finding*> ByPath(const std::vector<const Finding*>& hits) {
  std::map<std::string, const Finding*> out;
  for (const Finding* f : hits) out[f->path] = f;
  return out;
}

TEST(CheckRegistry, EveryCheckHasAFiringAndAQuietFixture) {
  std::set<std::string> ids;
  for (const audit::Check& c : audit::Checks()) {
    std::string id(c.id);
    EXPECT_TRUE(ids.insert(id).second) << "duplicate check id " << id;
    EXPECT_TRUE(t::Exists(ChecksDir() + "/" + id + ".fires")) << id << " has no .fires fixture";
    EXPECT_TRUE(t::Exists(ChecksDir() + "/" + id + ".quiet")) << id << " has no .quiet fixture";
    EXPECT_FALSE(c.title.empty() || c.rationale.empty() || c.remediation.empty()) << id;
    EXPECT_FALSE(c.provisions.etsi.empty() && c.provisions.cra.empty()) << id;
  }
  // And no fixture for a check that does not exist.
  for (const auto& e : std::filesystem::directory_iterator(ChecksDir())) {
    std::string n = e.path().filename();
    if (!n.ends_with(".fires") && !n.ends_with(".quiet")) continue;
    EXPECT_NE(audit::FindCheck(n.substr(0, n.rfind('.'))), nullptr) << "orphan fixture " << n;
  }
}

class CheckFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(CheckFixture, FiresOnItsPositiveFixture) {
  const std::string id = GetParam();
  if (id == "CRED-02" && !t::Exists(CredentialsDir()))
    GTEST_SKIP() << "needs the credential lists in " << CredentialsDir();
  if (id == "KEY-02" && !t::Exists(KnownKeysDir()))
    GTEST_SKIP() << "needs the known keys in " << KnownKeysDir();
  t::TempDir dir;
  ScanResult r = ScanSpec(ChecksDir() + "/" + id + ".fires", dir);
  auto hits = Of(r, id);
  ASSERT_FALSE(hits.empty()) << id << " did not fire on " << id << ".fires";
  for (const Finding* f : hits) {
    EXPECT_FALSE(f->path.empty()) << id << ": a finding needs an evidence path";
    EXPECT_FALSE(f->message.empty());
  }
}

TEST_P(CheckFixture, StaysQuietOnItsNegativeFixture) {
  const std::string id = GetParam();
  t::TempDir dir;
  ScanResult r = ScanSpec(ChecksDir() + "/" + id + ".quiet", dir);
  for (const Finding* f : Of(r, id))
    ADD_FAILURE() << id << " fired on its quiet fixture: " << f->message;
}

std::vector<std::string> CheckIds() {
  std::vector<std::string> out;
  for (const audit::Check& c : audit::Checks()) out.emplace_back(c.id);
  return out;
}

INSTANTIATE_TEST_SUITE_P(All, CheckFixture, ::testing::ValuesIn(CheckIds()), [](const auto& info) {
  std::string n = info.param;
  for (char& c : n)
    if (c == '-') c = '_';
  return n;
});

TEST(Checks, CrackedPasswordIsReportedWithTheWord) {
  if (!t::Exists(CredentialsDir())) GTEST_SKIP() << "needs " << CredentialsDir();
  t::TempDir dir;
  ScanResult r = ScanSpec(ChecksDir() + "/CRED-02.fires", dir);
  auto hits = Of(r, "CRED-02");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NE(hits[0]->message.find("\"xc3511\""), std::string::npos) << hits[0]->message;
  EXPECT_EQ(hits[0]->path, "/etc/shadow");
  EXPECT_EQ(hits[0]->line, 1);
  // The message names the word's place in the dictionary, not how many words the threads had
  // tried when one of them hit it: a second scan gives the same text.
  EXPECT_NE(hits[0]->message.find("word "), std::string::npos) << hits[0]->message;
  t::TempDir dir2;
  ScanResult again = ScanSpec(ChecksDir() + "/CRED-02.fires", dir2);
  ASSERT_EQ(Of(again, "CRED-02").size(), 1u);
  EXPECT_EQ(Of(again, "CRED-02")[0]->message, hits[0]->message);
}

// The cracker's result does not depend on the threads: the password and its 1-based place among
// the candidates are the same on 1 and 4 threads.
TEST(Crack, PositionIsThePlaceInTheDictionaryWhateverTheThreads) {
  std::vector<std::string> words;
  for (int i = 0; i < 300; ++i) words.push_back("word" + std::to_string(i));
  words[217] = "xc3511";
  // MD5-crypt of "xc3511" with salt "fwtest", as crypt(3) makes it.
  crypt_data data{};
  const char* hash = crypt_rn("xc3511", "$1$fwtest$", &data, sizeof data);
  ASSERT_NE(hash, nullptr);
  for (unsigned threads : {1u, 4u}) {
    audit::CrackResult r = audit::Crack(hash, words, threads, 30.0);
    ASSERT_TRUE(r.cracked) << threads;
    EXPECT_EQ(r.password, "xc3511");
    EXPECT_EQ(r.position, 218u) << threads;
    EXPECT_GE(r.tried, 1u);
  }
  audit::CrackResult miss = audit::Crack(hash, {"a", "b"}, 2, 30.0);
  EXPECT_FALSE(miss.cracked);
  EXPECT_EQ(miss.position, 0u);
}

TEST(Checks, TelnetWithAShellIsCriticalAndNamesTheInittabLine) {
  t::TempDir dir;
  ScanResult r = ScanSpec(ChecksDir() + "/SVC-01.fires", dir);
  auto hits = Of(r, "SVC-01");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kCritical);
  EXPECT_EQ(hits[0]->path, "/etc/inittab");
  EXPECT_EQ(hits[0]->line, 2);
  EXPECT_EQ(hits[0]->evidence, "::respawn:/usr/sbin/telnetd -F -l /bin/sh");
}

constexpr const char* kMinimal = R"(=== file etc/passwd
root:x:0:0:root:/root:/bin/sh
=== file etc/shadow mode=0600
root:*:19675:0:99999:7:::
=== file bin/busybox elf
BusyBox v1.36.1 (2023-01-01) multi-call binary.
=== link bin/sh -> busybox
)";

// Captures are recognised by their magic and version, not their name; a file too short for a
// pcap header is not one.
TEST(Checks, PacketCapturesByMagicPcapAndPcapng) {
  t::TempDir dir;
  ScanResult r = ScanSpecText(std::string(kMinimal) + t::kCaptureSamplesSpec, dir);
  auto hits = Of(r, "FS-07");
  ASSERT_EQ(hits.size(), 2u);
  std::map<std::string, const Finding*> by_path = ByPath(hits);
  ASSERT_EQ(by_path.count("/srv/trace.bin"), 1u);
  ASSERT_EQ(by_path.count("/srv/be.cap"), 1u);
  EXPECT_NE(by_path["/srv/trace.bin"]->message.find("28 bytes, pcapng"), std::string::npos)
      << by_path["/srv/trace.bin"]->message;
  EXPECT_NE(by_path["/srv/be.cap"]->message.find("24 bytes, pcap)"), std::string::npos)
      << by_path["/srv/be.cap"]->message;
  for (const Finding* f : hits) EXPECT_EQ(f->severity, Severity::kMedium);
}

// OpenWrt's dropbear uci: every "config dropbear" section that leaves both password options on.
TEST(Checks, DropbearUciSectionsWithRootPasswordLogin) {
  t::TempDir dir;
  ScanResult r = ScanSpecText(std::string(kMinimal) + R"(=== file etc/config/dropbear
config dropbear
	option PasswordAuth 'on'
	option Port '22'

config dropbear
	option RootPasswordAuth 'off'
	option Port '2222'

config dropbear
	option PasswordAuth '0'

config dropbear
	option RootPasswordAuth 'yes'
)",
                              dir);
  auto hits = Of(r, "SSH-01");
  ASSERT_EQ(hits.size(), 2u);
  std::set<std::string> evidence;
  for (const Finding* f : hits) {
    EXPECT_EQ(f->path, "/etc/config/dropbear");
    evidence.insert(f->evidence);
  }
  EXPECT_EQ(evidence,
            (std::set<std::string>{"config dropbear (line 1)", "config dropbear (line 12)"}));
}

// BusyBox httpd: the file after -c (else /etc/httpd.conf), its first "/path:user:password" line;
// the evidence names the protected path, not the password.
TEST(Checks, BusyBoxHttpdBasicAuthWithoutTls) {
  t::TempDir dir;
  ScanResult r =
      ScanSpecText(std::string(kMinimal) + R"(=== link usr/sbin/httpd -> ../../bin/busybox
=== file etc/inittab
::sysinit:/etc/init.d/rcS
=== file etc/init.d/rcS mode=0755
#!/bin/sh
/usr/sbin/httpd -h /www -c /etc/web.conf
/usr/sbin/httpd -p 8080 -h /www
=== file etc/web.conf
# /commented:out:line
A:*
  /cgi-bin:admin:secret
/adm:root:other
=== file etc/httpd.conf
H:/www
/admin:admin:$1$abcdefgh$0123456789012345678901
)",
                   dir);
  auto hits = Of(r, "CRYP-02");
  ASSERT_EQ(hits.size(), 2u);
  std::map<std::string, const Finding*> by_path = ByPath(hits);
  ASSERT_EQ(by_path.count("/etc/web.conf"), 1u);
  ASSERT_EQ(by_path.count("/etc/httpd.conf"), 1u);
  EXPECT_EQ(by_path["/etc/web.conf"]->line, 3);
  EXPECT_EQ(by_path["/etc/web.conf"]->evidence, "/cgi-bin");
  EXPECT_EQ(by_path["/etc/httpd.conf"]->line, 2);
  EXPECT_EQ(by_path["/etc/httpd.conf"]->evidence, "/admin");
  for (const Finding* f : hits)
    EXPECT_NE(f->message.find("HTTP Basic authentication"), std::string::npos) << f->message;
}

// Hardening checks: the started daemon on its own at the check's severity, every other program
// folded into one lower-severity finding that counts them.
TEST(Checks, HardeningNamesStartedProgramsAndFoldsTheRest) {
  t::TempDir dir;
  ScanResult r = ScanSpec(ChecksDir() + "/HARD-04.fires", dir);
  auto hits = Of(r, "HARD-04");
  ASSERT_EQ(hits.size(), 2u);
  const Finding* own = hits[0]->path == "/usr/sbin/svcd" ? hits[0] : hits[1];
  const Finding* folded = own == hits[0] ? hits[1] : hits[0];
  EXPECT_EQ(own->severity, Severity::kMedium);
  EXPECT_NE(own->message.find("started at boot as svcd"), std::string::npos) << own->message;
  EXPECT_EQ(own->evidence, "/etc/inittab:2: ::respawn:/usr/sbin/svcd -f");
  EXPECT_EQ(folded->severity, Severity::kLow);
  EXPECT_EQ(folded->path, "/usr/bin/tool");
  EXPECT_NE(folded->message.find("1 of 1 other ELF executables"), std::string::npos)
      << folded->message;
}

TEST(Checks, SetuidOriginRunpathIsReportedOnItsOwn) {
  t::TempDir dir;
  ScanResult r = ScanSpec(ChecksDir() + "/HARD-06.fires", dir);
  bool setuid = false;
  for (const Finding* f : Of(r, "HARD-06"))
    if (f->path == "/usr/bin/suidtool") {
      setuid = true;
      EXPECT_NE(f->message.find("$ORIGIN"), std::string::npos) << f->message;
    }
  EXPECT_TRUE(setuid);
}

// ---- the boot graph, through small images ----

constexpr const char* kBase = R"(=== file etc/passwd
root:x:0:0:root:/root:/bin/sh
=== file etc/shadow
root:*:1:0:99999:7:::
=== file bin/busybox elf
BusyBox v1.36.1
=== link bin/sh -> busybox
=== file usr/sbin/telnetd elf
telnetd
=== file etc/inittab
::sysinit:/etc/init.d/rcS S boot
=== file etc/init.d/rcS mode=0755
)";

const Finding* Telnet(const ScanResult& r) {
  auto hits = Of(r, "SVC-01");
  return hits.empty() ? nullptr : hits[0];
}

// OpenWrt's rcS runs its scripts in the background or not, depending on a uci option: either
// way they run.
TEST(BootGraph, BothBranchesOfAnUndecidableIfMeanItStartsForSure) {
  t::TempDir dir;
  ScanResult r = ScanSpecText(std::string(kBase) + R"(#!/bin/sh
run() {
  /usr/sbin/telnetd -l /bin/login
}
if [ -e /tmp/flag ]; then
  run &
else
  run
fi
)",
                              dir);
  const Finding* f = Telnet(r);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->confidence, Confidence::kHigh) << f->message;
  EXPECT_NE(f->message.find("is started"), std::string::npos) << f->message;
}

TEST(BootGraph, OneUndecidableBranchIsConditional) {
  t::TempDir dir;
  ScanResult r = ScanSpecText(std::string(kBase) + R"(#!/bin/sh
if [ -e /tmp/flag ]; then
  /usr/sbin/telnetd -l /bin/login
fi
)",
                              dir);
  const Finding* f = Telnet(r);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("may be started"), std::string::npos) << f->message;
}

TEST(BootGraph, FunctionsVariablesAndCaseOnTheArgument) {
  t::TempDir dir;
  ScanResult r = ScanSpecText(std::string(kBase) + R"(#!/bin/sh
DAEMON=/usr/sbin/telnetd
ARGS="-l /bin/sh"
start() {
  $DAEMON $ARGS &
}
case "$2" in
  boot|start) start ;;
  stop) killall telnetd ;;
esac
)",
                              dir);
  const Finding* f = Telnet(r);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kCritical) << f->message;  // -l /bin/sh after expansion
  EXPECT_EQ(f->path, "/etc/init.d/rcS");
  EXPECT_EQ(f->line, 5);
}

TEST(BootGraph, AnUnconditionalReturnStopsTheFunction) {
  t::TempDir dir;
  ScanResult r = ScanSpecText(std::string(kBase) + R"(#!/bin/sh
start() {
  return 0
  /usr/sbin/telnetd
}
start
)",
                              dir);
  EXPECT_EQ(Telnet(r), nullptr);
}

TEST(BootGraph, InetdServicesAreFollowed) {
  t::TempDir dir;
  ScanResult r = ScanSpecText(std::string(kBase) + R"(#!/bin/sh
/usr/sbin/inetd /etc/inetd.conf
=== file usr/sbin/inetd elf
inetd
=== file etc/inetd.conf
# service socktype proto wait user server args
telnet stream tcp nowait root /usr/sbin/telnetd telnetd -i
)",
                              dir);
  const Finding* f = Telnet(r);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "/etc/inetd.conf");
  EXPECT_EQ(f->line, 2);
}

TEST(BootGraph, OpenWrtRcCommonScriptsLinkedIntoRcD) {
  t::TempDir dir;
  ScanResult r = ScanSpecText(std::string(kBase) + R"(#!/bin/sh
for i in /etc/rc.d/$1*; do
  [ -x $i ] && $i $2 2>&1
done
=== file etc/rc.common mode=0755
#!/bin/sh
=== file etc/init.d/telnet mode=0755
#!/bin/sh /etc/rc.common
START=50
start() {
  if ! grep -q root /etc/passwd; then
    service_start /usr/sbin/telnetd -l /bin/login.sh
  fi
}
=== link etc/rc.d/S50telnet -> ../init.d/telnet
)",
                              dir);
  const Finding* f = Telnet(r);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "/etc/init.d/telnet");
  EXPECT_NE(f->message.find("may be started"), std::string::npos) << f->message;
  EXPECT_EQ(f->confidence, Confidence::kMedium);
}

TEST(BootGraph, ScriptsNotLinkedIntoRcDDoNotStart) {
  t::TempDir dir;
  ScanResult r = ScanSpecText(std::string(kBase) + R"(#!/bin/sh
for i in /etc/rc.d/$1*; do
  [ -x $i ] && $i $2 2>&1
done
=== file etc/init.d/telnet mode=0755
#!/bin/sh /etc/rc.common
start() {
  service_start /usr/sbin/telnetd -l /bin/login.sh
}
=== dir etc/rc.d
)",
                              dir);
  EXPECT_EQ(Telnet(r), nullptr);
}

TEST(BootGraph, HostileScriptsEndWithoutCrashOrHang) {
  std::vector<std::string> scripts = {
      "f() { f; }\nf\n",                                             // unbounded recursion
      "a() { b; }\nb() { a; }\na\n",                                 // mutual recursion
      "if if if then then fi fi fi else esac done }}}{{{ ;; ;; ((",  // keyword soup
      "echo \"unterminated\n'also $(( ` \\",                         // quotes that never end
      "cat <<EOF\nnever ends\n",  // here-document without its end
      "for i in $(seq 1 100000); do /usr/sbin/telnetd; done\n",
  };
  std::string nested;
  for (int i = 0; i < 5000; ++i) nested += "if [ -e /tmp/x ]; then\n";
  nested += "/usr/sbin/telnetd\n";
  for (int i = 0; i < 5000; ++i) nested += "fi\n";
  scripts.push_back(nested);
  scripts.push_back(t::RandomBytes(1 << 16, 7));
  for (const std::string& text : scripts) {
    facts::DeviceModel m;
    facts::InterpretShellText(m, text, "/etc/init.d/rcS", {"S", "boot"});
    EXPECT_LE(m.started.size(), 100000u);
  }
  // The deep nesting is still followed: the start is found, conditionally.
  facts::DeviceModel m;
  facts::InterpretShellText(m, nested, "/etc/init.d/rcS", {});
  ASSERT_EQ(m.started.size(), 1u);
  EXPECT_EQ(m.started[0].program, "telnetd");
}

constexpr const char* kSystemdBase = R"(=== file etc/passwd
root:x:0:0:root:/root:/bin/sh
=== file etc/shadow
root:*:1:0:99999:7:::
=== file lib/systemd/systemd elf
systemd
=== link sbin/init -> ../lib/systemd/systemd
=== file usr/sbin/telnetd elf
telnetd
=== link etc/systemd/system/default.target -> /lib/systemd/system/multi-user.target
=== file lib/systemd/system/multi-user.target
[Unit]
Description=Multi-User System
)";

TEST(BootGraph, SystemdUnitsWantedByTheDefaultTarget) {
  t::TempDir dir;
  ScanResult r =
      ScanSpecText(std::string(kSystemdBase) + R"(=== file lib/systemd/system/telnet.socket
[Socket]
ListenStream=23
Accept=yes
[Install]
WantedBy=sockets.target
=== file lib/systemd/system/telnet@.service
[Service]
ExecStart=-/usr/sbin/telnetd -l /bin/sh
StandardInput=socket
=== link etc/systemd/system/multi-user.target.wants/telnet.socket -> /lib/systemd/system/telnet.socket
)",
                   dir);
  const Finding* f = Telnet(r);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "/lib/systemd/system/telnet@.service");
  EXPECT_EQ(f->severity, Severity::kCritical);
}

TEST(BootGraph, SystemdUnitsNotEnabledOrMaskedDoNotStart) {
  t::TempDir dir;
  ScanResult r =
      ScanSpecText(std::string(kSystemdBase) + R"(=== file lib/systemd/system/telnet.service
[Service]
ExecStart=/usr/sbin/telnetd -F
=== file lib/systemd/system/other.service
[Service]
ExecStart=/usr/sbin/telnetd -F -p 2323
=== link etc/systemd/system/other.service -> /dev/null
=== link etc/systemd/system/multi-user.target.wants/other.service -> /lib/systemd/system/other.service
)",
                   dir);
  EXPECT_EQ(Telnet(r), nullptr);
}

// xinetd: enabled services in its includedir start their server on a connection; disabled ones,
// internal ones and files xinetd skips (names with a dot) do not.
TEST(BootGraph, XinetdServicesStartTheirServers) {
  t::TempDir dir;
  ScanResult r = ScanSpecText(std::string(kBase) + R"(#!/bin/sh
/usr/sbin/xinetd -stayalive
=== file usr/sbin/xinetd elf
xinetd
=== file etc/xinetd.conf
defaults
{
	instances = 60
}
includedir /etc/xinetd.d
=== file etc/xinetd.d/telnet
service telnet
{
	disable     = no
	socket_type = stream
	user        = root
	server      = /usr/sbin/telnetd
	server_args = -i
}
=== file etc/xinetd.d/ftp
service ftp
{
	disable = yes
	server  = /usr/sbin/vsftpd
}
=== file etc/xinetd.d/rsh.rpmsave
service shell
{
	server = /usr/sbin/in.rshd
}
)",
                              dir);
  const Finding* f = Telnet(r);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "/etc/xinetd.d/telnet");
  EXPECT_EQ(f->line, 1);
  EXPECT_TRUE(Of(r, "SVC-02").empty()) << Of(r, "SVC-02")[0]->message;
}

// Hotplug: OpenWrt's /etc/hotplug.d scripts and mdev.conf actions run on events, so what they
// start is a conditional start.
TEST(BootGraph, HotplugScriptsAndMdevActionsStartConditionally) {
  t::TempDir dir;
  ScanResult r = ScanSpecText(std::string(kBase) + R"(#!/bin/sh
true
=== file etc/hotplug.d/iface/50-debug mode=0755
#!/bin/sh
[ "$ACTION" = ifup ] && /usr/sbin/telnetd -l /bin/login
=== file etc/mdev.conf
ttyUSB[0-9]* root:root 660 @/usr/sbin/utelnetd -d
)",
                              dir);
  auto hits = Of(r, "SVC-01");
  ASSERT_EQ(hits.size(), 2u);
  std::set<std::string> paths;
  for (const Finding* f : hits) {
    paths.insert(f->path);
    EXPECT_NE(f->message.find("may be started"), std::string::npos) << f->message;
  }
  EXPECT_EQ(paths, (std::set<std::string>{"/etc/hotplug.d/iface/50-debug", "/etc/mdev.conf"}));
}

// xinetd and mdev files are read from the image: random bytes, a self-including configuration
// and unterminated blocks end with a scan, not a crash or a hang.
TEST(BootGraph, HostileXinetdAndMdevFiles) {
  auto b64 = [](const std::string& bytes) {
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
      uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
      for (int s = 18; s >= 0; s -= 6) out += k[(v >> s) & 63];
    }
    return out;  // the tail (< 3 bytes) is dropped: still random bytes
  };
  t::TempDir dir;
  std::string spec =
      std::string(kBase) + "#!/bin/sh\n/usr/sbin/xinetd\n" +
      "=== file usr/sbin/xinetd elf\nxinetd\n"
      "=== file etc/xinetd.conf\nincludedir /etc/xinetd.d\nservice a\n{\n"
      "server = /usr/sbin/telnetd\nserver_args += -i\n" +
      "=== file etc/xinetd.d/loop\nincludedir /etc/xinetd.d\nservice b {\n}\n}\n}\n" +
      "=== b64 etc/xinetd.d/junk\n" + b64(t::RandomBytes(3000, 11)) + "\n" +
      "=== b64 etc/mdev.conf\n" + b64(t::RandomBytes(3000, 12)) + "\n" +
      "=== b64 etc/hotplug.d/net/10-junk mode=0755\n" + b64(t::RandomBytes(3000, 13)) + "\n";
  ScanResult r = ScanSpecText(spec, dir);
  EXPECT_FALSE(r.findings.empty());
}

TEST(BootGraph, CronJobsRunOnlyWhenCrondStarts) {
  t::TempDir dir;
  std::string cron = R"(=== file etc/crontabs/root
# m h dom mon dow command
*/5 * * * * /usr/sbin/telnetd -l /bin/login
)";
  ScanResult with = ScanSpecText(std::string(kBase) + "#!/bin/sh\ncrond -c /etc/crontabs\n" +
                                     "=== link usr/sbin/crond -> ../../bin/busybox\n" + cron,
                                 dir);
  const Finding* f = Telnet(with);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "/etc/crontabs/root");
  EXPECT_EQ(f->line, 2);
  EXPECT_NE(f->message.find("is started"), std::string::npos) << f->message;
  t::TempDir dir2;
  ScanResult without = ScanSpecText(std::string(kBase) + "#!/bin/sh\n" + cron, dir2);
  const Finding* g = Telnet(without);
  ASSERT_NE(g, nullptr);
  EXPECT_NE(g->message.find("may be started"), std::string::npos) << g->message;
}

// KERN-03's support table, judged at fixed dates (the fixtures cannot fix the clock).
TEST(KernelSupport, BranchesEndAtTheEndOfTheirMonth) {
  constexpr int64_t k2026_11_30 = 1795996800;  // 2026-11-30 00:00 UTC
  constexpr int64_t k2027_01_01 = 1798761600;  // 2027-01-01 00:00 UTC
  constexpr int64_t k2022_06_01 = 1654041600;  // 2022-06-01 00:00 UTC
  auto s = audit::KernelSupportOf("4.9.87", k2022_06_01);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->branch, "4.9");
  EXPECT_TRUE(s->long_term);
  EXPECT_FALSE(s->ended);
  EXPECT_EQ(s->end, "2023-01");
  EXPECT_EQ(s->days_left, 245);  // to 2023-02-01
  s = audit::KernelSupportOf("4.9.87", k2026_11_30);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->ended);
  // 5.10 ends in December 2026: still supported on the 30th of November, over in January.
  s = audit::KernelSupportOf("5.10.0-28-arm64", k2026_11_30);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->ended);
  EXPECT_EQ(s->days_left, 32);
  s = audit::KernelSupportOf("5.10.0-28-arm64", k2027_01_01);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->ended);
  // A branch that was never long-term is over whatever the date; 2.6.32 was long-term, 2.6.31 not.
  s = audit::KernelSupportOf("3.3.8", k2022_06_01);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->long_term);
  EXPECT_TRUE(s->ended);
  s = audit::KernelSupportOf("2.6.32.27", k2022_06_01);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->long_term);
  EXPECT_EQ(s->end, "2016-03");
  s = audit::KernelSupportOf("2.6.31", k2022_06_01);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->long_term);
  // Newer than the table, or not a release: no verdict.
  EXPECT_FALSE(audit::KernelSupportOf("6.18.0", k2026_11_30));
  EXPECT_FALSE(audit::KernelSupportOf("r42647", k2026_11_30));
  EXPECT_FALSE(audit::KernelSupportOf("", k2026_11_30));
}

TEST(CompareVersions, UpstreamOrder) {
  EXPECT_LT(audit::CompareVersions("1.19.4-6", "1.36"), 0);
  EXPECT_GT(audit::CompareVersions("1.36.1", "1.36"), 0);
  EXPECT_EQ(audit::CompareVersions("2.66-2", "2.66"), 0);
  EXPECT_LT(audit::CompareVersions("2011.54", "2022.82"), 0);
  EXPECT_GT(audit::CompareVersions("2.83", "2.79rc1"), 0);
  EXPECT_GT(audit::CompareVersions("1.1.1w", "1.1.1"), 0);
  EXPECT_LT(audit::CompareVersions("1.1.1a", "1.1.1w"), 0);
  EXPECT_EQ(audit::CompareVersions("1:2.36-9", "2.36"), 0);
  EXPECT_GT(audit::CompareVersions("2.10", "2.9"), 0);
}

// SVC-08's all-interface binds count only when nothing in the image filters input.
TEST(Svc08, AllInterfaceBindsWithoutAFirewall) {
  const std::string base = R"(=== file etc/passwd
root:x:0:0:root:/root:/bin/sh
=== file bin/busybox elf
BusyBox v1.36.1 (2023-01-01) multi-call binary.
=== link bin/sh -> busybox
=== file etc/inittab
::sysinit:/etc/init.d/rcS
=== file etc/init.d/rcS mode=0755
#!/bin/sh
/usr/sbin/dropbear -s -p 22
=== file usr/sbin/dropbear elf mode=0755
dropbear
)";
  t::TempDir a, b;
  ScanResult open = ScanSpecText(base, a);
  auto hits = Of(open, "SVC-08");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kLow);
  EXPECT_NE(hits[0]->message.find("dropbear listens on every interface"), std::string::npos)
      << hits[0]->message;
  ScanResult filtered =
      ScanSpecText(base + "=== file etc/nftables.conf\ntable inet filter {}\n", b);
  EXPECT_TRUE(Of(filtered, "SVC-08").empty());
}

// CERT-04's third rule: a program that makes TLS connections through a TLS library that is in the
// image, and no CA bundle anywhere; with the library missing the program is not counted.
TEST(Cert04, TlsClientWithoutABundle) {
  const std::string base = R"(=== file etc/passwd
root:x:0:0:root:/root:/bin/sh
=== file bin/busybox elf
BusyBox v1.36.1
=== link bin/sh -> busybox
)";
  const std::string client = R"(=== gen usr/bin/fetch mode=0755
cat > tls.c <<'C'
int SSL_connect(void *s) { return s != 0; }
C
cat > fetch.c <<'C'
int SSL_connect(void *s);
int main(void) { return SSL_connect(0); }
C
gcc -shared -fPIC -Wl,-soname,libssl.so.3 -o libssl.so.3 tls.c
gcc -o fetch fetch.c ./libssl.so.3
cat fetch
)";
  const std::string lib =
      R"(=== cc usr/lib/libssl.so.3 mode=0755 flags="-shared -fPIC -Wl,-soname,libssl.so.3"
int SSL_connect(void *s) { return s != 0; }
)";
  t::TempDir a, b;
  ScanResult with_lib = ScanSpecText(base + client + lib, a);
  auto hits = Of(with_lib, "CERT-04");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->path, "/usr/bin/fetch");
  EXPECT_FALSE(hits[0]->verdict);
  ScanResult without_lib = ScanSpecText(base + client, b);
  EXPECT_TRUE(Of(without_lib, "CERT-04").empty());
}

// ---- SEC-03: credentials in program strings ----

TEST(Sec03, ProgramStringsAreMatchedOneAtATime) {
  // A prompt followed by an unrelated string must not read as "password: expired".
  std::string bin = std::string(
                        "\x7f"
                        "ELF\x01\x01\x01\0\0\0\0\0\0\0\0\0",
                        16) +
                    std::string("%s@%s's password: \0expired account\0", 36) +
                    std::string("\0\0pwd=%.*s\0", 12) +
                    std::string("\0ftp://backup:Qw7zXk9p@10.0.0.2/cfg\0", 37);
  std::vector<facts::Secret> out;
  facts::ScanProgramStrings(bin, "/usr/sbin/x", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rule, "url-credentials");
  EXPECT_TRUE(out[0].in_program);
  EXPECT_EQ(bin.substr(out[0].offset, 6), "ftp://");
  EXPECT_EQ(out[0].excerpt.find("Qw7zXk9p"), std::string::npos) << "the value is masked";
}

TEST(Kern01, ConfigurationEmbeddedInTheKernelImage) {
  // An arm64 kernel Image built with CONFIG_IKCONFIG: the configuration is gzip data between
  // IKCFG_ST and IKCFG_ED inside the image, and KERN-01 reads it when /boot has no config file.
  const std::string spec = R"(=== file etc/passwd
root:x:0:0:root:/root:/bin/sh
=== file bin/busybox elf
BusyBox v1.36.1
=== link bin/sh -> busybox
=== gen boot/Image
python3 -c '
import gzip, os, sys
cfg = b"CONFIG_ARM64=y\nCONFIG_DEVMEM=y\n# CONFIG_STRICT_DEVMEM is not set\nCONFIG_KEXEC=y\n"
body = bytes((i * 7919) % 251 for i in range(20000))
sys.stdout.buffer.write(body + b"IKCFG_ST" + gzip.compress(cfg, mtime=0) + b"IKCFG_ED" + body)'
)";
  t::TempDir d;
  ScanResult r = ScanSpecText(spec, d);
  auto hits = Of(r, "KERN-01");
  ASSERT_FALSE(hits.empty());
  bool devmem = false;
  for (const Finding* f : hits) {
    EXPECT_EQ(f->path, "/boot/Image (IKCONFIG)");
    devmem = devmem || f->message.find("/dev/mem") != std::string::npos;
  }
  EXPECT_TRUE(devmem);
}

TEST(BootLoader, EmbeddedKernelConfigNeedsGzipBetweenTheMarkers) {
  std::string cfg = "CONFIG_A=y\n";
  EXPECT_FALSE(facts::FindEmbeddedKernelConfig("IKCFG_ST" + cfg).has_value()) << "not gzip";
  EXPECT_FALSE(facts::FindEmbeddedKernelConfig("no marker").has_value());
  std::string bad = std::string("IKCFG_ST\x1f\x8b\x08\0", 12) + std::string(40, 'x');
  EXPECT_FALSE(facts::FindEmbeddedKernelConfig(bad).has_value()) << "corrupt deflate data";
}

// ---- BOOT-01: the boot loader facts ----

std::string Env(std::initializer_list<std::string> vars) {
  std::string s;
  for (const std::string& v : vars) s += v + std::string(1, '\0');
  return s + std::string(1, '\0');
}

TEST(BootLoader, DefaultEnvironmentInsideAUBootBinary) {
  std::string bin = std::string("junk\0\0U-Boot 2016.03 (Jun 1 2016)\0", 35) +
                    std::string("Hit any key to stop autoboot: %2d \0", 35) + std::string(3, '\0') +
                    std::string("some text\0", 10) +
                    Env({"bootargs=console=ttyS0", "bootcmd=run x", "bootdelay=2"});
  facts::BootLoaderFacts f;
  facts::ScanForBootLoader(bin, "/boot/u-boot.bin", f);
  ASSERT_EQ(f.binaries.size(), 1u);
  EXPECT_EQ(f.binaries[0].version, "U-Boot 2016.03 (Jun 1 2016)");
  EXPECT_TRUE(f.binaries[0].any_key_stops);
  EXPECT_FALSE(f.binaries[0].keyed);
  ASSERT_TRUE(f.binaries[0].default_env.has_value());
  EXPECT_EQ(f.binaries[0].default_env->vars.size(), 3u) << "'some text' is not a variable";
  EXPECT_EQ(f.binaries[0].default_env->vars.at("bootdelay"), "2");
  EXPECT_EQ(f.Effective(), &*f.binaries[0].default_env);
}

TEST(BootLoader, SavedEnvironmentNeedsItsCrcAndWinsOverTheDefault) {
  std::string vars = Env({"bootcmd=bootm", "bootdelay=0"});
  std::string area = vars + std::string(0x1000 - 4 - vars.size(), '\0');
  uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(area.data()), static_cast<uInt>(area.size())));
  std::string saved(4, '\0');
  for (int i = 0; i < 4; ++i) saved[i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  saved += area;
  facts::BootLoaderFacts f;
  facts::ScanForBootLoader(std::string("U-Boot 2020.01\0", 15) +
                               std::string("Hit any key to stop autoboot\0", 29) +
                               Env({"bootcmd=bootm", "bootdelay=5"}),
                           "blob", f);
  facts::ScanForBootLoader(saved, "/dev/mtd1", f);
  ASSERT_EQ(f.envs.size(), 1u);
  EXPECT_EQ(f.envs[0].kind, facts::UBootEnv::Kind::kSaved);
  ASSERT_NE(f.Effective(), nullptr);
  EXPECT_EQ(f.Effective()->vars.at("bootdelay"), "0");
  // One flipped byte: the CRC no longer holds, and the block is only an unchecked environment.
  saved[10] ^= 1;
  facts::BootLoaderFacts g;
  facts::ScanForBootLoader(saved, "/dev/mtd1", g);
  ASSERT_EQ(g.envs.size(), 1u);
  EXPECT_EQ(g.envs[0].kind, facts::UBootEnv::Kind::kUnchecked);
}

TEST(BootLoader, HostileBuffersEndCleanly) {
  // No terminator, a variable at the very end, NUL runs, one variable only, huge values.
  for (std::string s :
       {std::string("bootcmd=x"), std::string("\0bootcmd=", 9), std::string(64, '\0'),
        std::string("bootcmd=a\0\0", 11), "bootcmd=" + std::string(10000, 'a') + '\0' + "x=y",
        std::string("U-Boot 1"), std::string("Autobooting in %d seconds")}) {
    facts::BootLoaderFacts f;
    facts::ScanForBootLoader(s, "x", f);
    EXPECT_EQ(f.Effective(), nullptr) << s.size();
  }
  std::string rnd(1 << 16, '\0');
  uint32_t x = 12345;
  for (char& c : rnd) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>((x >> 16) % 7 == 0 ? 0 : 'a' + (x >> 20) % 26);
  }
  rnd.replace(1000, 14, std::string("\0bootcmd=x\0y=1", 14));
  facts::BootLoaderFacts f;
  facts::ScanForBootLoader(rnd, "x", f);  // must not crash; may or may not find the pair
}

TEST(Boot01, InitShellAndDisabledAutobootAndHashedKeys) {
  const std::string base = R"(=== file etc/passwd
root:x:0:0:root:/root:/bin/sh
=== file bin/busybox elf
BusyBox v1.36.1
=== link bin/sh -> busybox
)";
  {
    t::TempDir d;
    ScanResult r = ScanSpecText(base +
                                    "=== file boot/uEnv.txt\nbootdelay=0\n"
                                    "bootargs=console=ttyS0 init=/bin/sh rw\n",
                                d);
    auto hits = Of(r, "BOOT-01");
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_NE(hits[0]->message.find("init=/bin/sh"), std::string::npos) << hits[0]->message;
    EXPECT_EQ(hits[0]->path, "/boot/uEnv.txt");
  }
  {
    t::TempDir d;
    ScanResult r = ScanSpecText(base + "=== file boot/uEnv.txt\nbootdelay=-1\nbootcmd=run x\n", d);
    auto hits = Of(r, "BOOT-01");
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_NE(hits[0]->message.find("bootdelay=-1"), std::string::npos) << hits[0]->message;
  }
  {
    // An environment without the boot loader: the delay is evidence, not a verdict.
    t::TempDir d;
    ScanResult r = ScanSpecText(base + "=== file boot/uEnv.txt\nbootdelay=5\nbootcmd=run x\n", d);
    auto hits = Of(r, "BOOT-01");
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_FALSE(hits[0]->verdict);
    EXPECT_EQ(hits[0]->evidence, "bootdelay=5");
  }
  {
    // Keyed autoboot whose stop key is stored as a SHA-256 hash: quiet.
    t::TempDir d;
    ScanResult r = ScanSpecText(base +
                                    "=== gen boot/u-boot.bin\n"
                                    "printf 'U-Boot 2022.04\\000Autoboot in %%d seconds\\000"
                                    "bootstopkeysha256\\000\\000bootcmd=run x\\000"
                                    "bootdelay=3\\000\\000'\n",
                                d);
    EXPECT_TRUE(Of(r, "BOOT-01").empty());
  }
}

}  // namespace
}  // namespace firmwarden
