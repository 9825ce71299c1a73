// SPDX 2.3 JSON. The firmware image is the described package (purpose FIRMWARE, the image's
// SHA-256); each component is a package with its purpose, checksum (of its main file, when known),
// external references (cpe23Type, purl) and how it was identified (comment); relationships are
// DOCUMENT DESCRIBES firmware, firmware CONTAINS each component, and package DEPENDS_ON edges.
#include <fmt/format.h>

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
    p["versionInfo"] = c.version;
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
  j["packages"] = packages;
  j["relationships"] = rels;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace firmwarden::sbom
