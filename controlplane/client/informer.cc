#include "controlplane/client/informer.h"

#include <chrono>

#include "common/log.h"

namespace berth::controlplane::client {
namespace {

namespace bj = boost::json;

std::string Str(const bj::object& o, std::string_view a, std::string_view b) {
  const bj::value* v = o.if_contains(a);
  if (v == nullptr || !v->is_object()) return "";
  const bj::value* w = v->as_object().if_contains(b);
  return w != nullptr && w->is_string() ? std::string(w->as_string()) : "";
}

std::string WithQuery(const std::string& url, const std::string& query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

}  // namespace

std::string ObjectKey(const bj::object& obj) {
  std::string ns = Str(obj, "metadata", "namespace");
  std::string name = Str(obj, "metadata", "name");
  return ns.empty() ? name : ns + "/" + name;
}

Informer::Informer(ApiClient& client, std::string collection, InformerHandlers handlers,
                   std::chrono::seconds watch_timeout)
    : client_(client),
      collection_(std::move(collection)),
      handlers_(std::move(handlers)),
      watch_timeout_(watch_timeout) {}

Informer::~Informer() {
  Stop();
}

void Informer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (watch_) watch_->Cancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool Informer::Synced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

std::map<std::string, bj::object> Informer::Snapshot() const {
  std::lock_guard lock(mu_);
  return cache_;
}

std::optional<bj::object> Informer::Get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

int Informer::lists() const {
  std::lock_guard lock(mu_);
  return lists_;
}

void Informer::Run() {
  std::string rv;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    if (rv.empty()) {
      Result<std::string> listed = Relist();
      if (!listed.ok()) {
        BLOG(kWarn) << "informer " << collection_ << ": " << listed.error().str();
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      rv = *listed;
    }
    Result<std::string> last = WatchFrom(rv);
    if (last.ok()) {
      rv = *last;  // the stream ended: watch again from where it stopped
    } else if (last.error().code() == Errc::kOutOfRange) {
      rv.clear();  // 410: what was missed is gone from history; relist
    } else if (last.error().code() != Errc::kCancelled) {
      BLOG(kWarn) << "informer " << collection_ << ": " << last.error().str();
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

Result<std::string> Informer::Relist() {
  std::map<std::string, bj::object> fresh;
  std::string token, rv;
  do {
    std::string url = WithQuery(collection_, "limit=500");
    if (!token.empty()) url += "&continue=" + token;
    ApiResponse r = BERTH_TRY(client_.Do("GET", url));
    if (r.status == 410) {  // the continue token expired: start over
      fresh.clear();
      token.clear();
      continue;
    }
    if (r.status != 200) {
      return Error(Errc::kUnavailable,
                   "list " + collection_ + ": HTTP " + std::to_string(r.status) + ": " + r.body);
    }
    bj::value list = r.Json();
    if (!list.is_object()) return Error(Errc::kDataLoss, "list " + collection_ + ": not JSON");
    const bj::object& l = list.as_object();
    if (rv.empty()) rv = Str(l, "metadata", "resourceVersion");
    token = Str(l, "metadata", "continue");
    if (const bj::value* items = l.if_contains("items"); items && items->is_array()) {
      for (const bj::value& item : items->as_array())
        if (item.is_object()) fresh[ObjectKey(item.as_object())] = item.as_object();
    }
  } while (!token.empty());

  // Tell the handlers what changed since the cache was last right.
  std::map<std::string, bj::object> old;
  {
    std::lock_guard lock(mu_);
    old = cache_;
    cache_ = fresh;
    ++lists_;
  }
  for (const auto& [key, obj] : old) {
    if (!fresh.contains(key) && handlers_.deleted) handlers_.deleted(obj);
  }
  for (const auto& [key, obj] : fresh) {
    auto it = old.find(key);
    if (it == old.end()) {
      if (handlers_.added) handlers_.added(obj);
    } else if (Str(it->second, "metadata", "resourceVersion") !=
                   Str(obj, "metadata", "resourceVersion") &&
               handlers_.updated) {
      handlers_.updated(it->second, obj);
    }
  }
  // Synced once the handlers were told of the first list, as client-go's
  // HasSynced: a controller that waits for it has seen every object.
  std::lock_guard lock(mu_);
  synced_ = true;
  return rv;
}

Result<std::string> Informer::WatchFrom(std::string rv) {
  std::string url =
      WithQuery(collection_, "watch=1&allowWatchBookmarks=true&timeoutSeconds=" +
                                 std::to_string(watch_timeout_.count()) + "&resourceVersion=" + rv);
  std::unique_ptr<WatchStream> stream = BERTH_TRY(client_.Watch(url));
  WatchStream* raw = stream.get();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Error(Errc::kCancelled, "stopping");
    watch_ = std::move(stream);
  }
  struct Forget {
    Informer* self;
    ~Forget() {
      std::lock_guard lock(self->mu_);
      self->watch_.reset();
    }
  } forget{this};
  for (;;) {
    Result<std::string> line = raw->NextLine();
    if (!line.ok()) {
      if (line.error().code() == Errc::kCancelled) return std::move(line).error();
      return rv;  // ended: resume from the last revision
    }
    boost::system::error_code ec;
    bj::value event = bj::parse(*line, ec);
    if (ec || !event.is_object()) continue;
    const bj::object& e = event.as_object();
    const bj::value* type = e.if_contains("type");
    const bj::value* objv = e.if_contains("object");
    if (type == nullptr || !type->is_string() || objv == nullptr || !objv->is_object()) continue;
    const bj::object& obj = objv->as_object();
    std::string t(type->as_string());
    if (t == "ERROR") {
      const bj::value* code = obj.if_contains("code");
      if (code != nullptr && code->is_int64() && code->as_int64() == 410) {
        return Error(Errc::kOutOfRange, "resourceVersion " + rv + " expired");
      }
      return Error(Errc::kUnavailable, "watch error: " + *line);
    }
    std::string next = Str(obj, "metadata", "resourceVersion");
    if (!next.empty()) rv = next;
    if (t == "BOOKMARK") continue;
    std::string key = ObjectKey(obj);
    std::optional<bj::object> before;
    {
      std::lock_guard lock(mu_);
      auto it = cache_.find(key);
      if (it != cache_.end()) before = it->second;
      if (t == "DELETED") {
        cache_.erase(key);
      } else {
        cache_[key] = obj;
      }
    }
    if (t == "DELETED") {
      if (handlers_.deleted) handlers_.deleted(obj);
    } else if (before) {
      if (handlers_.updated) handlers_.updated(*before, obj);
    } else if (handlers_.added) {
      handlers_.added(obj);
    }
  }
}

}  // namespace berth::controlplane::client
