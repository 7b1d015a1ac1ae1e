#include "agent/config/client_cert_store.h"

#include <unistd.h>

#include <ctime>

#include "common/file.h"

namespace berth::agent {

std::string CurrentClientCertPath(const std::string& cert_dir) {
  return PathJoin(cert_dir, "kubelet-client-current.pem");
}

Result<std::string> StoreClientCert(const std::string& cert_dir, const pki::Credential& pair) {
  BERTH_TRY(MkdirAll(cert_dir, 0755));
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d-%H-%M-%S", &tm);
  std::string name = std::string("kubelet-client-") + stamp + ".pem";
  std::string pem = pair.cert_pem;
  if (!pem.ends_with('\n')) pem += '\n';
  pem += pair.key_pem;
  BERTH_TRY(WriteFileAtomic(PathJoin(cert_dir, name), pem, 0600));
  std::string current = CurrentClientCertPath(cert_dir);
  std::string tmp = current + ".updating";
  ::unlink(tmp.c_str());
  if (::symlink(name.c_str(), tmp.c_str()) != 0) return Error::Sys("symlink", tmp);
  if (::rename(tmp.c_str(), current.c_str()) != 0) {
    Error e = Error::Sys("rename", tmp + " to " + current);
    ::unlink(tmp.c_str());
    return e;
  }
  return current;
}

}  // namespace berth::agent
