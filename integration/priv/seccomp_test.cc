// Seccomp acceptance, on runc and berth-runc alike: an ERRNO rule makes
// mkdir(2) fail with EPERM inside the container, and the default-deny
// allowlist fixture of runtime/oci/security runs `busybox sh`.

#include <gtest/gtest.h>

#include "common/file.h"
#include "integration/priv/harness/suite.h"

namespace berth::priv {
namespace {

namespace bj = boost::json;
using ::testing::Eq;

bj::object MkdirDenied(std::optional<int> errno_ret) {
  bj::object rule{{"names", JsonStrings({"mkdir", "mkdirat"})}, {"action", "SCMP_ACT_ERRNO"}};
  if (errno_ret) rule["errnoRet"] = *errno_ret;
  return bj::object{
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", JsonStrings({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"})},
      {"syscalls", bj::array{rule}}};
}

bj::value AllowlistFixture() {
  std::string path =
      testing::SourceDir() + "/runtime/oci/security/tests/fixtures/allowlist-busybox.json";
  Result<std::string> text = ReadFile(path);
  EXPECT_TRUE(text.ok()) << path;
  return text.ok() ? bj::parse(*text) : bj::value();
}

const std::vector<Case>& SeccompCases() {
  static const std::vector<Case> cases = {
      // The rootfs is read-only: without the filter mkdir would fail EROFS.
      {.name = "mkdir_errno_eperm",
       .args = {"/bin/sh", "-c",
                "/bin/berth-probe seccomp-mkdir /tmp/x; mkdir /tmp/y; echo rc=$?; "
                "grep Seccomp: /proc/self/status"},
       .configure = [](bj::object& c,
                       CaseContext&) { c["linux"].as_object()["seccomp"] = MkdirDenied(1); },
       .expect = {{"stdout", Eq("mkdir: EPERM\nrc=1\nSeccomp:\t2\n")},
                  {"stderr",
                   Eq("mkdir: can't create directory '/tmp/y': Operation not permitted\n")},
                  {"exit", Eq("exit 0")}}},
      // No errnoRet: ERRNO defaults to EPERM.
      {.name = "mkdir_errno_default",
       .args = {"/bin/berth-probe", "seccomp-mkdir", "/tmp/x"},
       .configure =
           [](bj::object& c, CaseContext&) {
             c["linux"].as_object()["seccomp"] = MkdirDenied(std::nullopt);
           },
       .expect = {{"stdout", Eq("mkdir: EPERM\n")}, {"exit", Eq("exit 1")}}},
      {.name = "allowlist_busybox_sh",
       .args = {"/bin/busybox", "sh", "-c", "echo ok"},
       .configure = [](bj::object& c,
                       CaseContext&) { c["linux"].as_object()["seccomp"] = AllowlistFixture(); },
       .expect = {{"create", Eq("ok")}, {"stdout", Eq("ok\n")}, {"exit", Eq("exit 0")}}},
      {.name = "allowlist_denies_mkdir",
       .args = {"/bin/busybox", "sh", "-c", "echo ok | cat; /bin/berth-probe seccomp-mkdir /tmp/x"},
       .configure = [](bj::object& c,
                       CaseContext&) { c["linux"].as_object()["seccomp"] = AllowlistFixture(); },
       .expect = {{"stdout", Eq("ok\nmkdir: EPERM\n")}, {"exit", Eq("exit 1")}}},
  };
  return cases;
}

BERTH_CONFORMANCE_SUITE(Seccomp, SeccompCases);

}  // namespace
}  // namespace berth::priv
