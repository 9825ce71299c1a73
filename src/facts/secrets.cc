#define PCRE2_CODE_UNIT_WIDTH 8
#include "facts/secrets.h"

#include <pcre2.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "facts/device_model.h"
#include "facts/endpoints.h"
#include "facts/program_bytes.h"
#include "facts/text_util.h"

namespace firmwarden::facts {
namespace {

struct Rule {
  const char* name;
  bool cloud;
  bool text_only;  // password rules read scripts and configs; cloud formats are searched everywhere
  const char* pattern;
  int value_group;  // capture group holding the secret value (masked in the excerpt)
};

// Patterns written for this project from the formats' public descriptions.
constexpr Rule kRules[] = {
    // key = "value" / key: value / key=value in scripts and configs, for password-like keys.
    {"password-assignment", false, true,
     R"re((?i)(?<![A-Za-z0-9_])(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|auth[_-]?key)(?:["'])?\s*[:=]\s*(?:"([^"\s$`(){}<>\\]{4,64})"|'([^'\s$`(){}<>\\]{4,64})'|([A-Za-z0-9!%&*+\-./@^_~]{4,64})(?=[ \t]*(?:$|[;,#]))))re",
     0},
    // scheme://user:password@host
    {"url-credentials", false, true,
     R"re((?i)\b(?:https?|ftp|ftps|mqtts?|rtsp|smb|tftp)://[A-Za-z0-9._%\-]{1,64}:([^@\s/$'"`]{3,64})@[A-Za-z0-9.\-]+)re",
     1},
    // Tools given a password on the command line.
    {"command-line-password", false, true,
     R"re((?:\bsshpass\s+-p\s*|--password[= ]|\bcurl\b[^\n|;]*\s-u\s+[^:\s]+:)(["']?)([^\s"'$]{3,64})\1)re",
     2},
    {"aws-access-key", true, false, R"re(\b(AKIA[0-9A-Z]{16})\b)re", 1},
    {"google-api-key", true, false, R"re(\b(AIza[0-9A-Za-z_\-]{35}))re", 1},
    {"slack-token", true, false, R"re(\b(xox[abprs]-[0-9A-Za-z\-]{10,72}))re", 1},
    {"github-token", true, false, R"re(\b(ghp_[0-9A-Za-z]{36}|github_pat_[0-9A-Za-z_]{40,90}))re",
     1},
    {"azure-shared-access-key", true, false, R"re((SharedAccessKey=)([A-Za-z0-9+/]{30,}={0,2}))re",
     2},
    {"stripe-secret-key", true, false, R"re(\b(sk_live_[0-9A-Za-z]{24,99}))re", 1},
};

// Values that are placeholders, not secrets.
bool Placeholder(std::string_view v) {
  std::string l = Lower(v);
  static const char* kWords[] = {"password",  "passwd", "secret", "token",    "changeme_please",
                                 "none",      "null",   "empty",  "xxxx",     "****",
                                 "example",   "your",   "<",      "%s",       "%d",
                                 "undefined", "true",   "false",  "required", "optional",
                                 "string",    "value"};
  for (const char* w : kWords)
    if (l.find(w) != std::string::npos) return true;
  if (std::all_of(l.begin(), l.end(), [&l](char c) { return c == l[0]; })) return true;
  // A printf conversion ("%.*s", "%08x"): a template filled in at run time.
  for (size_t p = l.find('%'); p != std::string::npos; p = l.find('%', p + 1)) {
    size_t q = p + 1;
    while (q < l.size() &&
           std::string_view("-+ #0123456789.*lhz").find(l[q]) != std::string_view::npos)
      ++q;
    if (q < l.size() && std::string_view("sdiuxcpf").find(l[q]) != std::string_view::npos)
      return true;
  }
  return false;
}

struct Compiled {
  pcre2_code* code = nullptr;
  ~Compiled() {
    if (code) pcre2_code_free(code);
  }
};

const std::vector<std::unique_ptr<Compiled>>& Rules() {
  static std::once_flag once;
  static std::vector<std::unique_ptr<Compiled>> rules;
  std::call_once(once, [] {
    for (const Rule& r : kRules) {
      auto c = std::make_unique<Compiled>();
      int err = 0;
      PCRE2_SIZE off = 0;
      c->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(r.pattern), PCRE2_ZERO_TERMINATED,
                              PCRE2_MULTILINE, &err, &off, nullptr);
      if (c->code) pcre2_jit_compile(c->code, PCRE2_JIT_COMPLETE);
      rules.push_back(std::move(c));
    }
  });
  return rules;
}

bool LooksText(std::string_view d) {
  std::string_view head = d.substr(0, 4096);
  return head.find('\0') == std::string_view::npos;
}

constexpr size_t kMaxPerFile = 64;

}  // namespace

namespace {

// `password_only`: only the (text-only) password rules, for the strings of a program.
void ScanWith(std::string_view data, const std::string& path, bool text, bool password_only,
              std::vector<Secret>& out) {
  const auto& rules = Rules();
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
      pcre2_match_data_create(8, nullptr), pcre2_match_data_free);
  size_t found = 0;
  for (size_t r = 0; r < rules.size(); ++r) {
    const Rule& rule = kRules[r];
    if (rules[r]->code == nullptr || (rule.text_only && !text) || (password_only && rule.cloud))
      continue;
    PCRE2_SIZE start = 0;
    while (start < data.size() && found < kMaxPerFile) {
      int rc = pcre2_match(rules[r]->code, reinterpret_cast<PCRE2_SPTR>(data.data()), data.size(),
                           start, 0, md.get(), nullptr);
      if (rc <= 0) break;
      PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
      size_t b = ov[0], e = ov[1];
      // The value: the named group, or the first group that matched.
      size_t vb = std::string::npos, ve = 0;
      for (int g = rule.value_group == 0 ? 1 : rule.value_group;
           g < rc && (rule.value_group == 0 || g == rule.value_group); ++g) {
        if (ov[2 * g] != PCRE2_UNSET) {
          vb = ov[2 * g];
          ve = ov[2 * g + 1];
          break;
        }
      }
      start = e > b ? e : b + 1;
      if (vb == std::string::npos || ve <= vb) continue;
      std::string_view value = data.substr(vb, ve - vb);
      if (!rule.cloud && Placeholder(value)) continue;
      Secret s;
      s.rule = rule.name;
      s.cloud = rule.cloud;
      s.path = path;
      s.offset = b;
      if (text)
        s.line = 1 + static_cast<int>(
                         std::count(data.begin(), data.begin() + static_cast<long>(b), '\n'));
      std::string excerpt(data.substr(b, std::min<size_t>(e - b, 120)));
      // Mask all but the first 2 characters of the value.
      size_t at = vb - b;
      for (size_t k = at + 2; k < at + (ve - vb) && k < excerpt.size(); ++k) excerpt[k] = '*';
      for (char& c : excerpt)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
      s.excerpt = excerpt;
      out.push_back(std::move(s));
      ++found;
    }
  }
}

bool Printable(unsigned char c) { return (c >= 0x20 && c < 0x7F) || c == '\t'; }

}  // namespace

void ScanBufferForSecrets(std::string_view data, const std::string& path, bool text,
                          std::vector<Secret>& out) {
  ScanWith(data, path, text, false, out);
}

void ScanProgramStrings(std::string_view data, const std::string& path, std::vector<Secret>& out) {
  // Only strings that name a credential are matched, each on its own (a pattern never runs into
  // the next string).
  static constexpr std::string_view kHints[] = {"pass", "pwd", "secret", "token", "key", "://"};
  size_t i = 0;
  size_t found = 0;
  while (i < data.size() && found < kMaxPerFile) {
    if (!Printable(static_cast<unsigned char>(data[i]))) {
      ++i;
      continue;
    }
    size_t b = i;
    while (i < data.size() && Printable(static_cast<unsigned char>(data[i]))) ++i;
    if (i - b < 6 || i - b > 1024) continue;
    std::string_view str = data.substr(b, i - b);
    // Case-insensitive, without a lower-cased copy of every string of every program.
    auto has = [str](std::string_view h) {
      return std::search(str.begin(), str.end(), h.begin(), h.end(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
             }) != str.end();
    };
    bool hint = std::any_of(std::begin(kHints), std::end(kHints), has);
    if (!hint) continue;
    size_t first = out.size();
    ScanWith(str, path, true, true, out);
    for (size_t k = first; k < out.size(); ++k) {
      out[k].offset += b;
      out[k].line = 0;
      out[k].in_program = true;
    }
    found += out.size() - first;
  }
}

namespace {

// Documentation, locales and man pages quote example passwords; the account files are CRED-*.
bool SkippedForSecrets(const std::string& p) {
  return p.starts_with("usr/share/doc/") || p.starts_with("usr/share/man/") ||
         p.starts_with("usr/share/locale/") || p.starts_with("usr/share/i18n/") ||
         p == "etc/shadow" || p == "etc/passwd" || p == "etc/shadow-" || p == "etc/passwd-" ||
         p == "etc/nsswitch.conf";
}

constexpr uint64_t kMaxSecretScanBytes = 8 << 20;

}  // namespace

void BuildSecrets(DeviceModel& m) {
  const LibraryNames libraries(m.elves);
  uint64_t budget = 256ULL << 20;  // bytes searched for secrets; past it, secrets stop
  bool secrets_open = true;
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile || e->size == 0) continue;
    const std::string& p = e->tree_path;
    std::string dev = RootFs::DevicePath(*e);
    bool elf = m.elves.count(dev) != 0;
    bool program = elf && e->size <= kMaxProgramScanBytes;
    bool names = program || (!elf && e->size <= kMaxNamingTextBytes && MayNameLibraries(p));
    bool secrets = secrets_open && e->size <= kMaxSecretScanBytes && !SkippedForSecrets(p);
    if (secrets && budget < e->size) secrets = secrets_open = false;
    if (!secrets && !names) continue;
    auto data = m.fs.ReadEntry(*e, names ? kMaxProgramScanBytes : kMaxSecretScanBytes);
    if (!data) continue;
    if (secrets) {
      std::string_view d = std::string_view(*data).substr(0, kMaxSecretScanBytes);
      budget -= d.size();
      bool text = LooksText(d);
      ScanBufferForSecrets(d, dev, text, m.secrets);
      if (!text && IsElf(d)) ScanProgramStrings(d, dev, m.secrets);
      // The same read serves the endpoint facts (documentation was skipped above).
      ScanBufferForEndpoints(d, dev, !text && IsElf(d), m.endpoints);
    }
    if (names) libraries.Scan(*data, dev, m.library_named_by);
    if (program)
      if (auto at = FindAesSbox(*data)) m.aes_sbox.emplace(dev, *at);
  }
}

}  // namespace firmwarden::facts
