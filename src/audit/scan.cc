#include "firmwarden/scan.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "audit/check.h"
#include "audit/policy.h"
#include "core/env.h"
#include "facts/device_model.h"
#include "identify/identify.h"

namespace firmwarden {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "?";
}

std::optional<Severity> ParseSeverity(std::string_view n) {
  for (Severity s :
       {Severity::kInfo, Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical})
    if (SeverityName(s) == n) return s;
  return std::nullopt;
}

std::string_view ConfidenceName(Confidence c) {
  switch (c) {
    case Confidence::kLow:
      return "low";
    case Confidence::kMedium:
      return "medium";
    case Confidence::kHigh:
      return "high";
  }
  return "?";
}

namespace {

// Streams the image through SHA-256 (the SBOM's top component carries it).
std::string ImageSha256(const std::string& path, uint64_t* size) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) return "";
  std::vector<char> buf(1 << 20);
  *size = 0;
  while (f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = static_cast<size_t>(f.gcount());
    if (n == 0) break;
    *size += n;
    if (EVP_DigestUpdate(md.get(), buf.data(), n) != 1) return "";
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(md.get(), out, &len) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

}  // namespace

Result<ScanResult> Scan(const std::string& image_path, const ScanOptions& options) {
  Env real = Env::Real();
  const Env& env = options.env != nullptr ? *options.env : real;
  ScanResult r;
  r.image = image_path.substr(image_path.find_last_of('/') + 1);
  r.scanned_at = FormatUtc(env.now());

  audit::AuditContext ctx;
  ctx.threads = options.threads;
  ctx.seconds_per_slow_hash = options.seconds_per_slow_hash;
  ctx.now = std::chrono::duration_cast<std::chrono::seconds>(env.now().time_since_epoch()).count();
  for (const std::string& d : options.known_key_dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(d, ec))
      return Fail(ErrorCode::kIo, fmt::format("known-keys directory {} does not exist", d));
    ctx.known_key_dirs.push_back(d);
  }
  for (const std::string& d : options.credential_dirs) {
    auto c = audit::LoadCredentials(d);
    if (!c) return std::unexpected(c.error());
    ctx.credentials.insert(ctx.credentials.end(), c->begin(), c->end());
  }

  std::optional<audit::Policy> policy;
  if (options.policy_file) {
    auto p = audit::LoadPolicy(*options.policy_file);
    if (!p) return std::unexpected(p.error());
    policy = std::move(*p);
  }

  std::string work;
  bool temporary = !options.work_dir.has_value();
  if (temporary) {
    std::string tmpl = (env.temp_root.empty() ? "/tmp" : env.temp_root) + "/firmwarden-scan-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr)
      return Fail(ErrorCode::kIo, fmt::format("cannot create a work directory under {}",
                                              env.temp_root.empty() ? "/tmp" : env.temp_root));
    work = tmpl + "/x";
  } else {
    work = *options.work_dir;
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      if (!dir.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
      }
    }
  } cleanup{temporary ? work.substr(0, work.size() - 2) : ""};

  using Clock = std::chrono::steady_clock;
  auto secs = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  auto t0 = Clock::now();
  UnpackOptions uo;
  uo.limits = options.limits;
  uo.output_dir = work;
  uo.env = options.env;
  auto unpacked = Unpack(image_path, uo);
  if (!unpacked) return std::unexpected(unpacked.error());
  r.unpacked = std::move(*unpacked);
  auto t1 = Clock::now();
  auto model = facts::BuildModel(r.unpacked, work, image_path);
  auto t2 = Clock::now();
  r.image_sha256 = ImageSha256(image_path, &r.image_size);
  r.components = identify::Identify(*model, r.unpacked);
  auto t2i = Clock::now();
  double cred_seconds = 0;
  std::vector<Finding> findings;
  ctx.components = &r.components;
  if (options.run_checks) findings = audit::RunChecks(*model, ctx, &cred_seconds);
  if (policy)
    audit::ApplyPolicy(
        *policy,
        std::chrono::duration_cast<std::chrono::seconds>(env.now().time_since_epoch()).count(),
        findings, r.notes);
  auto t3 = Clock::now();
  r.findings = std::move(findings);
  r.times = {secs(t0, t1), secs(t1, t2), secs(t2, t2i), secs(t2i, t3), cred_seconds};

  DeviceSummary& d = r.device;
  if (!model->fs.empty()) d.root_tree = r.unpacked.files.trees()[model->fs.tree()].chunk;
  d.files = model->fs.All().size();
  d.accounts = model->accounts.size();
  d.started = model->started.size();
  for (const facts::Started& s : model->started)
    d.started_programs.push_back(
        fmt::format("{} ({}{})", s.program, s.via, s.conditional ? ", conditional" : ""));
  d.boot_notes = model->boot_notes;
  d.busybox_applets = model->busybox_applets.size();
  d.dictionary_words = ctx.credentials.size();
  return r;
}

}  // namespace firmwarden
