#include "controlplane/server/api/table.h"

namespace berth::controlplane::api {

namespace bj = boost::json;

bool WantsTable(const std::string& accept) {
  // Clients list the Table media types first when they want one (kubectl:
  // "application/json;as=Table;v=v1;g=meta.k8s.io,...,application/json").
  size_t comma = accept.find(',');
  std::string first = accept.substr(0, comma);
  return first.find("as=Table") != std::string::npos &&
         first.find("g=meta.k8s.io") != std::string::npos;
}

IncludeObject ParseIncludeObject(const std::string& value) {
  if (value == "None") return IncludeObject::kNone;
  if (value == "Object") return IncludeObject::kObject;
  return IncludeObject::kMetadata;
}

bj::object ToTable(const Kind& kind, const std::vector<const bj::object*>& objects,
                   const TableOptions& options, time_t now) {
  bj::object metadata;
  if (!options.resource_version.empty()) metadata["resourceVersion"] = options.resource_version;
  if (!options.continue_token.empty()) metadata["continue"] = options.continue_token;
  bj::object table{{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", metadata}};
  if (options.columns) {
    bj::array columns;
    for (const TableColumn& c : kind.Columns()) {
      columns.push_back(bj::object{{"name", c.name},
                                   {"type", c.type},
                                   {"format", c.format},
                                   {"description", c.description},
                                   {"priority", c.priority}});
    }
    table["columnDefinitions"] = std::move(columns);
  }
  bj::array rows;
  for (const bj::object* obj : objects) {
    bj::object row{{"cells", kind.Cells(*obj, now)}};
    switch (options.include) {
      case IncludeObject::kObject:
        row["object"] = *obj;
        break;
      case IncludeObject::kMetadata: {
        bj::object partial{{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}};
        if (const bj::value* m = obj->if_contains("metadata")) partial["metadata"] = *m;
        row["object"] = std::move(partial);
        break;
      }
      case IncludeObject::kNone:
        break;
    }
    rows.push_back(std::move(row));
  }
  table["rows"] = std::move(rows);
  return table;
}

}  // namespace berth::controlplane::api
