// SPDX 2.3 JSON. The firmware image is the described package (purpose FIRMWARE, the image's
// SHA-256); each component is a package with its purpose, checksum (of its main file, when known),
// external references (cpe23Type, purl) and how it was identified (comment); relationships are
// DOCUMENT DESCRIBES firmware, firmware CONTAINS each component, and package DEPENDS_ON edges.
// The files that are evidence of a component (Component::evidence_files, hashed once by the
// identify module) are listed once each under "files", with SHA-1 (which SPDX 2.3 requires for a
// file) and SHA-256, and each component CONTAINS its files. A file's SPDXID is derived from its
// path alone, so it is the same in every document of the same image. Packages keep
// filesAnalyzed false: only the evidence files are listed, not every file a package owns, so no
// package verification code can be given.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "sbom/sbom.h"

namespace firmwarden::sbom {

using nlohmann::ordered_json;

namespace {

std::string_view Purpose(ComponentType t) {
  switch (t) {
    case ComponentType::kApplication:
      return "APPLICATION";
    case ComponentType::kLibrary:
      return "LIBRARY";
    case ComponentType::kFramework:
      return "FRAMEWORK";
    case ComponentType::kOperatingSystem:
      return "OPERATING_SYSTEM";
    case ComponentType::kFirmware:
      return "FIRMWARE";
    case ComponentType::kDevice:
      return "DEVICE";
    case ComponentType::kFile:
      return "FILE";
    case ComponentType::kDeviceDriver:
      return "OTHER";
  }
  return "OTHER";
}

// SPDX ids allow letters, digits, '.' and '-'.
std::string IdPart(std::string_view s) {
  std::string o;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    o += std::isalnum(c) || c == '.' || c == '-' ? static_cast<char>(c) : '-';
  }
  return o;
}

// "/bin/busybox" -> "bin/busybox".
std::string_view Relative(std::string_view path) {
  while (path.starts_with('/')) path.remove_prefix(1);
  return path;
}

}  // namespace

std::string Spdx(const ScanResult& r) {
  ordered_json j;
  j["spdxVersion"] = "SPDX-2.3";
  j["dataLicense"] = "CC0-1.0";
  j["SPDXID"] = "SPDXRef-DOCUMENT";
  j["name"] = "firmwarden SBOM of " + r.image;
  j["documentNamespace"] =
      fmt::format("https://spdx.firmwarden.invalid/{}-{}", IdPart(r.image),
                  Sha256Hex(r.image_sha256 + "|" + r.scanned_at + "|spdx").substr(0, 32));
  j["creationInfo"] = {
      {"created", r.scanned_at},
      {"creators", ordered_json::array({fmt::format("Tool: {}-{}", kToolName, kToolVersion)})}};
  ordered_json packages = ordered_json::array();
  ordered_json rels = ordered_json::array();
  const std::string fw_id = "SPDXRef-Firmware";
  ordered_json fw;
  fw["name"] = r.image;
  fw["SPDXID"] = fw_id;
  fw["downloadLocation"] = "NOASSERTION";
  fw["filesAnalyzed"] = false;
  if (!r.image_sha256.empty())
    fw["checksums"] =
        ordered_json::array({{{"algorithm", "SHA256"}, {"checksumValue", r.image_sha256}}});
  fw["licenseConcluded"] = "NOASSERTION";
  fw["licenseDeclared"] = "NOASSERTION";
  fw["copyrightText"] = "NOASSERTION";
  fw["primaryPackagePurpose"] = "FIRMWARE";
  packages.push_back(fw);
  rels.push_back({{"spdxElementId", "SPDXRef-DOCUMENT"},
                  {"relationshipType", "DESCRIBES"},
                  {"relatedSpdxElement", fw_id}});

  std::map<std::string, std::string> ids;  // bom_ref -> SPDXID
  std::set<std::string> used;
  for (const Component& c : r.components) {
    std::string base = "SPDXRef-Package-" + IdPart(c.name) + "-" + IdPart(c.version);
    std::string id = base;
    for (int n = 2; !used.insert(id).second; ++n) id = base + "-" + std::to_string(n);
    ids[c.bom_ref] = id;
  }
  for (const Component& c : r.components) {
    ordered_json p;
    p["name"] = c.name;
    p["SPDXID"] = ids[c.bom_ref];
    if (!c.version.empty()) p["versionInfo"] = c.version;  // a product named without one
    p["supplier"] = c.supplier.empty() ? std::string("NOASSERTION") : "Organization: " + c.supplier;
    p["downloadLocation"] = "NOASSERTION";
    p["filesAnalyzed"] = false;
    if (!c.sha256.empty())
      p["checksums"] =
          ordered_json::array({{{"algorithm", "SHA256"}, {"checksumValue", c.sha256}}});
    p["licenseConcluded"] = "NOASSERTION";
    // Package databases declare licences in their own spelling ("GPLv2"); not an SPDX expression.
    p["licenseDeclared"] = "NOASSERTION";
    if (!c.licenses.empty()) {
      std::string l;
      for (const std::string& s : std::set<std::string>(c.licenses.begin(), c.licenses.end()))
        l += (l.empty() ? "" : "; ") + s;
      p["licenseComments"] = "Declared by the package database: " + l;
    }
    p["copyrightText"] = "NOASSERTION";
    if (!c.description.empty()) p["summary"] = c.description;
    std::string how;
    for (const ComponentEvidence& e : c.evidence) {
      std::string one = e.source + " " + e.path;
      if (e.line > 0) one += fmt::format(":{}", e.line);
      if (e.offset) one += fmt::format("@0x{:x}", *e.offset);
      how += (how.empty() ? "" : "; ") + one;
    }
    std::string comment =
        fmt::format("Identified by firmwarden (confidence {}) from: {}", c.confidence, how);
    if (!c.main_file.empty()) comment += ". Checksum of the main file " + c.main_file;
    p["comment"] = comment;
    ordered_json refs = ordered_json::array();
    if (!c.cpe.empty())
      refs.push_back({{"referenceCategory", "SECURITY"},
                      {"referenceType", "cpe23Type"},
                      {"referenceLocator", c.cpe}});
    if (!c.purl.empty())
      refs.push_back({{"referenceCategory", "PACKAGE-MANAGER"},
                      {"referenceType", "purl"},
                      {"referenceLocator", c.purl}});
    if (!refs.empty()) p["externalRefs"] = refs;
    p["primaryPackagePurpose"] = std::string(Purpose(c.type));
    packages.push_back(p);
    rels.push_back({{"spdxElementId", fw_id},
                    {"relationshipType", "CONTAINS"},
                    {"relatedSpdxElement", ids[c.bom_ref]}});
  }
  for (const Component& c : r.components)
    for (const std::string& d : c.depends_on)
      if (auto it = ids.find(d); it != ids.end())
        rels.push_back({{"spdxElementId", ids[c.bom_ref]},
                        {"relationshipType", "DEPENDS_ON"},
                        {"relatedSpdxElement", it->second}});
  // Files: one entry per distinct path, in path order; CONTAINS edges in component order.
  std::map<std::string, const ComponentFile*> by_path;
  for (const Component& c : r.components)
    for (const ComponentFile& f : c.evidence_files) by_path.emplace(f.path, &f);
  std::map<std::string, std::string> file_ids;  // path -> SPDXID
  std::set<std::string> used_files;
  ordered_json files = ordered_json::array();
  for (const auto& [path, f] : by_path) {
    // The hash keeps two paths apart that IdPart() spells the same ("a_b", "a-b").
    std::string base =
        "SPDXRef-File-" + IdPart(Relative(path)) + "-" + Sha256Hex(path).substr(0, 8);
    std::string id = base;
    for (int n = 2; !used_files.insert(id).second; ++n) id = base + "-" + std::to_string(n);
    file_ids[path] = id;
    ordered_json fj;
    fj["fileName"] = "./" + std::string(Relative(path));
    fj["SPDXID"] = id;
    fj["checksums"] =
        ordered_json::array({{{"algorithm", "SHA1"}, {"checksumValue", f->sha1}},
                             {{"algorithm", "SHA256"}, {"checksumValue", f->sha256}}});
    fj["licenseConcluded"] = "NOASSERTION";
    fj["copyrightText"] = "NOASSERTION";
    fj["comment"] = fmt::format("{} bytes; evidence of an identified component", f->size);
    files.push_back(fj);
  }
  for (const Component& c : r.components)
    for (const ComponentFile& f : c.evidence_files)
      rels.push_back({{"spdxElementId", ids[c.bom_ref]},
                      {"relationshipType", "CONTAINS"},
                      {"relatedSpdxElement", file_ids[f.path]}});
  j["packages"] = packages;
  if (!files.empty()) j["files"] = files;
  j["relationships"] = rels;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace firmwarden::sbom
