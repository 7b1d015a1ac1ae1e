#include "controlplane/server/kubelet_proxy.h"

#include <poll.h>

#include "common/strings.h"
#include "controlplane/server/api/kinds.h"
#include "controlplane/server/http/beast.h"
#include "controlplane/server/registry/rest.h"

namespace berth::controlplane {
namespace {

namespace bj = boost::json;
using namespace http;  // NOLINT(google-build-using-namespace): Beast's aliases

constexpr uint16_t kDefaultKubeletPort = 10250;

// The query minus what names the container (it moves into the path).
std::string QueryWithout(std::string_view drop, const std::string& raw) {
  // `command` repeats (one per argument): keep the raw text in order.
  std::string out;
  for (const std::string& pair : Split(raw, '&')) {
    std::string key = api::PercentDecode(pair.substr(0, pair.find('=')));
    if (key == drop || pair.empty()) continue;
    out += (out.empty() ? "" : "&") + pair;
  }
  return out;
}

std::vector<std::string> ContainerNames(const bj::object& pod) {
  std::vector<std::string> names;
  if (const bj::value* cs = api::Lookup(pod, {"spec", "containers"}); cs && cs->is_array()) {
    for (const bj::value& c : cs->as_array())
      if (c.is_object()) names.push_back(api::LookupString(c.as_object(), {"name"}));
  }
  return names;
}

api::ApiStatus Unavailable(const std::string& why) {
  return api::ApiStatus{503, "ServiceUnavailable", why, "", "", "", {}};
}

// Copies bytes both ways between the client and the kubelet until either
// closes.
void Pump(RawStream& client, ssl::stream<tcp::socket>& kubelet) {
  char buf[32768];
  int kubelet_fd = kubelet.next_layer().native_handle();
  for (;;) {
    bool client_ready = client.Pending();
    SSL* ssl = kubelet.native_handle();
    bool kubelet_ready = SSL_has_pending(ssl) == 1 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0;
    if (!client_ready && !kubelet_ready) {
      pollfd fds[2] = {{client.fd(), POLLIN, 0}, {kubelet_fd, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      client_ready = fds[0].revents != 0;
      kubelet_ready = fds[1].revents != 0;
    }
    if (client_ready) {
      Result<size_t> n = client.ReadSome(buf, sizeof buf);
      if (!n.ok() || *n == 0) return;
      beast::error_code ec;
      net::write(kubelet, net::buffer(buf, *n), ec);
      if (ec) return;
    }
    if (kubelet_ready) {
      beast::error_code ec;
      size_t n = kubelet.read_some(net::buffer(buf, sizeof buf), ec);
      if (ec || n == 0) return;
      if (!client.WriteAll(std::string_view(buf, n)).ok()) return;
    }
  }
}

}  // namespace

bool KubeletProxy::Handles(const api::RequestInfo& info) {
  if (!info.group.empty() || info.resource != "pods") return false;
  const std::string& s = info.subresource;
  return s == "log" || s == "exec" || s == "attach" || s == "portforward";
}

registry::ApiResult<std::pair<std::string, uint16_t>> KubeletProxy::KubeletOf(
    const bj::object& pod) {
  std::string node_name = api::LookupString(pod, {"spec", "nodeName"});
  std::string pod_name = api::NameOf(pod);
  if (node_name.empty()) {
    return api::BadRequest("pod " + pod_name + " does not have a host assigned");
  }
  Result<std::optional<bj::object>> found =
      registry::ReadObject(store_, *api::FindResource("", "v1", "nodes"), "", node_name);
  if (!found.ok()) return api::Internal(found.error().str());
  if (!*found) return api::NotFound("", "nodes", node_name);
  const bj::object& node = **found;
  std::string address;
  for (const char* type : {"InternalIP", "ExternalIP", "Hostname"}) {
    const bj::value* list = api::Lookup(node, {"status", "addresses"});
    if (list == nullptr || !list->is_array()) break;
    for (const bj::value& a : list->as_array()) {
      if (a.is_object() && api::LookupString(a.as_object(), {"type"}) == type) {
        address = api::LookupString(a.as_object(), {"address"});
        break;
      }
    }
    if (!address.empty()) break;
  }
  if (address.empty()) return Unavailable("node " + node_name + " reports no address");
  int64_t port = api::LookupInt(node, {"status", "daemonEndpoints", "kubeletEndpoint", "Port"});
  return std::make_pair(
      address, static_cast<uint16_t>(port > 0 && port < 65536 ? port : kDefaultKubeletPort));
}

registry::ApiResult<std::string> KubeletProxy::KubeletTarget(const registry::Call& c,
                                                             const bj::object& pod) {
  const std::string& sub = c.info.subresource;
  std::string base = PercentEncode(c.info.namespace_) + "/" + PercentEncode(c.info.name);
  if (sub == "portforward")
    return "/portForward/" + base + (c.req.query.empty() ? "" : "?" + c.req.query);
  std::string container = c.Param("container");
  if (container.empty()) {
    std::vector<std::string> names = ContainerNames(pod);
    if (names.size() != 1) {
      std::string list;
      for (const std::string& n : names)
        list += (list.empty() ? "" : " ") + n;
      return api::BadRequest("a container name must be specified for pod " + c.info.name +
                             ", choose one of: [" + list + "]");
    }
    container = names.front();
  }
  std::string query = QueryWithout("container", c.req.query);
  std::string prefix = sub == "log" ? "/containerLogs/" : sub == "exec" ? "/exec/" : "/attach/";
  return prefix + base + "/" + PercentEncode(container) + (query.empty() ? "" : "?" + query);
}

void KubeletProxy::Serve(registry::Call& c) {
  Result<std::optional<bj::object>> found = registry::ReadObject(store_, c.type, c.ns, c.name);
  if (!found.ok()) return c.Fail(api::Internal(found.error().str()));
  if (!*found) return c.Fail(c.NotFound());
  const bj::object& pod = **found;
  auto target = KubeletTarget(c, pod);
  if (const api::ApiStatus* e = std::get_if<api::ApiStatus>(&target)) return c.Fail(*e);
  auto where = KubeletOf(pod);
  if (const api::ApiStatus* e = std::get_if<api::ApiStatus>(&where)) return c.Fail(*e);
  const auto& [host, port] = std::get<std::pair<std::string, uint16_t>>(where);

  try {
    net::io_context io;
    ssl::context tls(ssl::context::tls_client);
    tls.set_verify_mode(ssl::verify_none);
    tls.use_certificate_chain(net::buffer(client_.cert_pem));
    tls.use_private_key(net::buffer(client_.key_pem), ssl::context::pem);
    ssl::stream<tcp::socket> kubelet(io, tls);
    kubelet.next_layer().connect(tcp::endpoint(net::ip::make_address(host), port));
    kubelet.handshake(ssl::stream_base::client);

    bhttp::request<bhttp::string_body> req{
        c.req.method == "POST" ? bhttp::verb::post : bhttp::verb::get,
        std::get<std::string>(target), 11};
    for (const auto& [name, value] : c.req.headers) {
      if (name == "authorization" || name.starts_with("impersonate-") || name == "host" ||
          name == "content-length") {
        continue;
      }
      req.set(name, value);
    }
    req.set(bhttp::field::host, host + ":" + std::to_string(port));
    req.body() = c.req.body;
    req.prepare_payload();
    bhttp::write(kubelet, req);

    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    bhttp::read_header(kubelet, buffer, parser);
    auto& head = parser.get();
    if (head.result() == bhttp::status::switching_protocols) {
      std::string raw = "HTTP/1.1 101 Switching Protocols\r\n";
      for (const auto& field : head)
        raw += std::string(field.name_string()) + ": " + std::string(field.value()) + "\r\n";
      raw += "\r\n";
      // Bytes the kubelet sent right after its head come first.
      std::string early(static_cast<const char*>(buffer.data().data()), buffer.size());
      (void)c.w.Hijack(raw + early, [&](RawStream& client) { Pump(client, kubelet); });
      return;
    }
    std::string content_type(head[bhttp::field::content_type]);
    if (!c.w.StartStream(static_cast<int>(head.result_int()),
                         content_type.empty() ? "text/plain" : content_type)
             .ok()) {
      return;
    }
    char chunk[16384];
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      beast::error_code ec;
      bhttp::read_some(kubelet, buffer, parser, ec);
      if (ec && ec != bhttp::error::need_buffer) break;
      size_t n = sizeof chunk - parser.get().body().size;
      if (n > 0 && !c.w.WriteChunk(std::string_view(chunk, n)).ok()) return;
    }
    (void)c.w.EndStream();
  } catch (const std::exception& e) {
    c.Fail(Unavailable("error trying to reach the kubelet at " + host + ":" + std::to_string(port) +
                       ": " + e.what()));
  }
}

}  // namespace berth::controlplane
