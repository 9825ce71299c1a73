#include "facts/endpoints.h"

#include <gtest/gtest.h>

namespace firmwarden::facts {
namespace {

std::vector<Endpoint> Scan(std::string_view text) {
  std::vector<Endpoint> out;
  ScanBufferForEndpoints(text, "/etc/x.conf", false, out);
  return out;
}

TEST(Endpoints, FindsHostsPortsAndSchemes) {
  auto e = Scan(
      "url=http://user:pw@Cloud.Vendor.com:8080/api/v1?x=1, then "
      "mqtts://[2001:db8::1]:8883/t and tftp://10.0.0.5/fw.bin.");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].scheme, "http");
  EXPECT_EQ(e[0].host, "cloud.vendor.com");
  EXPECT_EQ(e[0].port, 8080);
  EXPECT_EQ(e[0].offset, 4u);
  EXPECT_EQ(e[1].scheme, "mqtts");
  EXPECT_EQ(e[1].host, "2001:db8::1");
  EXPECT_EQ(e[1].port, 8883);
  EXPECT_EQ(e[2].host, "10.0.0.5");
  EXPECT_EQ(e[2].url, "tftp://10.0.0.5/fw.bin");
}

TEST(Endpoints, SkipsLoopbackDocumentationNamespacesAndTemplates) {
  EXPECT_TRUE(Scan("http://localhost/ http://127.0.0.1:80/ https://www.example.com/ "
                   "http://www.w3.org/1999/xhtml http://%s/cgi http://$HOST/x "
                   "http://schemas.xmlsoap.org/soap/ xhttp://a.b.c/ http://nodot/")
                  .empty());
}

TEST(Endpoints, HostileBytesStayBounded) {
  std::string junk(100000, ':');
  for (size_t i = 0; i < junk.size(); i += 7) junk.replace(i, 3, "://");
  auto e = Scan(junk);
  EXPECT_TRUE(e.empty());
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "http://h" + std::to_string(i) + ".vendor.com/ ";
  std::vector<Endpoint> out;
  ScanBufferForEndpoints(many, "/x", false, out, 256);
  EXPECT_EQ(out.size(), 256u);
}

}  // namespace
}  // namespace firmwarden::facts
