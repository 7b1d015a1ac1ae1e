#pragma once
// Controller references (metadata.ownerReferences with controller=true)
// and upstream's ControllerRefManager: a controller claims the objects it
// selects. An object it already controls stays claimed while its labels
// still match, and is released (its reference to the controller removed)
// once they do not; an orphan that matches is adopted (a reference added),
// unless the object or the controller is being deleted. Before the first
// adoption the controller is read again, uncached, so that one deleted (or
// replaced by a namesake) meanwhile adopts nothing. Objects controlled by
// someone else are never touched.

#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "controlplane/server/api/selectors.h"

namespace berth::controlplane::controllers {

struct OwnerRef {
  std::string api_version, kind, name, uid;
};

// The reference with controller=true, if any.
std::optional<OwnerRef> ControllerOf(const boost::json::object& obj);
// The reference a controller (`owner`, of `api_version` and `kind`) puts on
// what it controls: controller and blockOwnerDeletion true, as upstream's
// NewControllerRef.
boost::json::object ControllerRefTo(const boost::json::object& owner, std::string_view api_version,
                                    std::string_view kind);

class RefManager {
 public:
  // `owner` as cached; `owner_url` its URL, for the uncached re-read;
  // `url_of` gives the URL of a claimed object (to patch it).
  RefManager(client::ApiClient& api, boost::json::object owner, std::string api_version,
             std::string kind, std::string owner_url, api::LabelSelector selector,
             std::function<std::string(const boost::json::object&)> url_of);

  // The objects of `candidates` the owner controls after adopting and
  // releasing; the first adoption or release that failed (other than the
  // object being gone) is the error.
  Result<std::vector<boost::json::object>> Claim(
      const std::vector<boost::json::object>& candidates);

 private:
  Result<bool> ClaimOne(const boost::json::object& obj);
  Status CanAdopt();
  Status Adopt(const boost::json::object& obj);
  Status Release(const boost::json::object& obj);
  Status Patch(const boost::json::object& obj, const boost::json::object& patch, bool releasing);

  client::ApiClient& api_;
  boost::json::object owner_;
  std::string api_version_, kind_, owner_url_;
  std::string uid_;
  api::LabelSelector selector_;
  std::function<std::string(const boost::json::object&)> url_of_;
  std::optional<Status> can_adopt_;  // the re-read, once
};

}  // namespace berth::controlplane::controllers
