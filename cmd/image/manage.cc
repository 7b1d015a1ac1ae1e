// `berth image rm|prune|import|export`.

#include <cstdio>

#include "cmd/image/cli.h"
#include "runtime/image/archive_import.h"

namespace berth::cli::image {

int Remove(Context& ctx, const Args& args) {
  FlagSet flags("rm");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail("rm", pos.error());
  if (pos->empty())
    return Fail("rm", Error(Errc::kInvalidArgument, "usage: berth image rm REF..."));
  Result<img::ImageRoot> root = OpenRoot(ctx);
  if (!root.ok()) return Fail("rm", root.error());
  int status = 0;
  for (const std::string& name : *pos) {
    Result<img::ImageRecord> r = root->Find(name);
    Status removed = r.ok() ? root->images().Remove(r->name) : Status(r.error());
    if (!removed.ok()) {
      status = Fail("rm", removed.error());
      continue;
    }
    std::printf("%s\n", r->name.c_str());
  }
  return status;
}

int Prune(Context& ctx, const Args& args) {
  FlagSet flags("prune");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail("prune", pos.error());
  Result<img::ImageRoot> root = OpenRoot(ctx);
  if (!root.ok()) return Fail("prune", root.error());
  Result<img::PruneReport> report = root->Prune();
  if (!report.ok()) return Fail("prune", report.error());
  for (const img::Digest& d : report->blobs)
    std::printf("blob %s\n", d.str().c_str());
  for (const img::Digest& d : report->snapshots)
    std::printf("snapshot %s\n", d.str().c_str());
  std::printf("reclaimed %s\n", HumanSize(report->bytes).c_str());
  return 0;
}

int Import(Context& ctx, const Args& args) {
  img::ImportOptions options;
  bool no_unpack = false;
  FlagSet flags("import");
  flags.String("name", &options.base_name,
               "image name for archives that name only a tag, or nothing");
  flags.Bool("no-unpack", &no_unpack, "store the content without unpacking it");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail("import", pos.error());
  if (pos->size() != 1) {
    return Fail("import",
                Error(Errc::kInvalidArgument, "usage: berth image import [--name NAME] FILE"));
  }
  Result<img::ImageRoot> root = OpenRoot(ctx);
  if (!root.ok()) return Fail("import", root.error());
  Result<std::vector<img::ImageRecord>> records =
      img::ImportArchive(root->content(), root->images(), pos->front(), options);
  if (!records.ok()) return Fail("import", records.error());
  for (const img::ImageRecord& r : *records) {
    if (!no_unpack) {
      Result<img::UnpackedImage> unpacked = root->Unpack(r, img::HostPlatform());
      if (!unpacked.ok())
        return Fail("import", std::move(unpacked).error().Wrap("unpack " + r.name));
    }
    std::printf("%s %s\n", r.name.c_str(), r.target.digest.str().c_str());
  }
  return 0;
}

int Export(Context& ctx, const Args& args) {
  std::string output;
  FlagSet flags("export");
  flags.String("output,o", &output, "the archive to write");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail("export", pos.error());
  if (pos->empty() || output.empty()) {
    return Fail("export",
                Error(Errc::kInvalidArgument, "usage: berth image export -o FILE REF..."));
  }
  Result<img::ImageRoot> root = OpenRoot(ctx);
  if (!root.ok()) return Fail("export", root.error());
  std::vector<img::ImageRecord> records;
  for (const std::string& name : *pos) {
    Result<img::ImageRecord> r = root->Find(name);
    if (!r.ok()) return Fail("export", r.error());
    records.push_back(*r);
  }
  Status s = img::ExportArchive(root->content(), records, output);
  if (!s.ok()) return Fail("export", s.error());
  return 0;
}

}  // namespace berth::cli::image
