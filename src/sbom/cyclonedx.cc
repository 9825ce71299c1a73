// CycloneDX 1.6 JSON. The firmware image is metadata.component (type firmware, with the image's
// SHA-256); every identified component is listed with its identity (purl, cpe), hashes and evidence
// (identity with one method per observation, occurrences with path, line and offset) and, nested,
// the files that are evidence of it (type file, SHA-1 and SHA-256); dependencies hold firmware ->
// every component, the package-level edges and the ELF linkage edges.
#include <fmt/format.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <set>

#include "sbom/sbom.h"

namespace firmwarden::sbom {

using nlohmann::ordered_json;

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "cyclonedx") return Format::kCycloneDx;
  if (name == "spdx") return Format::kSpdx;
  return std::nullopt;
}

std::string Write(const ScanResult& r, Format f) {
  return f == Format::kCycloneDx ? CycloneDx(r) : Spdx(r);
}

std::string Sha256Hex(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
  std::string o;
  for (unsigned i = 0; i < len; ++i) o += fmt::format("{:02x}", md[i]);
  return o;
}

namespace {

std::string FirmwareRef(const ScanResult& r) { return "firmware:" + r.image; }

std::string Dump(const ordered_json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// A UUID (version 5 layout) derived from `seed`: stable for the same image and timestamp.
std::string DerivedUuid(std::string_view seed) {
  std::string h = Sha256Hex(seed);
  h[12] = '5';
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
  return fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4),
                     h.substr(16, 4), h.substr(20, 12));
}

ordered_json ComponentJson(const Component& c) {
  ordered_json j;
  j["type"] = std::string(ComponentTypeName(c.type));
  j["bom-ref"] = c.bom_ref;
  if (!c.supplier.empty()) j["supplier"] = {{"name", c.supplier}};
  j["name"] = c.name;
  if (!c.version.empty()) j["version"] = c.version;  // a product named without one
  if (!c.description.empty()) j["description"] = c.description;
  if (!c.sha256.empty())
    j["hashes"] = ordered_json::array({{{"alg", "SHA-256"}, {"content", c.sha256}}});
  if (!c.licenses.empty()) {
    ordered_json l = ordered_json::array();
    // As declared by the package database, not normalised to SPDX ids: a name, never an id.
    for (const std::string& s : std::set<std::string>(c.licenses.begin(), c.licenses.end()))
      l.push_back({{"license", {{"name", s}}}});
    j["licenses"] = l;
  }
  if (!c.cpe.empty()) j["cpe"] = c.cpe;
  if (!c.purl.empty()) j["purl"] = c.purl;
  ordered_json props = ordered_json::array();
  if (!c.arch.empty()) props.push_back({{"name", "firmwarden:arch"}, {"value", c.arch}});
  if (!c.main_file.empty())
    props.push_back({{"name", "firmwarden:main-file"}, {"value", c.main_file}});
  if (!c.files.empty())
    props.push_back(
        {{"name", "firmwarden:owned-files"}, {"value", std::to_string(c.files.size())}});
  if (!props.empty()) j["properties"] = props;

  ordered_json ev;
  ordered_json identity;
  identity["field"] = !c.purl.empty() ? "purl" : !c.cpe.empty() ? "cpe" : "name";
  identity["confidence"] = c.confidence;
  identity["concludedValue"] = !c.purl.empty() ? c.purl : !c.cpe.empty() ? c.cpe : c.name;
  ordered_json methods = ordered_json::array();
  std::set<std::string> seen_methods;
  for (const ComponentEvidence& e : c.evidence) {
    std::string value = e.source + ": " + e.text;
    if (!seen_methods.insert(e.technique + '\0' + value).second) continue;
    methods.push_back({{"technique", e.technique}, {"confidence", e.confidence}, {"value", value}});
  }
  identity["methods"] = methods;
  ev["identity"] = ordered_json::array({identity});
  ordered_json occ = ordered_json::array();
  std::set<std::string> seen;
  for (const ComponentEvidence& e : c.evidence) {
    if (e.path.empty()) continue;
    std::string key = fmt::format("{}\n{}\n{}", e.path, e.line, e.offset ? *e.offset : ~0ULL);
    if (!seen.insert(key).second) continue;
    ordered_json o;
    o["location"] = e.path;
    if (e.line > 0) o["line"] = e.line;
    if (e.offset) o["offset"] = *e.offset;
    o["additionalContext"] = e.source;
    occ.push_back(o);
  }
  if (!occ.empty()) ev["occurrences"] = occ;
  j["evidence"] = ev;
  // The files that are evidence of the component (the same list as SPDX `files`), hashed, as
  // file components it contains. A file evidencing two components appears under each, with a
  // bom-ref made unique by its parent's.
  if (!c.evidence_files.empty()) {
    ordered_json files = ordered_json::array();
    for (const ComponentFile& f : c.evidence_files) {
      ordered_json h = ordered_json::array();
      if (!f.sha1.empty()) h.push_back({{"alg", "SHA-1"}, {"content", f.sha1}});
      if (!f.sha256.empty()) h.push_back({{"alg", "SHA-256"}, {"content", f.sha256}});
      ordered_json fj;
      fj["type"] = "file";
      fj["bom-ref"] = c.bom_ref + "#file:" + f.path;
      fj["name"] = f.path;
      if (!h.empty()) fj["hashes"] = h;
      files.push_back(fj);
    }
    j["components"] = files;
  }
  return j;
}

}  // namespace

std::string CycloneDx(const ScanResult& r) {
  ordered_json j;
  j["$schema"] = "http://cyclonedx.org/schema/bom-1.6.schema.json";
  j["bomFormat"] = "CycloneDX";
  j["specVersion"] = "1.6";
  j["serialNumber"] = "urn:uuid:" + DerivedUuid(r.image_sha256 + "|" + r.scanned_at + "|cyclonedx");
  j["version"] = 1;

  ordered_json meta;
  meta["timestamp"] = r.scanned_at;
  meta["lifecycles"] = ordered_json::array({{{"phase", "post-build"}}});
  meta["tools"] = {{"components", ordered_json::array({{{"type", "application"},
                                                        {"author", "firmwarden"},
                                                        {"name", kToolName},
                                                        {"version", kToolVersion}}})}};
  ordered_json fw;
  fw["type"] = "firmware";
  fw["bom-ref"] = FirmwareRef(r);
  fw["name"] = r.image;
  // The operating system the image runs, as the description of the image.
  std::string os, kernel;
  for (const Component& c : r.components)
    if (c.type == ComponentType::kOperatingSystem) {
      if (c.name == "linux") {
        if (kernel.empty()) kernel = "Linux " + c.version;
      } else if (os.empty()) {
        os = (c.description.empty() ? c.name + " " + c.version : c.description);
      }
    }
  if (!os.empty() || !kernel.empty())
    fw["description"] = os + (!os.empty() && !kernel.empty() ? ", " : "") + kernel;
  if (!r.image_sha256.empty())
    fw["hashes"] = ordered_json::array({{{"alg", "SHA-256"}, {"content", r.image_sha256}}});
  fw["properties"] = ordered_json::array(
      {{{"name", "firmwarden:image-size"}, {"value", std::to_string(r.image_size)}},
       {{"name", "firmwarden:root-file-system"}, {"value", r.device.root_tree}}});
  meta["component"] = fw;
  j["metadata"] = meta;

  ordered_json comps = ordered_json::array();
  for (const Component& c : r.components) comps.push_back(ComponentJson(c));
  j["components"] = comps;

  ordered_json deps = ordered_json::array();
  ordered_json all = ordered_json::array();
  for (const Component& c : r.components) all.push_back(c.bom_ref);
  deps.push_back({{"ref", FirmwareRef(r)}, {"dependsOn", all}});
  for (const Component& c : r.components)
    if (!c.depends_on.empty()) deps.push_back({{"ref", c.bom_ref}, {"dependsOn", c.depends_on}});
  j["dependencies"] = deps;
  return Dump(j);
}

}  // namespace firmwarden::sbom
