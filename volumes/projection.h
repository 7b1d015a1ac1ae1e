#pragma once
// The payloads (files and modes) of the projected kinds of volume:
// configMap, secret, downwardAPI and projected, built as upstream's
// MakePayload / CollectData / collectData build them: items map keys to
// paths with their own modes, defaultMode (0644) covers the rest, and an
// optional source that is missing gives an empty volume instead of an
// error.

#include <sys/types.h>

#include <boost/json.hpp>
#include <optional>

#include "common/error.h"
#include "common/json.h"
#include "volumes/atomic_writer.h"
#include "volumes/sources.h"
#include "volumes/token_cache.h"

namespace berth::volumes {

class Projector {
 public:
  // `pod` must outlive the Projector.
  Projector(const Sources& sources, TokenCache& tokens, const boost::json::object& pod,
            std::optional<uid_t> fs_user, std::optional<gid_t> fs_group);

  // `source` is the volume's configMap / secret / downwardAPI / projected
  // member.
  Result<Payload> ConfigMap(const json::Field& source);
  Result<Payload> Secret(const json::Field& source);
  Result<Payload> DownwardApi(const json::Field& source);
  Result<Payload> Projected(const json::Field& source);

 private:
  Result<Payload> ConfigMapPayload(const json::Field& source, const std::string& name,
                                   mode_t default_mode);
  Result<Payload> SecretPayload(const json::Field& source, const std::string& name,
                                mode_t default_mode);
  Result<Payload> DownwardApiPayload(const json::Field& items, mode_t default_mode);
  Result<Payload> TokenPayload(const json::Field& source, mode_t default_mode);
  Result<std::string> ResourceValue(const json::Field& ref);

  const Sources& sources_;
  TokenCache& tokens_;
  const boost::json::object& pod_;
  std::optional<uid_t> fs_user_;
  std::optional<gid_t> fs_group_;
};

}  // namespace berth::volumes
