#pragma once
// Fixtures for the cri_spec tests: a fake image rootfs (etc/passwd and
// etc/group in a TempDir), a typical pod and container config, and small
// readers of the built JSON.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/testing/testkit.h"
#include "runtime/cri/proto/api.pb.h"
#include "runtime/cri/spec/container_spec.h"
#include "runtime/cri/spec/sandbox_spec.h"
#include "runtime/image/manifest.h"

namespace berth::cri::testing {

namespace bj = boost::json;
namespace v1 = ::runtime::v1;

// root (groups: wheel 10), app 1000:1000 (groups: wheel 10, video 44),
// nobody 65534.
extern const char kPasswd[];
extern const char kGroup[];

class SpecTest : public ::testing::Test {
 protected:
  SpecTest();

  ContainerSpecInput Input();
  SandboxSpecInput SandboxInput();
  bj::object BuildOk();         // BuildContainerSpec, failing the test on error
  bj::object BuildSandboxOk();  // BuildSandboxSpec, likewise
  Error BuildError();           // BuildContainerSpec, expecting an error
  // Writes `text` to <tmp>/<name> and returns the path.
  std::string WriteFile(const std::string& name, const std::string& text);

  berth::testing::TempDir tmp_{"cri-spec"};
  std::string rootfs_;
  v1::PodSandboxConfig pod_;
  v1::ContainerConfig config_;
  image::ImageConfig image_;
  ContainerSpecInput extra_;  // fields copied into Input() (paths, flags)
};

// JSON pointer reads ("/process/args"); null when absent.
const bj::value* Find(const bj::object& doc, std::string_view pointer);
std::vector<std::string> Strings(const bj::object& doc, std::string_view pointer);
std::string String(const bj::object& doc, std::string_view pointer);
// The mount at `destination` (last one wins), or null.
const bj::object* MountAt(const bj::object& spec, std::string_view destination);
std::vector<std::string> MountOptions(const bj::object& spec, std::string_view destination);
std::vector<std::string> MountDestinations(const bj::object& spec);
// The namespace of `type`, or null.
const bj::object* NamespaceOf(const bj::object& spec, std::string_view type);
// Names of all syscall rules with action SCMP_ACT_ALLOW and no args.
std::vector<std::string> AllowedSyscalls(const bj::object& seccomp);
bool Contains(const std::vector<std::string>& list, std::string_view item);

}  // namespace berth::cri::testing
