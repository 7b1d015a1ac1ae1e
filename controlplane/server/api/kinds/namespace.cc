// core/v1 Namespace: a DNS label for a name, Active until deleted, and the
// kubernetes.io/metadata.name label upstream keeps on every namespace.

#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::api {
namespace {

class Namespace : public Kind {
 public:
  NameRule name_rule() const override { return NameRule::kLabel; }

  void Default(boost::json::object& obj) const override {
    boost::json::object& labels = Child(Child(obj, "metadata"), "labels");
    labels["kubernetes.io/metadata.name"] = NameOf(obj);
  }

  void PrepareForCreate(boost::json::object& obj) const override {
    obj["status"] = boost::json::object{{"phase", "Active"}};
    boost::json::object& spec = Child(obj, "spec");
    if (!spec.contains("finalizers")) spec["finalizers"] = boost::json::array{"kubernetes"};
  }

  std::optional<std::string> Field(const boost::json::object& obj,
                                   std::string_view field) const override {
    if (field == "status.phase") return LookupString(obj, {"status", "phase"});
    return Kind::Field(obj, field);
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(), {"Status", "string", "", "The status of the namespace", 0}, AgeColumn()};
  }
  boost::json::array Cells(const boost::json::object& obj, time_t now) const override {
    return {NameOf(obj), LookupString(obj, {"status", "phase"}), Age(obj, now)};
  }
};

}  // namespace

const Kind& NamespaceKind() {
  static const Namespace kind;
  return kind;
}

}  // namespace berth::controlplane::api
