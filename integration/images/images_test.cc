// `berth image import|export|rm|prune` and `berth run` end to end, with
// images built locally from the busybox fixture (umoci) and converted by
// skopeo to the archive formats users bring: docker-archive and
// oci-archive. Root (overlay mounts, ownership): label priv.

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <chrono>

#include "common/file.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "integration/fixtures/image_layout.h"

namespace berth::integration {
namespace {

class ImagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE(testing::IsRoot(), "root");
    rootfs_ = testing::BuiltBinary("integration/fixtures/busybox-rootfs");
    BERTH_REQUIRE(PathExists(rootfs_ + "/bin/busybox"),
                  "the busybox fixture rootfs (target berth_fixture_rootfs)");
    BERTH_REQUIRE(PathExists("/usr/bin/umoci") && PathExists("/usr/bin/skopeo"),
                  "umoci and skopeo (run .ci/setup)");
  }
  // Whatever a failed run left mounted below the temp dir goes first.
  void TearDown() override {
    std::vector<std::string> targets;
    for (const std::string& line :
         SplitNonEmpty(ReadFile("/proc/self/mountinfo").value_or(""), '\n')) {
      std::vector<std::string> f = SplitNonEmpty(line, ' ');
      if (f.size() > 4 && f[4].rfind(dir_.path() + "/", 0) == 0) targets.push_back(f[4]);
    }
    for (auto it = targets.rbegin(); it != targets.rend(); ++it) {
      ADD_FAILURE() << "left mounted: " << *it;
      ::umount2(it->c_str(), MNT_DETACH);
    }
  }

  CommandResult Berth(std::vector<std::string> args) {
    Command cmd;
    cmd.argv = {testing::BuiltBinary("cmd/berth")};
    bool is_run = !args.empty() && args[0] == "run";
    if (is_run) {
      cmd.argv.insert(cmd.argv.end(), {"run", "--root", dir_ / "images", "--containers-dir",
                                       dir_ / "containers", "--runtime-root", dir_ / "runc"});
      args.erase(args.begin());
    } else {
      cmd.argv.insert(cmd.argv.end(), {"image", "--root", dir_ / "images"});
    }
    cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
    cmd.timeout = std::chrono::seconds(120);
    Result<CommandResult> r = RunCommand(cmd);
    EXPECT_TRUE(r.ok()) << r.error().str();
    return r.ok() ? *r : CommandResult{};
  }

  std::string Layout(const std::vector<std::string>& cmd) {
    Result<std::string> layout = BuildOciLayout(rootfs_, dir_.path(), cmd);
    EXPECT_TRUE(layout.ok()) << layout.error().str();
    return layout.ok() ? *layout : "";
  }

  size_t Count(const std::string& subdir) {
    Result<std::vector<std::string>> names = ListDir(dir_ / subdir);
    return names.ok() ? names->size() : 0;
  }

  testing::TempDir dir_{"berth-images"};
  std::string rootfs_;
};

TEST_F(ImagesTest, OciArchiveImportsAndRuns) {
  std::string layout = Layout({"/bin/sh", "-c", "echo hello from oci; id -u; pwd"});
  ASSERT_TRUE(SkopeoArchive(layout, "oci-archive", dir_ / "oci.tar", "v1").ok());
  // skopeo names only the tag: the repository must be given.
  CommandResult unnamed = Berth({"import", dir_ / "oci.tar"});
  EXPECT_EQ(unnamed.exit_code, 1);
  EXPECT_NE(unnamed.err.find("names only the tag \"v1\"; give the image name with --name"),
            std::string::npos)
      << unnamed.err;
  CommandResult imported = Berth({"import", "--name", "demo/oci", dir_ / "oci.tar"});
  ASSERT_TRUE(imported.success()) << imported.err;
  EXPECT_EQ(imported.out.rfind("docker.io/demo/oci:v1 sha256:", 0), 0u) << imported.out;

  CommandResult run = Berth({"run", "demo/oci:v1"});
  EXPECT_TRUE(run.success()) << run.Describe() << run.err;
  EXPECT_EQ(run.out, "hello from oci\n0\n/\n");
  EXPECT_EQ(Count("containers"), 0u) << "the container directory is removed after the run";
}

TEST_F(ImagesTest, DockerArchiveImportsAndRunsWithArgs) {
  std::string layout = Layout({"/bin/sh"});
  ASSERT_TRUE(SkopeoArchive(layout, "docker-archive", dir_ / "docker.tar", "demo/app:v2").ok());
  CommandResult imported = Berth({"import", dir_ / "docker.tar"});
  ASSERT_TRUE(imported.success()) << imported.err;
  EXPECT_EQ(imported.out.rfind("docker.io/demo/app:v2 sha256:", 0), 0u) << imported.out;
  CommandResult ls = Berth({"ls", "-q"});
  EXPECT_EQ(ls.out, "docker.io/demo/app:v2\n");

  CommandResult run = Berth({"run", "-e", "GREETING=hi", "demo/app:v2", "/bin/sh", "-c",
                             "echo $GREETING; echo changed > /etc/motd; exit 7"});
  EXPECT_EQ(run.exit_code, 7) << run.Describe() << run.err;
  EXPECT_EQ(run.out, "hi\n");
  // Users by name, from the image's /etc/passwd and /etc/group.
  CommandResult as_user = Berth({"run", "-u", "berth", "demo/app:v2", "/bin/sh", "-c", "id; pwd"});
  EXPECT_TRUE(as_user.success()) << as_user.err;
  EXPECT_EQ(as_user.out, "uid=1000(berth) gid=1000(berth) groups=1001(berthaux)\n/\n");
  CommandResult ghost = Berth({"run", "-u", "ghost", "demo/app:v2", "id"});
  EXPECT_EQ(ghost.exit_code, 125);
  EXPECT_NE(ghost.err.find("no user \"ghost\" in /etc/passwd"), std::string::npos) << ghost.err;
  // Each run starts from the image: the write went to a removed upper layer.
  CommandResult again = Berth({"run", "demo/app:v2", "/bin/sh", "-c", "cat /etc/motd 2>&1; true"});
  EXPECT_TRUE(again.success()) << again.err;
  EXPECT_EQ(again.out.find("changed"), std::string::npos) << again.out;
}

TEST_F(ImagesTest, ExportRemovePruneReimport) {
  std::string layout = Layout({"/bin/true"});
  ASSERT_TRUE(SkopeoArchive(layout, "oci-archive", dir_ / "in.tar", "v1").ok());
  ASSERT_TRUE(Berth({"import", "--name", "demo/round", dir_ / "in.tar"}).success());
  ASSERT_TRUE(Berth({"export", "-o", dir_ / "out.tar", "demo/round:v1"}).success());
  size_t blobs = Count("images/content/blobs/sha256");
  EXPECT_EQ(blobs, 3u) << "manifest, config, one layer";
  EXPECT_EQ(Count("images/snapshots"), 1u);

  ASSERT_TRUE(Berth({"rm", "demo/round:v1"}).success());
  CommandResult gone = Berth({"inspect", "demo/round:v1"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("not found"), std::string::npos) << gone.err;
  CommandResult pruned = Berth({"prune"});
  ASSERT_TRUE(pruned.success()) << pruned.err;
  EXPECT_EQ(Count("images/content/blobs/sha256"), 0u) << pruned.out;
  EXPECT_EQ(Count("images/snapshots"), 0u) << pruned.out;

  // The export names the image itself (io.containerd.image.name).
  CommandResult back = Berth({"import", dir_ / "out.tar"});
  ASSERT_TRUE(back.success()) << back.err;
  EXPECT_EQ(back.out.rfind("docker.io/demo/round:v1 ", 0), 0u) << back.out;
  EXPECT_TRUE(Berth({"run", "demo/round:v1"}).success());
}

TEST_F(ImagesTest, ArchiveEscapingItsDirectoryIsRefused) {
  // A tar whose member climbs out, written with Python's tarfile (GNU tar
  // strips "../" when creating).
  Command py;
  py.argv = {"/usr/bin/python3", "-c",
             "import io,sys,tarfile\n"
             "t=tarfile.open(sys.argv[1],'w')\n"
             "d=b'evil'\n"
             "i=tarfile.TarInfo('../../outside-berth-test')\n"
             "i.size=len(d)\n"
             "t.addfile(i,io.BytesIO(d))\n"
             "t.close()\n",
             dir_ / "evil.tar"};
  ASSERT_TRUE(RunCommand(py)->success());
  CommandResult r = Berth({"import", "--name", "evil", dir_ / "evil.tar"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("entry \"../../outside-berth-test\" points outside the archive"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(PathExists(Dirname(dir_.path()) + "/outside-berth-test"));
  EXPECT_EQ(Count("images/content/ingest"), 0u) << "the import's scratch directory is removed";
}

}  // namespace
}  // namespace berth::integration
