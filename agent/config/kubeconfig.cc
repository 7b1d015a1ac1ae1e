#include "agent/config/kubeconfig.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <yaml-cpp/yaml.h>

#include <optional>

#include "agent/config/yaml_json.h"
#include "common/base64.h"
#include "common/file.h"
#include "common/json.h"
#include "common/pki/pki.h"
#include "common/strings.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using controlplane::client::ClientConfig;
using json::Field;

struct Reader {
  const std::string& path;
  std::string dir;

  Error Bad(const std::string& field, const std::string& why) const {
    return Error(Errc::kInvalidArgument, "kubeconfig " + path + ": " + field + ": " + why);
  }
  std::string Resolve(const std::string& p) const {
    if (p.empty() || p.starts_with("/")) return p;
    return CleanPath(PathJoin(dir, p));
  }

  // The entry of list `list` (clusters, users, contexts) named `name`.
  Result<Field> Named(const Field& root, const std::string& list, const std::string& name,
                      const std::string& member) const {
    size_t i = 0;
    for (const Field& item : BERTH_TRY_CTX(root[list].Items(), "kubeconfig " + path)) {
      Field entry(item.raw(), list + "[" + std::to_string(i++) + "]");
      std::string n = BERTH_TRY_CTX(entry["name"].OptString(), "kubeconfig " + path).value_or("");
      if (n == name) return Field(entry[member].raw(), list + "[\"" + name + "\"]." + member);
    }
    return Bad(list, std::string(list == "users" ? "user" : list.substr(0, list.size() - 1)) +
                         " \"" + name + "\" not found");
  }

  Result<std::string> Str(const Field& f) const {
    return BERTH_TRY_CTX(f.OptString(), "kubeconfig " + path).value_or("");
  }

  // `<name>` (a file) or `<name>-data` (base64), not both; "" when neither.
  Result<std::string> FileOrData(const Field& parent, const std::string& name,
                                 const std::string& data_name, std::string* file_out) const {
    std::string file = BERTH_TRY(Str(parent[name]));
    std::string data = BERTH_TRY(Str(parent[data_name]));
    if (!file.empty() && !data.empty()) {
      return Bad(parent.path(), data_name + " and " + name + " are both specified");
    }
    if (!data.empty()) {
      std::optional<std::string> decoded = Base64Decode(data);
      if (!decoded) return Bad(parent[data_name].path(), "not base64");
      return *decoded;
    }
    if (file.empty()) return std::string();
    *file_out = Resolve(file);
    return BERTH_TRY_CTX(ReadFile(*file_out), "kubeconfig " + path + ": " + parent[name].path());
  }

  // host and port of an https:// server URL, the host resolved.
  Status Server(const Field& f, const std::string& url, ClientConfig& c) const {
    if (url.empty()) return Bad(f.path(), "no server");
    constexpr std::string_view kHttps = "https://";
    if (!url.starts_with(kHttps)) {
      return Bad(f.path(), "\"" + url + "\": berth's client speaks only https://");
    }
    std::string rest = url.substr(kHttps.size());
    size_t slash = rest.find('/');
    if (slash != std::string::npos) {
      if (rest.substr(slash) != "/") {
        return Bad(f.path(), "\"" + url + "\": a server URL with a path is not supported");
      }
      rest.resize(slash);
    }
    std::string host = rest;
    std::string port = "443";
    if (rest.starts_with("[")) {
      size_t close = rest.find(']');
      if (close == std::string::npos) return Bad(f.path(), "\"" + url + "\": bad IPv6 host");
      host = rest.substr(1, close - 1);
      if (close + 1 < rest.size()) {
        if (rest[close + 1] != ':') return Bad(f.path(), "\"" + url + "\": bad host:port");
        port = rest.substr(close + 2);
      }
    } else if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
    }
    Result<int> p = ParseInt<int>(port, "port");
    if (host.empty() || !p.ok() || *p < 1 || *p > 65535) {
      return Bad(f.path(), "\"" + url + "\": bad host:port");
    }
    c.port = static_cast<uint16_t>(*p);
    c.host = BERTH_TRY(ResolveHost(f, host));
    return Ok();
  }

  Result<std::string> ResolveHost(const Field& f, const std::string& host) const {
    unsigned char buf[sizeof(in6_addr)];
    if (inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1) {
      return host;
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    if (int rc = getaddrinfo(host.c_str(), nullptr, &hints, &list); rc != 0) {
      return Bad(f.path(), "resolve \"" + host + "\": " + gai_strerror(rc));
    }
    std::string v4, v6;
    for (addrinfo* a = list; a != nullptr; a = a->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      if (a->ai_family == AF_INET && v4.empty()) {
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, text,
                  sizeof text);
        v4 = text;
      } else if (a->ai_family == AF_INET6 && v6.empty()) {
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, text,
                  sizeof text);
        v6 = text;
      }
    }
    freeaddrinfo(list);
    if (v4.empty() && v6.empty()) return Bad(f.path(), "\"" + host + "\" has no address");
    return v4.empty() ? v6 : v4;
  }

  Status Cluster(const Field& cluster, Kubeconfig& out) const {
    if (!cluster.present()) return Bad(cluster.path(), "missing");
    if (BERTH_TRY_CTX(cluster["insecure-skip-tls-verify"].Bool(false), "kubeconfig " + path)) {
      return Bad(cluster["insecure-skip-tls-verify"].path(),
                 "not supported: berth always verifies the apiserver's certificate against the "
                 "cluster CA");
    }
    if (!BERTH_TRY(Str(cluster["proxy-url"])).empty()) {
      return Bad(cluster["proxy-url"].path(), "proxies are not supported");
    }
    out.server = BERTH_TRY(Str(cluster["server"]));
    BERTH_TRY(Server(cluster["server"], out.server, out.client));
    out.client.ca_pem = BERTH_TRY(
        FileOrData(cluster, "certificate-authority", "certificate-authority-data", &out.ca_file));
    if (out.client.ca_pem.empty()) {
      return Bad(cluster.path(),
                 "no certificate-authority or certificate-authority-data (berth verifies the "
                 "apiserver against the cluster CA only)");
    }
    if (!pki::Inspect(out.client.ca_pem).ok()) {
      return Bad(cluster.path() + (out.ca_file.empty() ? ".certificate-authority-data"
                                                       : ".certificate-authority"),
                 "no PEM certificate in it");
    }
    return Ok();
  }

  Status User(const Field& user, Kubeconfig& out) const {
    for (const char* unsupported : {"exec", "auth-provider"}) {
      if (user[unsupported].present()) {
        return Bad(user[unsupported].path(), "credential plugins are not supported");
      }
    }
    if (!BERTH_TRY(Str(user["username"])).empty() || !BERTH_TRY(Str(user["password"])).empty()) {
      return Bad(user.path(), "basic authentication (username/password) is not supported");
    }
    std::string cert = BERTH_TRY(FileOrData(user, "client-certificate", "client-certificate-data",
                                            &out.client_certificate_file));
    std::string key =
        BERTH_TRY(FileOrData(user, "client-key", "client-key-data", &out.client_key_file));
    if (cert.empty() != key.empty()) {
      return Bad(user.path(), "client-certificate and client-key go together; only one is set");
    }
    if (!cert.empty()) {
      out.client.certificate.cert_pem = PemBlocks(cert, "CERTIFICATE");
      out.client.certificate.key_pem = PemBlocks(key, "PRIVATE KEY");
      std::string cert_field =
          user.path() + (out.client_certificate_file.empty() ? ".client-certificate-data"
                                                             : ".client-certificate");
      std::string key_field =
          user.path() + (out.client_key_file.empty() ? ".client-key-data" : ".client-key");
      if (out.client.certificate.cert_pem.empty() ||
          !pki::Inspect(out.client.certificate.cert_pem).ok()) {
        return Bad(cert_field, "no PEM certificate in it");
      }
      if (out.client.certificate.key_pem.empty() ||
          !pki::PublicKeyDer(out.client.certificate.key_pem).ok()) {
        return Bad(key_field, "no PEM private key in it");
      }
    }
    std::string token = BERTH_TRY(Str(user["token"]));
    std::string token_file = BERTH_TRY(Str(user["tokenFile"]));
    if (token.empty() && !token_file.empty()) {
      out.token_file = Resolve(token_file);
      token = std::string(Trim(BERTH_TRY_CTX(
          ReadFile(out.token_file), "kubeconfig " + path + ": " + user["tokenFile"].path())));
      if (token.empty()) return Bad(user["tokenFile"].path(), out.token_file + " is empty");
    }
    out.client.bearer_token = token;
    return Ok();
  }
};

void EmitMap(YAML::Emitter& e, const std::vector<std::pair<std::string, std::string>>& kv) {
  e << YAML::BeginMap;
  for (const auto& [k, v] : kv)
    if (!v.empty()) e << YAML::Key << k << YAML::Value << v;
  e << YAML::EndMap;
}

}  // namespace

std::string PemBlocks(const std::string& pem, const std::string& label) {
  std::string out;
  size_t pos = 0;
  constexpr std::string_view kBegin = "-----BEGIN ";
  while ((pos = pem.find(kBegin, pos)) != std::string::npos) {
    size_t label_end = pem.find("-----", pos + kBegin.size());
    if (label_end == std::string::npos) break;
    std::string found = pem.substr(pos + kBegin.size(), label_end - pos - kBegin.size());
    std::string end_marker = "-----END " + found + "-----";
    size_t end = pem.find(end_marker, label_end);
    if (end == std::string::npos) break;
    end += end_marker.size();
    bool match = label == "PRIVATE KEY" ? found.ends_with(label) : found == label;
    if (match) out += pem.substr(pos, end - pos) + "\n";
    pos = end;
  }
  return out;
}

Result<Kubeconfig> ReadKubeconfig(const std::string& path) {
  std::string text = BERTH_TRY_CTX(ReadFile(path), "kubeconfig");
  bj::value doc = BERTH_TRY(YamlToJson(text, "kubeconfig " + path));
  Reader r{path, Dirname(path)};
  if (!doc.is_object()) return r.Bad("(top level)", "not a kubeconfig object");
  Field root(&doc, "");
  std::string context_name = BERTH_TRY(r.Str(root["current-context"]));
  if (context_name.empty()) return r.Bad("current-context", "not set");
  Field context = BERTH_TRY(r.Named(root, "contexts", context_name, "context"));
  std::string cluster_name = BERTH_TRY(r.Str(context["cluster"]));
  if (cluster_name.empty()) return r.Bad(context.path() + ".cluster", "not set");
  std::string user_name = BERTH_TRY(r.Str(context["user"]));
  Kubeconfig out;
  BERTH_TRY(r.Cluster(BERTH_TRY(r.Named(root, "clusters", cluster_name, "cluster")), out));
  // A context without a user connects anonymously.
  if (!user_name.empty())
    BERTH_TRY(r.User(BERTH_TRY(r.Named(root, "users", user_name, "user")), out));
  return out;
}

Result<ClientConfig> LoadKubeconfig(const std::string& path) {
  return BERTH_TRY(ReadKubeconfig(path)).client;
}

Status WriteKubeconfig(const std::string& path, const ClientConfig& c,
                       const std::string& server_url, const KubeconfigFiles& files) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "apiVersion" << YAML::Value << "v1";
  e << YAML::Key << "kind" << YAML::Value << "Config";
  e << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << "default-cluster";
  e << YAML::Key << "cluster" << YAML::Value;
  EmitMap(e, {{"server", server_url},
              {"certificate-authority", files.ca_file},
              {"certificate-authority-data", files.ca_file.empty() ? Base64Encode(c.ca_pem) : ""}});
  e << YAML::EndMap << YAML::EndSeq;
  e << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << "default-context";
  e << YAML::Key << "context" << YAML::Value;
  EmitMap(e, {{"cluster", "default-cluster"}, {"namespace", "default"}, {"user", "default-auth"}});
  e << YAML::EndMap << YAML::EndSeq;
  e << YAML::Key << "current-context" << YAML::Value << "default-context";
  e << YAML::Key << "users" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << "default-auth";
  e << YAML::Key << "user" << YAML::Value;
  const pki::Credential& cred = c.certificate;
  auto embed = [](const std::string& file, const std::string& pem) {
    return file.empty() && !pem.empty() ? Base64Encode(pem) : std::string();
  };
  EmitMap(e, {{"client-certificate", files.client_certificate_file},
              {"client-certificate-data", embed(files.client_certificate_file, cred.cert_pem)},
              {"client-key", files.client_key_file},
              {"client-key-data", embed(files.client_key_file, cred.key_pem)},
              {"token", c.bearer_token}});
  e << YAML::EndMap << YAML::EndSeq;
  e << YAML::EndMap;
  if (!e.good()) {
    return Error(Errc::kInternal, "kubeconfig " + path + ": YAML: " + e.GetLastError());
  }
  BERTH_TRY_CTX(MkdirAll(Dirname(path)), "kubeconfig " + path);
  return WriteFileAtomic(path, std::string(e.c_str()) + "\n", 0600);
}

}  // namespace berth::agent
