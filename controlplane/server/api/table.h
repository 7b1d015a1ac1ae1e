#pragma once
// meta.k8s.io/v1 Table responses (Accept: application/json;as=Table;...):
// the kind's columns, one row per object with the object itself or its
// metadata (includeObject=Object|Metadata|None, Metadata by default).

#include <boost/json.hpp>
#include <ctime>
#include <string>
#include <vector>

#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::api {

enum class IncludeObject { kNone, kMetadata, kObject };

// True when the Accept header asks for a Table.
bool WantsTable(const std::string& accept);
// includeObject's value; an unknown one reads as Metadata.
IncludeObject ParseIncludeObject(const std::string& value);

struct TableOptions {
  IncludeObject include = IncludeObject::kMetadata;
  bool columns = true;  // false: rows only (watch events after the first)
  std::string resource_version;
  std::string continue_token;
};

boost::json::object ToTable(const Kind& kind,
                            const std::vector<const boost::json::object*>& objects,
                            const TableOptions& options, time_t now);

}  // namespace berth::controlplane::api
