// Acceptance 9: the kubelet API authenticates and authorizes (anonymous
// 401, a client certificate without rights 403, the cluster admin 200),
// and secrets never land on disk outside tmpfs: after a pod mounts a
// Secret and another takes it in its environment, no file on the disk
// under the test's dir (data dir, run root, logs) holds the value, except
// the apiserver's own datastore (as etcd holds secrets upstream).

#include <dirent.h>
#include <sys/stat.h>

#include <random>

#include "common/file.h"
#include "common/pki/pki.h"
#include "integration/e2e/e2e_fixture.h"

namespace berth::e2e {
namespace {

using controlplane::client::ApiClient;
using controlplane::client::ClientConfig;
using std::chrono::seconds;

class SecurityTest : public E2eTest {
 protected:
  // GET <path> on the kubelet API as `who` (no certificate: anonymous).
  int KubeletStatus(const std::string& path, const pki::Credential& who) {
    Result<std::string> serving = ReadFile(up().data_dir() + "/agent/pki/kubelet.crt");
    EXPECT_TRUE(serving.ok()) << serving.error().str();
    ClientConfig config;
    config.host = "127.0.0.1";
    config.port = up().kubelet_port();
    config.ca_pem = serving.ok() ? *serving : "";
    config.certificate = who;
    ApiClient client(config);
    Result<controlplane::client::ApiResponse> r = client.Do("GET", path);
    EXPECT_TRUE(r.ok()) << "kubelet API " << path << ": " << r.error().str();
    return r.ok() ? r->status : -1;
  }
  Result<pki::Credential> ClusterCa() {
    std::string pki_dir = up().data_dir() + "/server/pki";
    return pki::Credential{BERTH_TRY(ReadFile(pki_dir + "/ca.crt")),
                           BERTH_TRY(ReadFile(pki_dir + "/ca.key"))};
  }
};

TEST_F(SecurityTest, KubeletApiRefusesAnonymousAndUnauthorized) {
  Result<pki::Credential> ca = ClusterCa();
  ASSERT_TRUE(ca.ok()) << ca.error().str();
  pki::CertSpec nobody_spec;
  nobody_spec.common_name = "e2e-nobody";
  nobody_spec.organizations = {"e2e-nobodies"};
  nobody_spec.client_auth = true;
  Result<pki::Credential> nobody = pki::Issue(*ca, nobody_spec);
  ASSERT_TRUE(nobody.ok()) << nobody.error().str();
  std::string pki_dir = up().data_dir() + "/server/pki";
  pki::Credential admin{ReadFile(pki_dir + "/admin.crt").value_or(""),
                        ReadFile(pki_dir + "/admin.key").value_or("")};
  // A certificate from another CA is no identity at all.
  Result<pki::Credential> stranger_ca = pki::SelfSignedCa("e2e-stranger-ca");
  ASSERT_TRUE(stranger_ca.ok());
  pki::CertSpec stranger_spec = nobody_spec;
  stranger_spec.common_name = "kubernetes-admin";
  stranger_spec.organizations = {"system:masters"};
  Result<pki::Credential> stranger = pki::Issue(*stranger_ca, stranger_spec);
  ASSERT_TRUE(stranger.ok());

  EXPECT_EQ(KubeletStatus("/pods", pki::Credential{}), 401);
  EXPECT_EQ(KubeletStatus("/pods", *stranger), 401);
  EXPECT_EQ(KubeletStatus("/pods", *nobody), 403);
  EXPECT_EQ(KubeletStatus("/pods", admin), 200);
  EXPECT_EQ(KubeletStatus("/stats/summary", pki::Credential{}), 401);
  EXPECT_EQ(KubeletStatus("/stats/summary", *nobody), 403);
  EXPECT_EQ(KubeletStatus("/stats/summary", admin), 200);

  // Rights given through RBAC (nodes/proxy) open the API to a user like
  // nobody. (Another user: kubelet caches a denial for 30 s.)
  pki::CertSpec reader_spec = nobody_spec;
  reader_spec.common_name = "e2e-reader";
  Result<pki::Credential> reader = pki::Issue(*ca, reader_spec);
  ASSERT_TRUE(reader.ok()) << reader.error().str();
  ASSERT_TRUE(Apply(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-kubelet-reader}
rules:
- apiGroups: [""]
  resources: [nodes/proxy, nodes/stats]
  verbs: [get, list, create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-kubelet-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-kubelet-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: e2e-reader}
)"));
  EXPECT_EQ(KubeletStatus("/pods", *reader), 200);
  EXPECT_EQ(KubeletStatus("/stats/summary", *reader), 200);
}

// Regular files on the filesystem of `root` itself (not on the mounts
// below it: tmpfs volumes, container root filesystems, namespaces) whose
// content holds any of `needles`.
void FindOnDisk(const std::string& dir, dev_t disk, const std::vector<std::string>& needles,
                std::vector<std::string>& hits) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || st.st_dev != disk) continue;
    if (S_ISDIR(st.st_mode)) {
      FindOnDisk(path, disk, needles, hits);
    } else if (S_ISREG(st.st_mode)) {
      Result<std::string> content = ReadFile(path);
      if (!content.ok()) continue;
      for (const std::string& n : needles) {
        if (content->find(n) != std::string::npos) {
          hits.push_back(path);
          break;
        }
      }
    }
  }
  ::closedir(d);
}

std::string Base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6)
      out += k[(v >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += i + 1 < in.size() ? k[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

TEST_F(SecurityTest, SecretsNeverOnDiskOutsideTmpfs) {
  std::random_device rd;
  // 30 characters: its base64 form has no padding and appears as is in
  // any base64 text that holds it at a 3-byte boundary.
  std::string value = "e2e-secret-";
  for (int i = 0; i < 19; ++i)
    value += "abcdefghijklmnopqrstuvwxyz0123456789"[rd() % 36];
  KubectlCall call;
  call.stdin_data = R"(
apiVersion: v1
kind: Secret
metadata: {name: hush}
stringData: {value: )" +
                    value + R"(}
---
apiVersion: v1
kind: Pod
metadata: {name: mounter}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: s, secret: {secretName: hush}}]
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    command: ["sleep", "3600"]
    volumeMounts: [{name: s, mountPath: /s}]
---
apiVersion: v1
kind: Pod
metadata: {name: envuser}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    command: ["sleep", "3600"]
    env:
    - name: SECRET_VALUE
      valueFrom: {secretKeyRef: {name: hush, key: value}}
)";
  // create, not apply: apply would keep the Secret in an annotation.
  CommandResult created = Kubectl({"create", "-f", "-"}, call);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  for (const char* pod : {"mounter", "envuser"}) {
    WaitPod(pod, "Running", seconds(30),
            [](const bj::value& p) { return StringAt(p, "/status/phase") == "Running"; });
  }
  ASSERT_FALSE(HasFailure());
  // Both really got it.
  EXPECT_EQ(Kubectl({"exec", "mounter", "--", "cat", "/s/value"}).out, value);
  EXPECT_NE(Kubectl({"exec", "envuser", "--", "env"}).out.find("SECRET_VALUE=" + value),
            std::string::npos);

  struct stat root {};
  ASSERT_EQ(::stat(up().dir().c_str(), &root), 0);
  std::vector<std::string> hits;
  FindOnDisk(up().dir(), root.st_dev, {value, Base64(value)}, hits);
  std::string datastore = up().data_dir() + "/server/";
  std::vector<std::string> outside_datastore;
  for (const std::string& h : hits) {
    if (h.starts_with(datastore)) {
      std::printf("note: the apiserver's datastore holds the secret: %s\n", h.c_str());
    } else {
      outside_datastore.push_back(h);
    }
  }
  EXPECT_TRUE(outside_datastore.empty()) << "the secret's value is on disk (not tmpfs) in:\n  "
                                         << ::testing::PrintToString(outside_datastore);
}

}  // namespace
}  // namespace berth::e2e
