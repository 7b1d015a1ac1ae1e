// Machine facts read from a fake /proc, /sys and /etc, and from the real
// machine.

#include "agent/node/machine_info.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::agent {
namespace {

class MachineInfoTest : public ::testing::Test {
 protected:
  void Put(const std::string& path, const std::string& text) {
    ASSERT_TRUE(MkdirAll(Dirname(dir_ / path)).ok());
    ASSERT_TRUE(WriteFile(dir_ / path, text).ok());
  }
  MachinePaths Paths() const { return {dir_ / "proc", dir_ / "sys", dir_ / "etc"}; }

  berth::testing::TempDir dir_{"berth-machine-info"};
};

TEST_F(MachineInfoTest, ReadsTheFakeTree) {
  Put("proc/meminfo", "MemTotal:       16318024 kB\nMemFree:  1 kB\nMemAvailable:    8000000 kB\n");
  Put("proc/sys/kernel/random/boot_id", "b00710d0-0000-4000-8000-000000000001\n");
  Put("proc/sys/kernel/pid_max", "4194304\n");
  Put("proc/sys/kernel/threads-max", "126000\n");
  Put("proc/loadavg", "0.10 0.20 0.30 2/731 4242\n");
  Put("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "4\n");
  Put("sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "0\n");
  Put("etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  Put("etc/os-release",
      "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");

  auto m = ReadMachineInfo(Paths());
  ASSERT_TRUE(m.ok()) << m.error().str();
  EXPECT_GE(m->milli_cpu, 1000);
  EXPECT_EQ(m->milli_cpu % 1000, 0);
  EXPECT_EQ(m->memory_bytes, 16318024LL * 1024);
  EXPECT_EQ(m->hugepages.at("hugepages-2Mi"), 8LL << 20);
  EXPECT_EQ(m->hugepages.at("hugepages-1Gi"), 0);
  EXPECT_EQ(m->machine_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(m->system_uuid, m->machine_id) << "no readable product_uuid";
  EXPECT_EQ(m->boot_id, "b00710d0-0000-4000-8000-000000000001");
  EXPECT_EQ(m->os_image, "Debian GNU/Linux 12 (bookworm)");
  EXPECT_FALSE(m->kernel_version.empty());
  EXPECT_EQ(m->architecture, GoArch());

  Put("sys/class/dmi/id/product_uuid", "EC2E1916-9099-7CAA-FD21-012345ABCDEF\n");
  EXPECT_EQ(ReadMachineInfo(Paths())->system_uuid, "EC2E1916-9099-7CAA-FD21-012345ABCDEF");

  auto mem = ReadMemoryStats(Paths());
  ASSERT_TRUE(mem.ok());
  EXPECT_EQ(mem->available_bytes, 8000000LL * 1024);
  auto pids = ReadPidStats(Paths());
  ASSERT_TRUE(pids.ok()) << pids.error().str();
  EXPECT_EQ(pids->max, 126000);
  EXPECT_EQ(pids->running, 731);
}

TEST_F(MachineInfoTest, MissingPiecesAndErrors) {
  Put("proc/meminfo", "MemTotal: 1024 kB\n");
  auto m = ReadMachineInfo(Paths());
  ASSERT_FALSE(m.ok()) << "no MemAvailable";
  EXPECT_NE(m.error().str().find("meminfo"), std::string::npos);
  Put("proc/meminfo", "MemTotal: 1024 kB\nMemAvailable: 512 kB\n");
  m = ReadMachineInfo(Paths());
  ASSERT_TRUE(m.ok()) << m.error().str();
  EXPECT_EQ(m->os_image, "Linux");
  EXPECT_TRUE(m->hugepages.empty());
  EXPECT_FALSE(ReadPidStats(Paths()).ok());
}

TEST(MachineInfoRealTest, ThisMachine) {
  auto m = ReadMachineInfo();
  ASSERT_TRUE(m.ok()) << m.error().str();
  EXPECT_GT(m->memory_bytes, 0);
  EXPECT_FALSE(m->boot_id.empty());
  auto fs = StatFs("/");
  ASSERT_TRUE(fs.ok()) << fs.error().str();
  EXPECT_GT(fs->capacity_bytes, 0);
  EXPECT_FALSE(StatFs("/no/such/dir").ok());
  auto pids = ReadPidStats();
  ASSERT_TRUE(pids.ok()) << pids.error().str();
  EXPECT_GT(pids->max, pids->running);
}

}  // namespace
}  // namespace berth::agent
