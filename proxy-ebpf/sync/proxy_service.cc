#include "proxy-ebpf/sync/proxy_service.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"

namespace berth::proxy {
namespace {

using controlplane::client::Informer;
using controlplane::client::InformerHandlers;

// How often freed generations are collected while changes keep coming.
constexpr auto kCollectEvery = std::chrono::milliseconds(200);

bool LinkLocal(const IpAddress& address) {
  if (address.v6) return address.bytes[0] == 0xfe && (address.bytes[1] & 0xc0) == 0x80;
  return address.bytes[0] == 169 && address.bytes[1] == 254;
}

}  // namespace

Result<std::vector<IpAddress>> InterfaceAddresses() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return Error::Sys("getifaddrs");
  std::vector<IpAddress> out;
  for (ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || (entry->ifa_flags & IFF_LOOPBACK)) continue;
    IpAddress address;
    if (entry->ifa_addr->sa_family == AF_INET) {
      std::memcpy(address.bytes.data(),
                  &reinterpret_cast<const sockaddr_in*>(entry->ifa_addr)->sin_addr, 4);
    } else if (entry->ifa_addr->sa_family == AF_INET6) {
      address.v6 = true;
      std::memcpy(address.bytes.data(),
                  &reinterpret_cast<const sockaddr_in6*>(entry->ifa_addr)->sin6_addr, 16);
    } else {
      continue;
    }
    if (!LinkLocal(address)) out.push_back(address);
  }
  freeifaddrs(list);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

ProxyService::ProxyService(controlplane::client::ClientConfig api, ProxyConfig config,
                           NodeInfo node)
    : config_(std::move(config)), api_(std::move(api)), tracker_(std::move(node)) {}

Result<std::unique_ptr<ProxyService>> ProxyService::Start(controlplane::client::ClientConfig api,
                                                          ProxyConfig config) {
  NodeInfo node{config.node_name, config.nodeport_addresses};
  if (node.addresses.empty()) {
    Result<std::vector<IpAddress>> found = InterfaceAddresses();
    if (!found.ok()) return found.error();
    node.addresses = *found;
  }
  // SNAT sources: the first NodePort address of each family.
  bool have4 = config.dataplane.snat_ipv4 != 0;
  bool have6 = config.dataplane.snat_ipv6 != std::array<uint8_t, 16>{};
  for (const IpAddress& address : node.addresses) {
    if (!address.v6 && !have4) {
      std::memcpy(&config.dataplane.snat_ipv4, address.bytes.data(), 4);
      have4 = true;
    } else if (address.v6 && !have6) {
      config.dataplane.snat_ipv6 = address.bytes;
      have6 = true;
    }
  }
  std::unique_ptr<ProxyService> service(
      new ProxyService(std::move(api), std::move(config), std::move(node)));

  Result<std::unique_ptr<Dataplane>> dataplane = Dataplane::Open(service->config_.dataplane);
  if (!dataplane.ok()) return dataplane.error();
  service->dataplane_ = std::move(*dataplane);
  service->health_checks_ =
      std::make_unique<HealthCheckServers>(service->config_.health_check_address);
  const DataplaneConfig& d = service->config_.dataplane;
  service->maps_ =
      std::make_unique<LbMaps>(service->dataplane_->maps(), d.limits, d.selection, d.maglev_size);
  if (service->dataplane_->adopted()) {
    if (Status ok = service->maps_->Adopt(); !ok.ok())
      return std::move(ok).error().Wrap("adopt the pinned maps in `" + d.pin_dir + "`");
    BLOG(kInfo) << "proxy: adopted " << service->maps_->frontends() << " frontends from "
                << d.pin_dir;
  }

  ProxyService* self = service.get();
  auto locked = [self](auto apply) {
    return [self, apply](const boost::json::object& object) {
      {
        std::lock_guard lock(self->mu_);
        apply(object);
      }
      self->Changed();
    };
  };
  service->services_ = std::make_unique<Informer>(
      service->api_, "/api/v1/services",
      InformerHandlers{locked([self](const auto& o) { self->tracker_.ServiceUpserted(o); }),
                       [self](const boost::json::object&, const boost::json::object& now) {
                         {
                           std::lock_guard lock(self->mu_);
                           self->tracker_.ServiceUpserted(now);
                         }
                         self->Changed();
                       },
                       locked([self](const auto& o) { self->tracker_.ServiceDeleted(o); })});
  service->slices_ = std::make_unique<Informer>(
      service->api_, "/apis/discovery.k8s.io/v1/endpointslices",
      InformerHandlers{locked([self](const auto& o) { self->tracker_.SliceUpserted(o); }),
                       [self](const boost::json::object&, const boost::json::object& now) {
                         {
                           std::lock_guard lock(self->mu_);
                           self->tracker_.SliceUpserted(now);
                         }
                         self->Changed();
                       },
                       locked([self](const auto& o) { self->tracker_.SliceDeleted(o); })});
  service->services_->Start();
  service->slices_->Start();
  service->thread_ = std::thread([self] { self->Run(); });
  return service;
}

ProxyService::~ProxyService() {
  Stop();
}

void ProxyService::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (services_) services_->Stop();
  if (slices_) slices_->Stop();
  if (thread_.joinable()) thread_.join();
}

bool ProxyService::Synced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

size_t ProxyService::Frontends() const {
  return frontends_.load();
}

void ProxyService::Changed() {
  {
    std::lock_guard lock(mu_);
    dirty_ = true;
  }
  wake_.notify_all();
}

void ProxyService::Run() {
  // The first sync: both caches listed, then everything in one Replace.
  while (true) {
    std::unique_lock lock(mu_);
    if (stopping_) return;
    if (services_->Synced() && slices_->Synced()) break;
    wake_.wait_for(lock, std::chrono::milliseconds(20));
  }
  bool full_sync_needed = true;
  auto last_collect = std::chrono::steady_clock::now();
  while (true) {
    std::vector<Frontend> all;
    FrontendDelta delta;
    std::vector<HealthCheck> health_checks;
    bool changed = false;
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, kCollectEvery, [&] { return dirty_ || stopping_ || full_sync_needed; });
      if (stopping_) return;
      dirty_ = false;
      if (full_sync_needed) {
        all = tracker_.AllFrontends();
        (void)tracker_.TakeDelta();  // the Replace covers it
      } else {
        delta = tracker_.TakeDelta();
      }
      changed = full_sync_needed || !delta.empty();
      if (changed) health_checks = tracker_.HealthChecks();
    }

    Status written;
    auto started = std::chrono::steady_clock::now();
    if (full_sync_needed) {
      written = maps_->Replace(all);
      if (written.ok()) {
        BLOG(kInfo) << "proxy: full sync of " << all.size() << " frontends in "
                    << std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count()
                    << " ms";
        std::lock_guard lock(mu_);
        synced_ = true;
        full_sync_needed = false;
      }
    } else if (!delta.empty()) {
      written = maps_->Apply(delta.upserted, delta.removed);
    }
    if (!written.ok()) {
      // The maps may now differ from what the writer believes; re-read them
      // and replace everything on the next round.
      BLOG(kError) << "proxy: writing the maps failed: " << written.error().str() << "; resyncing";
      maps_ = std::make_unique<LbMaps>(dataplane_->maps(), config_.dataplane.limits,
                                       config_.dataplane.selection, config_.dataplane.maglev_size);
      if (Status adopted = maps_->Adopt(); !adopted.ok())
        BLOG(kError) << "proxy: re-reading the maps failed: " << adopted.error().str();
      full_sync_needed = true;
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    if (changed) health_checks_->Update(health_checks);
    frontends_ = maps_->frontends();
    if (std::chrono::steady_clock::now() - last_collect >= kCollectEvery) {
      if (Status collected = maps_->Collect(); !collected.ok())
        BLOG(kWarn) << "proxy: freeing old map entries: " << collected.error().str();
      health_checks_->RetryUnbound();
      last_collect = std::chrono::steady_clock::now();
    }
  }
}

}  // namespace berth::proxy
