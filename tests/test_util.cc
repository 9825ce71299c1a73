#include "test_util.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace firmwarden::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/fwtest.XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  // Make everything writable first: extracted trees may carry read-only directories.
  for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::remove_all(path_, ec);
}

int Run(const std::string& command, std::string* out) {
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    if (out != nullptr) out->append(buf, n);
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string Sh(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, std::string_view data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

std::string SharedDir() {
  const char* env = std::getenv("FIRMWARDEN_SHARED_DIR");
  if (env != nullptr && *env) return env;
  return FIRMWARDEN_SHARED_DIR;
}

std::string CorpusDir() {
  const char* env = std::getenv("FIRMWARDEN_CORPUS_DIR");
  if (env != nullptr && *env) return env;
  std::string def = std::string(FIRMWARDEN_SOURCE_DIR) + "/build/corpus";
  return Exists(def + "/index.json") ? def : "";
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

std::vector<std::string> ListTree(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec))
    out.push_back(fs::relative(it->path(), root, ec).string());
  std::sort(out.begin(), out.end());
  return out;
}

int PackSpec(const std::string& spec_path, const std::string& tar) {
  return Run("FIRMWARDEN_SHARED_DIR=" + Sh(SharedDir()) + " python3 " +
             Sh(std::string(FIRMWARDEN_SOURCE_DIR) + "/tests/checks/pack.py") + " " +
             Sh(spec_path) + " " + Sh(tar));
}

void ExpectSchemaValid(const std::string& doc, const std::string& schema, const TempDir& d) {
  std::string schemas = SharedDir() + "/data/schemas";
  if (!Exists(schemas + "/" + schema)) GTEST_SKIP() << "no " << schema << " in " << schemas;
  if (Run("python3 -c 'import jsonschema' 2>/dev/null") != 0)
    GTEST_SKIP() << "python3-jsonschema is not installed (scripts/setup installs it)";
  std::string path = d / ("doc-" + schema);
  WriteFile(path, doc);
  std::string out;
  EXPECT_EQ(Run("python3 " + Sh(std::string(FIRMWARDEN_SOURCE_DIR) + "/tests/sbom/validate.py") +
                    " " + Sh(schemas + "/" + schema) + " " + Sh(path) + " 2>&1",
                &out),
            0)
      << schema << ":\n"
      << out.substr(0, 4000);
}

}  // namespace firmwarden::testing
