// kubeconfig files: the forms clientcmd accepts for a CA, a client
// certificate and a token, relative paths, and errors that name the file
// and the field.

#include "agent/config/kubeconfig.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/base64.h"
#include "common/file.h"
#include "common/pki/pki.h"
#include "common/testing/testkit.h"

namespace berth::agent {
namespace {

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = pki::SelfSignedCa("test-ca").value();
    pki::CertSpec spec;
    spec.common_name = "system:node:n1";
    spec.organizations = {"system:nodes"};
    spec.client_auth = true;
    client_ = pki::Issue(ca_, spec).value();
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ / name;
    EXPECT_TRUE(MkdirAll(Dirname(path)).ok());
    EXPECT_TRUE(WriteFile(path, text).ok());
    return path;
  }

  // A kubeconfig with one context; `cluster` and `user` are the bodies.
  static std::string Config(const std::string& cluster, const std::string& user) {
    return "apiVersion: v1\nkind: Config\ncurrent-context: ctx\n"
           "contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n"
           "clusters:\n- name: c\n  cluster:\n" +
           cluster + "users:\n- name: u\n  user:\n" + user;
  }
  std::string EmbeddedCa() const {
    return "    server: https://10.1.2.3:6443\n    certificate-authority-data: " +
           Base64Encode(ca_.cert_pem) + "\n";
  }

  std::string ErrorOf(const std::string& path) {
    auto r = ReadKubeconfig(path);
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.error().str();
  }

  berth::testing::TempDir dir_{"berth-kubeconfig-test"};
  pki::Credential ca_;
  pki::Credential client_;
};

TEST_F(KubeconfigTest, EmbeddedCertificateAndKey) {
  std::string path = Write(
      "kubeconfig",
      Config(EmbeddedCa(), "    client-certificate-data: " + Base64Encode(client_.cert_pem) +
                               "\n    client-key-data: " + Base64Encode(client_.key_pem) + "\n"));
  auto k = ReadKubeconfig(path);
  ASSERT_TRUE(k.ok()) << k.error().str();
  EXPECT_EQ(k->server, "https://10.1.2.3:6443");
  EXPECT_EQ(k->client.host, "10.1.2.3");
  EXPECT_EQ(k->client.port, 6443);
  EXPECT_EQ(k->client.ca_pem, ca_.cert_pem);
  EXPECT_EQ(pki::Inspect(k->client.certificate.cert_pem)->common_name, "system:node:n1");
  EXPECT_FALSE(k->client.certificate.key_pem.empty());
  EXPECT_TRUE(k->client.bearer_token.empty());
  EXPECT_TRUE(k->ca_file.empty());
}

TEST_F(KubeconfigTest, RelativeFilesResolveAgainstTheKubeconfigsDirectory) {
  Write("etc/pki/ca.crt", ca_.cert_pem);
  // kubelet's own layout: certificate and key in one file, named twice.
  Write("etc/pki/client.pem", client_.cert_pem + client_.key_pem);
  std::string path =
      Write("etc/kubeconfig",
            Config("    server: https://[::1]:7443/\n    certificate-authority: pki/ca.crt\n",
                   "    client-certificate: pki/client.pem\n    client-key: pki/client.pem\n"));
  auto k = ReadKubeconfig(path);
  ASSERT_TRUE(k.ok()) << k.error().str();
  EXPECT_EQ(k->client.host, "::1");
  EXPECT_EQ(k->client.port, 7443);
  EXPECT_EQ(k->ca_file, dir_ / "etc/pki/ca.crt");
  EXPECT_EQ(k->client_certificate_file, dir_ / "etc/pki/client.pem");
  EXPECT_EQ(k->client.certificate.cert_pem.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(k->client.certificate.key_pem.find("CERTIFICATE"), std::string::npos);
  EXPECT_NE(k->client.certificate.key_pem.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(KubeconfigTest, TokensInlineAndFromAFile) {
  std::string path = Write("a", Config(EmbeddedCa(), "    token: abcdef.0123456789abcdef\n"));
  EXPECT_EQ(LoadKubeconfig(path)->bearer_token, "abcdef.0123456789abcdef");
  Write("token", "  secret-token\n");
  path = Write("b", Config(EmbeddedCa(), "    tokenFile: token\n"));
  auto k = ReadKubeconfig(path);
  ASSERT_TRUE(k.ok()) << k.error().str();
  EXPECT_EQ(k->client.bearer_token, "secret-token");
  EXPECT_EQ(k->token_file, dir_ / "token");
}

TEST_F(KubeconfigTest, AServerByNameIsResolved) {
  std::string path =
      Write("kubeconfig", Config("    server: https://localhost\n    certificate-authority-data: " +
                                     Base64Encode(ca_.cert_pem) + "\n",
                                 "    token: t\n"));
  auto c = LoadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.error().str();
  EXPECT_TRUE(c->host == "127.0.0.1" || c->host == "::1") << c->host;
  EXPECT_EQ(c->port, 443);
}

TEST_F(KubeconfigTest, ErrorsNameTheFileAndTheField) {
  std::string ca = EmbeddedCa();
  struct Case {
    std::string cluster, user, want;
  };
  std::vector<Case> cases = {
      {ca + "    insecure-skip-tls-verify: true\n", "    token: t\n",
       "clusters[\"c\"].cluster.insecure-skip-tls-verify: not supported"},
      {"    server: https://10.0.0.1\n", "    token: t\n",
       "clusters[\"c\"].cluster: no certificate-authority or certificate-authority-data"},
      {"    server: http://10.0.0.1\n    certificate-authority-data: " +
           Base64Encode(ca_.cert_pem) + "\n",
       "    token: t\n", "clusters[\"c\"].cluster.server: \"http://10.0.0.1\": berth's client"},
      {ca + "    certificate-authority: ca.crt\n", "    token: t\n",
       "certificate-authority-data and certificate-authority are both specified"},
      {ca, "    client-certificate-data: " + Base64Encode(client_.cert_pem) + "\n",
       "users[\"u\"].user: client-certificate and client-key go together"},
      {ca, "    client-key: missing.key\n    client-certificate: missing.crt\n",
       "users[\"u\"].user.client-certificate: open"},
      {ca,
       "    client-certificate-data: bm90IGEgY2VydA==\n    client-key-data: " +
           Base64Encode(client_.key_pem) + "\n",
       "users[\"u\"].user.client-certificate-data: no PEM certificate in it"},
      {ca, "    exec:\n      command: aws\n", "users[\"u\"].user.exec: credential plugins"},
      {ca, "    username: a\n    password: b\n", "basic authentication"},
      {ca, "    client-key-data: '%%%'\n    client-certificate-data: x\n", "not base64"},
  };
  for (const Case& c : cases) {
    std::string path = Write("bad", Config(c.cluster, c.user));
    std::string error = ErrorOf(path);
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find(c.want), std::string::npos) << "want: " << c.want << "\ngot: " << error;
  }
  std::string no_context = Write("nc", "apiVersion: v1\nkind: Config\nclusters: []\n");
  EXPECT_NE(ErrorOf(no_context).find("current-context: not set"), std::string::npos);
  std::string other = Write("other", "current-context: x\ncontexts:\n- name: y\n  context: {}\n");
  EXPECT_NE(ErrorOf(other).find("context \"x\" not found"), std::string::npos) << ErrorOf(other);
  EXPECT_NE(ErrorOf(dir_ / "absent").find(dir_ / "absent"), std::string::npos);
}

TEST_F(KubeconfigTest, WritesWhatItReadsBack) {
  controlplane::client::ClientConfig c;
  c.host = "10.9.8.7";
  c.port = 6443;
  c.ca_pem = ca_.cert_pem;
  c.certificate = client_;
  std::string path = dir_ / "out/kubeconfig";
  ASSERT_TRUE(WriteKubeconfig(path, c, "https://10.9.8.7:6443").ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  auto back = ReadKubeconfig(path);
  ASSERT_TRUE(back.ok()) << back.error().str();
  EXPECT_EQ(back->client.host, "10.9.8.7");
  EXPECT_EQ(back->client.ca_pem, ca_.cert_pem);
  EXPECT_EQ(back->client.certificate.cert_pem, PemBlocks(client_.cert_pem, "CERTIFICATE"));
  EXPECT_NE(ReadFile(path)->find("current-context: default-context"), std::string::npos);

  // Files referenced rather than embedded; a token instead of a certificate.
  Write("files/ca.crt", ca_.cert_pem);
  Write("files/pair.pem", client_.cert_pem + client_.key_pem);
  c.certificate = {};
  c.bearer_token = "tok";
  ASSERT_TRUE(
      WriteKubeconfig(path, c, "https://10.9.8.7:6443", {dir_ / "files/ca.crt", "", ""}).ok());
  back = ReadKubeconfig(path);
  ASSERT_TRUE(back.ok()) << back.error().str();
  EXPECT_EQ(back->ca_file, dir_ / "files/ca.crt");
  EXPECT_EQ(back->client.bearer_token, "tok");
  c.bearer_token.clear();
  ASSERT_TRUE(WriteKubeconfig(path, c, "https://10.9.8.7:6443",
                              {"", dir_ / "files/pair.pem", dir_ / "files/pair.pem"})
                  .ok());
  back = ReadKubeconfig(path);
  ASSERT_TRUE(back.ok()) << back.error().str();
  EXPECT_EQ(back->client_key_file, dir_ / "files/pair.pem");
  EXPECT_EQ(pki::Inspect(back->client.certificate.cert_pem)->common_name, "system:node:n1");
}

}  // namespace
}  // namespace berth::agent
