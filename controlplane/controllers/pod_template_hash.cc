#include "controlplane/controllers/pod_template_hash.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr uint32_t kFnvOffset = 2166136261u;
constexpr uint32_t kFnvPrime = 16777619u;

void Fnv(uint32_t& h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnvPrime;
  }
}

// Upstream's rand.SafeEncodeString: no vowels, no confusable characters.
std::string SafeEncode(std::string_view s) {
  static constexpr std::string_view kAlphanums = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s)
    out.push_back(kAlphanums[c % kAlphanums.size()]);
  return out;
}

bool IsEmpty(const bj::value& v) {
  return v.is_null() || (v.is_string() && v.as_string().empty()) ||
         (v.is_object() && v.as_object().empty()) || (v.is_array() && v.as_array().empty());
}

// `v` with empty members left out, recursively (empty once emptied too).
bj::value Prune(const bj::value& v) {
  if (v.is_object()) {
    bj::object out;
    for (const auto& [key, member] : v.as_object()) {
      bj::value pruned = Prune(member);
      if (!IsEmpty(pruned)) out[key] = std::move(pruned);
    }
    return out;
  }
  if (v.is_array()) {
    bj::array out;
    for (const bj::value& item : v.as_array())
      out.push_back(Prune(item));
    return out;
  }
  return v;
}

void WriteCanonical(const bj::value& v, std::string& out) {
  if (v.is_object()) {
    std::vector<std::pair<std::string_view, const bj::value*>> members;
    for (const auto& [key, member] : v.as_object())
      members.emplace_back(key, &member);
    std::sort(members.begin(), members.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    out += '{';
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out += ',';
      out += bj::serialize(bj::string(members[i].first));
      out += ':';
      WriteCanonical(*members[i].second, out);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    for (size_t i = 0; i < v.as_array().size(); ++i) {
      if (i > 0) out += ',';
      WriteCanonical(v.as_array()[i], out);
    }
    out += ']';
  } else {
    out += bj::serialize(v);
  }
}

bj::value WithoutHash(const bj::value& pod_template) {
  bj::value copy = pod_template;
  if (bj::object* t = copy.if_object()) {
    if (bj::value* m = t->if_contains("metadata"); m != nullptr && m->is_object()) {
      if (bj::value* l = m->as_object().if_contains("labels"); l != nullptr && l->is_object()) {
        l->as_object().erase(kPodTemplateHashLabel);
      }
    }
  }
  return copy;
}

const bj::value* TemplateOf(const bj::object& obj) {
  return api::Lookup(obj, {"spec", "template"});
}

// The canonical text of a value (see the header).
std::string Canonical(const bj::value& v) {
  std::string out;
  WriteCanonical(Prune(v), out);
  return out;
}

}  // namespace

std::string ComputeHash(const bj::value& pod_template, std::optional<int64_t> collision_count) {
  uint32_t h = kFnvOffset;
  Fnv(h, Canonical(pod_template));
  if (collision_count) {
    // Upstream writes the count as 4 little-endian bytes in an 8-byte buffer.
    auto c = static_cast<uint32_t>(*collision_count);
    std::string bytes(8, '\0');
    for (int i = 0; i < 4; ++i)
      bytes[i] = static_cast<char>((c >> (8 * i)) & 0xff);
    Fnv(h, bytes);
  }
  return SafeEncode(std::to_string(h));
}

bool EqualIgnoreHash(const bj::value& a, const bj::value& b) {
  return Canonical(WithoutHash(a)) == Canonical(WithoutHash(b));
}

bj::object* FindNewReplicaSet(const bj::object& d, const ReplicaSetList& rss) {
  const bj::value* want = TemplateOf(d);
  if (want == nullptr) return nullptr;
  ReplicaSetList sorted = rss;
  SortByCreation(sorted);
  for (bj::object* rs : sorted) {
    const bj::value* have = TemplateOf(*rs);
    // Several may match (made by an old controller): the oldest is the one.
    if (have != nullptr && EqualIgnoreHash(*have, *want)) return rs;
  }
  return nullptr;
}

ReplicaSetList OldReplicaSets(const ReplicaSetList& rss, const bj::object* new_rs) {
  ReplicaSetList old;
  for (bj::object* rs : rss)
    if (rs != new_rs) old.push_back(rs);
  return old;
}

}  // namespace berth::controlplane::controllers
