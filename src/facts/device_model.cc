#include "facts/device_model.h"

#include "facts/text_util.h"

namespace firmwarden::facts {

void BuildIdentity(DeviceModel& m) {
  std::vector<std::string>& out = m.identity_strings;
  auto add = [&](std::string_view v) {
    v = Trim(v);
    if (v.size() < 3 || v.size() > 64) return;
    std::string s(v);
    for (const std::string& have : out)
      if (have == s) return;
    out.push_back(s);
  };
  if (auto h = m.fs.Read("/etc/hostname", 4096)) add(Lines(*h).empty() ? "" : Lines(*h)[0]);
  for (const char* file : {"/etc/openwrt_release", "/etc/os-release", "/etc/device_info"}) {
    auto t = m.fs.Read(file, 65536);
    if (!t) continue;
    for (std::string_view l : Lines(*t)) {
      size_t eq = l.find('=');
      if (eq == std::string_view::npos) continue;
      std::string key(Trim(l.substr(0, eq)));
      std::string_view v = Trim(l.substr(eq + 1));
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'')) v = v.substr(1, v.size() - 2);
      if (key == "ID" || key == "NAME" || key == "DISTRIB_ID" || key == "DEVICE_MANUFACTURER" ||
          key == "DEVICE_PRODUCT" || key == "DISTRIB_TARGET")
        for (std::string_view w : Split(v, ' ')) add(w);
    }
  }
  // UCI hostname.
  if (auto t = m.fs.Read("/etc/config/system", 65536))
    for (std::string_view l : Lines(*t)) {
      auto w = Words(l);
      if (w.size() >= 3 && w[0] == "option" && w[1] == "hostname") {
        std::string_view v = w[2];
        if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"')) v = v.substr(1, v.size() - 2);
        add(v);
      }
    }
}

std::unique_ptr<DeviceModel> BuildModel(const Unpacked& unpacked, const std::string& out_dir,
                                        const std::string& image_path) {
  auto m = std::make_unique<DeviceModel>();
  m->out_dir = out_dir;
  if (auto root = RootFs::PickRoot(unpacked.files)) m->fs = RootFs(unpacked.files, *root, out_dir);
  BuildBootLoader(*m, unpacked, image_path);
  if (m->fs.empty()) return m;
  BuildAccounts(*m);
  BuildBusyBox(*m);
  BuildIdentity(*m);
  BuildBootGraph(*m);
  BuildElf(*m);
  BuildSecrets(*m);  // reads m.elves
  BuildCryptoMaterial(*m);
  BuildConfigs(*m);
  BuildWebHandlers(*m);
  return m;
}

}  // namespace firmwarden::facts
