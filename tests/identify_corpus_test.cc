// Component identification against exact truth (issue 5): the corpus builder's "components" root
// file systems (tests/corpus/build: many real Debian packages per suite and architecture) are
// identified with the package databases left out (FIRMWARDEN_IDENTIFY_SKIP=dpkg,opkg,apk), so only
// the binaries speak, and (product, upstream version) is compared with the packages the builder
// installed. The comparison is bench/identify_accuracy.py, the same code as the benchmark; which
// package is which product comes from the signatures' own `packages` lists (data/signatures).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"

namespace firmwarden {
namespace {

namespace t = firmwarden::testing;
using nlohmann::json;

// The components images of the corpus index, as bench/identify_accuracy.py cases.
json ComponentCases() {
  json cases = json::array();
  std::string dir = t::CorpusDir();
  if (dir.empty()) return cases;
  std::ifstream f(dir + "/index.json");
  json idx = json::parse(f, nullptr, false);
  if (idx.is_discarded()) return cases;
  for (const json& i : idx["images"]) {
    if (!i.value("components", false)) continue;
    std::ifstream tf(dir + "/" + i["truth"].get<std::string>());
    json truth = json::parse(tf);
    json pkgs = json::array();
    for (const json& p : truth["packages"]) pkgs.push_back({p["name"], p["version"]});
    cases.push_back(
        {{"name", i["rootfs"].get<std::string>() + " (" + i["suite"].get<std::string>() + "/" +
                      i["arch"].get<std::string>() + ")"},
         {"image", dir + "/" + i["image"].get<std::string>()},
         {"packages", pkgs}});
  }
  return cases;
}

TEST(IdentifyCorpus, BinariesAloneNameProductAndVersionOfRealDebianBuilds) {
  json cases = ComponentCases();
  if (cases.empty()) {
    if (std::getenv("FIRMWARDEN_REQUIRE_CORPUS") != nullptr)
      FAIL() << "FIRMWARDEN_REQUIRE_CORPUS is set but the corpus has no components images; run "
                "tests/corpus/build --out build/corpus";
    GTEST_SKIP() << "no components images in the corpus (FIRMWARDEN_CORPUS_DIR)";
  }
  // Several suites and architectures, as the issue asks.
  std::set<std::string> suites, arches;
  for (const json& c : cases) {
    std::string n = c["name"];
    std::string sa = n.substr(n.rfind('(') + 1);
    suites.insert(sa.substr(0, sa.find('/')));
    arches.insert(sa.substr(sa.find('/') + 1));
  }
  EXPECT_GE(suites.size(), 3u);
  EXPECT_GE(arches.size(), 3u);

  t::TempDir tmp;
  std::string in = tmp / "cases.json", out = tmp / "results.json";
  {
    std::ofstream f(in);
    f << cases.dump();
  }
  std::string src = FIRMWARDEN_SOURCE_DIR;
  std::string table;
  ASSERT_EQ(t::Run("python3 " + t::Sh(src + "/bench/identify_accuracy.py") + " " +
                       t::Sh(FIRMWARDEN_BINARY) + " " + t::Sh(src + "/data/signatures") + " " +
                       t::Sh(in) + " --json " + t::Sh(out),
                   &table),
            0)
      << table;
  std::ifstream rf(out);
  json results = json::parse(rf);
  ASSERT_EQ(results.size(), cases.size());
  std::cout << table;
  // Floors, per image and over the three images: recall >= 95% (the target), precision
  // >= 95% per image and >= 97% over the three. The 98% precision holds over the whole
  // measurement of bench/identify_accuracy.sh (98.8%); on these images alone it is 97.7%, and
  // every wrong version there is a package whose binaries name another release than the package
  // (bullseye's iproute2 5.10.0 prints 5.9.0, trixie's Net-SNMP 5.9.4 prints 5.9.4.pre2; the
  // README lists all five).
  int all_found = 0, all_wrong = 0, all_missed = 0;
  for (const json& r : results) {
    std::string name = r["name"];
    int found = r["found"], wrong = r["wrong_count"], missed = r["missed_count"];
    std::string detail;
    for (const json& m : r["missed"]) detail += "\n  missed: " + m.get<std::string>();
    for (const json& w : r["wrong"]) detail += "\n  wrong version: " + w.get<std::string>();
    EXPECT_GE(r["products"].size(), 40u) << name << ": fewer than 40 covered products";
    ASSERT_GT(found + missed, 0) << name;
    double recall = static_cast<double>(found) / (found + missed);
    double precision = found + wrong ? static_cast<double>(found) / (found + wrong) : 1.0;
    EXPECT_GE(recall, 0.95) << name << ": recall " << recall << detail;
    EXPECT_GE(precision, 0.95) << name << ": precision " << precision << detail;
    all_found += found;
    all_wrong += wrong;
    all_missed += missed;
  }
  ASSERT_GT(all_found, 0);
  EXPECT_GE(static_cast<double>(all_found) / (all_found + all_missed), 0.95) << "overall recall";
  EXPECT_GE(static_cast<double>(all_found) / (all_found + all_wrong), 0.97) << "overall precision";
}

}  // namespace
}  // namespace firmwarden
