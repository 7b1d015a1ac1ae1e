#include "runtime/image/registry/tests/test_certs.h"

#include "common/file.h"
#include "common/pki/pki.h"
#include "common/strings.h"

namespace berth::image::registry::testing {

Result<TestPki> MakeTestPki(const std::string& dir, const std::string& san) {
  pki::CertSpec spec;
  spec.common_name = "berth test server";
  spec.server_auth = true;
  for (const std::string& entry : Split(san, ',')) {
    if (entry.starts_with("IP:")) {
      spec.ip_addresses.push_back(entry.substr(3));
    } else if (entry.starts_with("DNS:")) {
      spec.dns_names.push_back(entry.substr(4));
    } else {
      return Error(Errc::kInvalidArgument,
                   "test PKI: SAN entry `" + entry + "` (IP:... or DNS:...)");
    }
  }
  pki::Credential ca = BERTH_TRY(pki::SelfSignedCa("berth test CA"));
  pki::Credential server = BERTH_TRY(pki::Issue(ca, spec));
  TestPki out{dir + "/ca.pem", dir + "/server.pem", dir + "/server-key.pem"};
  BERTH_TRY(WriteFile(out.ca_cert, ca.cert_pem, 0644));
  BERTH_TRY(WriteFile(out.server_cert, server.cert_pem + ca.cert_pem, 0644));  // leaf, then CA
  BERTH_TRY(WriteFile(out.server_key, server.key_pem, 0600));
  return out;
}

}  // namespace berth::image::registry::testing
