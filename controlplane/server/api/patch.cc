#include "controlplane/server/api/patch.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <vector>

namespace berth::controlplane::api {
namespace {

namespace bj = boost::json;

Error Bad(const std::string& why) {
  return Error(Errc::kInvalidArgument, why);
}

// ---- JSON Patch (RFC 6902) ----

Result<std::vector<std::string>> PointerTokens(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer.front() != '/') return Bad("invalid JSON pointer `" + std::string(pointer) + "`");
  size_t start = 1;
  while (true) {
    size_t slash = pointer.find('/', start);
    std::string_view raw =
        pointer.substr(start, slash == std::string_view::npos ? slash : slash - start);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token += raw[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        token += raw[i];
      }
    }
    tokens.push_back(std::move(token));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return tokens;
}

Result<size_t> ArrayIndex(const std::string& token, size_t size, bool allow_end,
                          std::string_view path) {
  if (allow_end && token == "-") return size;
  if (token.empty() || token.find_first_not_of("0123456789") != std::string::npos ||
      (token.size() > 1 && token[0] == '0')) {
    return Bad("invalid array index `" + token + "` in `" + std::string(path) + "`");
  }
  size_t i = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), i);
  if (ec != std::errc() || end != token.data() + token.size() || i > size ||
      (!allow_end && i == size)) {
    return Bad("array index " + token + " out of bounds in `" + std::string(path) + "`");
  }
  return i;
}

// The container of the pointer's last token.
Result<bj::value*> Parent(bj::value& doc, const std::vector<std::string>& tokens,
                          std::string_view path) {
  bj::value* at = &doc;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (bj::object* o = at->if_object()) {
      at = o->if_contains(tokens[i]);
      if (at == nullptr) return Bad("path `" + std::string(path) + "` does not exist");
    } else if (bj::array* a = at->if_array()) {
      size_t index = BERTH_TRY(ArrayIndex(tokens[i], a->size(), false, path));
      at = &(*a)[index];
    } else {
      return Bad("path `" + std::string(path) + "` does not exist");
    }
  }
  return at;
}

Result<bj::value> Get(bj::value& doc, std::string_view path) {
  std::vector<std::string> tokens = BERTH_TRY(PointerTokens(path));
  if (tokens.empty()) return doc;
  bj::value* parent = BERTH_TRY(Parent(doc, tokens, path));
  if (bj::object* o = parent->if_object()) {
    if (bj::value* v = o->if_contains(tokens.back())) return *v;
  } else if (bj::array* a = parent->if_array()) {
    size_t i = BERTH_TRY(ArrayIndex(tokens.back(), a->size(), false, path));
    return (*a)[i];
  }
  return Bad("path `" + std::string(path) + "` does not exist");
}

Status Add(bj::value& doc, std::string_view path, bj::value value) {
  std::vector<std::string> tokens = BERTH_TRY(PointerTokens(path));
  if (tokens.empty()) {
    doc = std::move(value);
    return Ok();
  }
  bj::value* parent = BERTH_TRY(Parent(doc, tokens, path));
  if (bj::object* o = parent->if_object()) {
    (*o)[tokens.back()] = std::move(value);
  } else if (bj::array* a = parent->if_array()) {
    size_t i = BERTH_TRY(ArrayIndex(tokens.back(), a->size(), true, path));
    a->insert(a->begin() + static_cast<long>(i), std::move(value));
  } else {
    return Bad("path `" + std::string(path) + "` does not exist");
  }
  return Ok();
}

Result<bj::value> Remove(bj::value& doc, std::string_view path) {
  std::vector<std::string> tokens = BERTH_TRY(PointerTokens(path));
  if (tokens.empty()) return Bad("cannot remove the whole document");
  bj::value* parent = BERTH_TRY(Parent(doc, tokens, path));
  if (bj::object* o = parent->if_object()) {
    auto it = o->find(tokens.back());
    if (it == o->end()) return Bad("path `" + std::string(path) + "` does not exist");
    bj::value old = it->value();
    o->erase(it);
    return old;
  }
  if (bj::array* a = parent->if_array()) {
    size_t i = BERTH_TRY(ArrayIndex(tokens.back(), a->size(), false, path));
    bj::value old = (*a)[i];
    a->erase(a->begin() + static_cast<long>(i));
    return old;
  }
  return Bad("path `" + std::string(path) + "` does not exist");
}

Result<bj::value> JsonPatch(bj::value doc, const bj::value& patch) {
  if (!patch.is_array()) return Bad("a JSON patch must be an array of operations");
  size_t n = 0;
  for (const bj::value& opv : patch.as_array()) {
    std::string where = "operation " + std::to_string(n++);
    if (!opv.is_object()) return Bad(where + ": not an object");
    const bj::object& op = opv.as_object();
    auto str = [&](const char* key) -> Result<std::string> {
      const bj::value* v = op.if_contains(key);
      if (v == nullptr || !v->is_string()) return Bad(where + ": missing `" + key + "`");
      return std::string(v->as_string());
    };
    std::string name = BERTH_TRY(str("op"));
    std::string path = BERTH_TRY(str("path"));
    const bj::value* value = op.if_contains("value");
    if (name == "add" || name == "replace" || name == "test") {
      if (value == nullptr) return Bad(where + " (" + name + "): missing `value`");
    }
    if (name == "add") {
      BERTH_TRY(Add(doc, path, *value));
    } else if (name == "remove") {
      BERTH_TRY(Remove(doc, path));
    } else if (name == "replace") {
      BERTH_TRY(Remove(doc, path));
      BERTH_TRY(Add(doc, path, *value));
    } else if (name == "move" || name == "copy") {
      std::string from = BERTH_TRY(str("from"));
      bj::value moved = name == "move" ? BERTH_TRY(Remove(doc, from)) : BERTH_TRY(Get(doc, from));
      BERTH_TRY(Add(doc, path, std::move(moved)));
    } else if (name == "test") {
      bj::value current = BERTH_TRY(Get(doc, path));
      if (current != *value) return Bad("testing value " + path + " failed");
    } else {
      return Bad(where + ": unknown op `" + name + "`");
    }
  }
  return doc;
}

// ---- JSON Merge Patch (RFC 7386) ----

bj::value MergePatch(const bj::value& target, const bj::value& patch) {
  if (!patch.is_object()) return patch;
  bj::object out = target.is_object() ? target.as_object() : bj::object();
  for (const auto& [key, value] : patch.as_object()) {
    if (value.is_null()) {
      out.erase(key);
    } else {
      const bj::value* current = out.if_contains(key);
      out[key] = MergePatch(current != nullptr ? *current : bj::value(), value);
    }
  }
  return out;
}

// ---- Strategic merge patch ----

constexpr std::string_view kSetElementOrder = "$setElementOrder/";
constexpr std::string_view kDeleteFromPrimitive = "$deleteFromPrimitiveList/";

// How a list field merges: by a key, as a set of primitives, or not at
// all (replaced). From upstream's patchStrategy/patchMergeKey tags.
struct ListStrategy {
  bool merge = false;
  std::string key;  // "" with merge: a list of primitives
};

ListStrategy StrategyFor(const std::vector<std::string>& path, std::string_view kind) {
  const std::string& field = path.back();
  std::string parent = path.size() >= 2 ? path[path.size() - 2] : "";
  auto keyed = [](std::string key) { return ListStrategy{true, std::move(key)}; };
  if (field == "finalizers" && parent == "metadata") return {true, ""};
  if (field == "ownerReferences" && parent == "metadata") return keyed("uid");
  if (field == "containers" || field == "initContainers" || field == "ephemeralContainers") {
    return keyed("name");
  }
  bool in_container =
      parent == "containers" || parent == "initContainers" || parent == "ephemeralContainers";
  if (in_container) {
    if (field == "env") return keyed("name");
    if (field == "ports") return keyed("containerPort");
    if (field == "volumeMounts") return keyed("mountPath");
    if (field == "volumeDevices") return keyed("devicePath");
    return {};
  }
  if (parent == "spec" || parent == "template") {
    if (field == "volumes" || field == "imagePullSecrets" || field == "resourceClaims" ||
        field == "schedulingGates") {
      return keyed("name");
    }
    if (field == "hostAliases") return keyed("ip");
    if (field == "topologySpreadConstraints") return keyed("topologyKey");
    if (field == "ports" && kind == "Service" && path.size() == 2) return keyed("port");
  }
  if (parent == "status") {
    if (field == "conditions") return keyed("type");
    if (field == "addresses" && kind == "Node") return keyed("type");
    if (field == "podIPs" || field == "hostIPs") return keyed("ip");
  }
  return {};
}

Result<bj::value> Strategic(const bj::value& original, const bj::value& patch,
                            std::vector<std::string>& path, std::string_view kind);

// Orders `list` as `order` says: listed elements first, in that order;
// the rest after, as they were.
bj::array ApplyOrder(const bj::array& list, const bj::array& order, const std::string& key) {
  bj::array out;
  std::vector<bool> used(list.size(), false);
  for (const bj::value& want : order) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (used[i]) continue;
      bool match = false;
      if (key.empty()) {
        match = list[i] == want;
      } else if (const bj::object* o = list[i].if_object(); o && want.is_object()) {
        const bj::value* a = o->if_contains(key);
        const bj::value* b = want.as_object().if_contains(key);
        match = a != nullptr && b != nullptr && *a == *b;
      }
      if (match) {
        out.push_back(list[i]);
        used[i] = true;
        break;
      }
    }
  }
  for (size_t i = 0; i < list.size(); ++i)
    if (!used[i]) out.push_back(list[i]);
  return out;
}

Result<bj::value> MergeList(const bj::array& original, const bj::array& patch,
                            const ListStrategy& strategy, std::vector<std::string>& path,
                            std::string_view kind) {
  if (!strategy.merge) return bj::value(patch);
  // {"$patch": "replace"} anywhere in the patch list: the rest replaces.
  for (const bj::value& item : patch) {
    const bj::object* o = item.if_object();
    const bj::value* d = o != nullptr ? o->if_contains("$patch") : nullptr;
    if (d != nullptr && d->is_string() && d->as_string() == "replace") {
      bj::array rest;
      for (const bj::value& other : patch)
        if (&other != &item) rest.push_back(other);
      return bj::value(rest);
    }
  }
  bj::array out = original;
  if (strategy.key.empty()) {
    for (const bj::value& item : patch)
      if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
    return bj::value(out);
  }
  for (const bj::value& item : patch) {
    const bj::object* o = item.if_object();
    if (o == nullptr) return Bad(path.back() + ": expected objects merged by " + strategy.key);
    const bj::value* key = o->if_contains(strategy.key);
    const bj::value* directive = o->if_contains("$patch");
    if (key == nullptr) {
      return Bad(path.back() + ": an element lacks its merge key `" + strategy.key + "`");
    }
    auto it = std::find_if(out.begin(), out.end(), [&](const bj::value& e) {
      const bj::object* eo = e.if_object();
      const bj::value* ek = eo != nullptr ? eo->if_contains(strategy.key) : nullptr;
      return ek != nullptr && *ek == *key;
    });
    if (directive != nullptr && directive->is_string() && directive->as_string() == "delete") {
      if (it != out.end()) out.erase(it);
      continue;
    }
    if (it == out.end()) {
      bj::value added = BERTH_TRY(Strategic(bj::object(), item, path, kind));
      out.push_back(std::move(added));
    } else {
      *it = BERTH_TRY(Strategic(*it, item, path, kind));
    }
  }
  return bj::value(out);
}

Result<bj::value> Strategic(const bj::value& original, const bj::value& patch,
                            std::vector<std::string>& path, std::string_view kind) {
  if (!patch.is_object()) return patch;
  const bj::object& p = patch.as_object();
  if (const bj::value* d = p.if_contains("$patch"); d != nullptr && d->is_string()) {
    if (d->as_string() == "delete") return bj::value();  // the caller drops it
    if (d->as_string() == "replace") {
      bj::object replaced = p;
      replaced.erase("$patch");
      return bj::value(replaced);
    }
    if (d->as_string() != "merge")
      return Bad("unknown $patch directive `" + std::string(d->as_string()) + "`");
  }
  bj::object out = original.is_object() ? original.as_object() : bj::object();
  for (const auto& [key, value] : p) {
    std::string k(key);
    if (k == "$patch" || k == "$retainKeys" || k.starts_with(kSetElementOrder) ||
        k.starts_with(kDeleteFromPrimitive)) {
      continue;
    }
    if (value.is_null()) {
      out.erase(k);
      continue;
    }
    path.push_back(k);
    const bj::value* current = out.if_contains(k);
    if (value.is_array()) {
      bj::array base =
          current != nullptr && current->is_array() ? current->as_array() : bj::array();
      out[k] = BERTH_TRY(MergeList(base, value.as_array(), StrategyFor(path, kind), path, kind));
    } else if (value.is_object()) {
      const bj::value* d = value.as_object().if_contains("$patch");
      if (d != nullptr && d->is_string() && d->as_string() == "delete") {
        out.erase(k);
      } else {
        out[k] =
            BERTH_TRY(Strategic(current != nullptr ? *current : bj::value(), value, path, kind));
      }
    } else {
      out[k] = value;
    }
    path.pop_back();
  }
  // Directives that refer to sibling lists.
  for (const auto& [key, value] : p) {
    std::string k(key);
    if (k.starts_with(kDeleteFromPrimitive) && value.is_array()) {
      std::string field = k.substr(kDeleteFromPrimitive.size());
      if (bj::value* list = out.if_contains(field); list != nullptr && list->is_array()) {
        bj::array& l = list->as_array();
        for (const bj::value& gone : value.as_array())
          l.erase(std::remove(l.begin(), l.end(), gone), l.end());
      }
    } else if (k.starts_with(kSetElementOrder) && value.is_array()) {
      std::string field = k.substr(kSetElementOrder.size());
      if (bj::value* list = out.if_contains(field); list != nullptr && list->is_array()) {
        path.push_back(field);
        ListStrategy s = StrategyFor(path, kind);
        path.pop_back();
        if (s.merge) list->as_array() = ApplyOrder(list->as_array(), value.as_array(), s.key);
      }
    }
  }
  if (const bj::value* retain = p.if_contains("$retainKeys"); retain && retain->is_array()) {
    bj::object kept;
    for (const bj::key_value_pair& member : out) {
      bool keep = std::any_of(
          retain->as_array().begin(), retain->as_array().end(),
          [&](const bj::value& r) { return r.is_string() && r.as_string() == member.key(); });
      if (keep) kept[member.key()] = member.value();
    }
    out = std::move(kept);
  }
  return bj::value(out);
}

}  // namespace

std::optional<PatchType> PatchTypeFor(std::string_view content_type) {
  std::string_view base = content_type.substr(0, content_type.find(';'));
  while (!base.empty() && base.back() == ' ')
    base.remove_suffix(1);
  if (base == "application/json-patch+json") return PatchType::kJson;
  if (base == "application/merge-patch+json") return PatchType::kMerge;
  if (base == "application/strategic-merge-patch+json") return PatchType::kStrategic;
  return std::nullopt;
}

Result<bj::value> ApplyPatch(PatchType type, const bj::value& target, const bj::value& patch,
                             std::string_view kind) {
  switch (type) {
    case PatchType::kJson:
      return JsonPatch(target, patch);
    case PatchType::kMerge:
      return MergePatch(target, patch);
    case PatchType::kStrategic: {
      if (!patch.is_object()) return Bad("a strategic merge patch must be a JSON object");
      std::vector<std::string> path;
      return Strategic(target, patch, path, kind);
    }
  }
  return Bad("unknown patch type");
}

}  // namespace berth::controlplane::api
