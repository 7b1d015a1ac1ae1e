#pragma once
// kubeconfig files (clientcmd v1): the current context's cluster (server,
// CA) and user (client certificate and key, or a bearer token), read into
// an API client's configuration; and written back for a credential the
// agent obtained (TLS bootstrap).

#include <string>

#include "common/error.h"
#include "controlplane/client/api_client.h"

namespace berth::agent {

// A kubeconfig's current context, resolved: files read, relative paths
// made absolute against the kubeconfig's directory.
struct Kubeconfig {
  std::string server;                   // "https://10.0.0.1:6443"
  std::string ca_file;                  // "" when the CA is embedded
  std::string client_certificate_file;  // "" when embedded or absent
  std::string client_key_file;
  std::string token_file;
  controlplane::client::ClientConfig client;  // CA, credential and token loaded
};

// Errors name the file and the field (`users["kubelet"].user.client-key`).
// Refused, with a reason: insecure-skip-tls-verify, http:// servers, a
// server URL with a path, proxy-url, exec and auth-provider plugins, basic
// auth, and a cluster without a CA (berth trusts no system store). A
// server given by name is resolved here (IPv4 first), since the client
// connects to addresses.
Result<Kubeconfig> ReadKubeconfig(const std::string& path);
Result<controlplane::client::ClientConfig> LoadKubeconfig(const std::string& path);

// Files to reference instead of embedding their content ("" = embed).
struct KubeconfigFiles {
  std::string ca_file;
  std::string client_certificate_file;
  std::string client_key_file;
};

// Writes a kubeconfig (cluster "default-cluster", user "default-auth",
// context "default-context", as kubelet writes one after bootstrap) for
// `c` at `server_url`: its CA, client certificate and key embedded unless
// `files` names them, and its bearer token if any. Atomic, mode 0600;
// missing parent directories are made.
Status WriteKubeconfig(const std::string& path, const controlplane::client::ClientConfig& c,
                       const std::string& server_url, const KubeconfigFiles& files = {});

// The PEM blocks of `pem` whose label is `label` ("CERTIFICATE") or, for
// "PRIVATE KEY", ends with it (EC, RSA, PKCS#8), concatenated.
std::string PemBlocks(const std::string& pem, const std::string& label);

}  // namespace berth::agent
