#include "bench/journal_gen.h"

#include <chrono>
#include <filesystem>

#include "host/open_provider.h"

namespace fs = std::filesystem;

namespace jsync::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

NewEntryInput RealisticEntry(ProseGenerator& gen) {
  NewEntryInput in;
  in.title = gen.Title();
  in.body = gen.Body(gen.rng().Range(512, 5000));
  in.tags = gen.Tags();
  return in;
}

Result<BuiltJournal> BuildJournal(const std::string& root, const JournalSpec& spec) {
  BuiltJournal out;
  out.home = root + "/home";
  out.cloud = root + "/cloud";
  std::error_code ec;
  fs::create_directories(out.cloud, ec);
  if (ec) return Status::Fatal("cannot create " + out.cloud + ": " + ec.message());

  InitOptions init;
  init.storage = provider::MakeStorageOpener();
  init.provider = "folder";
  init.location = out.cloud;
  init.passphrase = spec.passphrase;
  init.device_name = spec.device_name;
  init.scrypt.log2_n = static_cast<uint8_t>(spec.scrypt_log2n);
  JSYNC_RETURN_IF_ERROR(Journal::Init(out.home, init).status());
  JSYNC_ASSIGN_OR_RETURN(out.journal, Journal::Open(out.home, provider::MakeStorageOpener()));

  ProseGenerator gen(spec.seed);
  out.ids.reserve(spec.entries);
  auto t0 = Clock::now();
  for (uint64_t i = 0; i < spec.entries; ++i) {
    NewEntryInput in = RealisticEntry(gen);
    out.title_bytes += in.title.size();
    out.body_bytes += in.body.size();
    out.tag_count += in.tags.size();
    JSYNC_ASSIGN_OR_RETURN(RecordId id, out.journal->NewEntry(in));
    out.ids.push_back(id);
    if (spec.on_entry) spec.on_entry(id, in);
    if (spec.progress && spec.progress_every != 0 && (i + 1) % spec.progress_every == 0) {
      spec.progress(i + 1);
    }
  }
  out.write_s = Since(t0);
  if (spec.sync) {
    t0 = Clock::now();
    JSYNC_ASSIGN_OR_RETURN(SyncResult r, out.journal->Sync());
    if (!r.report.ok()) {
      return Status::Fatal("the benchmark journal's sync reported: " +
                           r.report.problems.front().message);
    }
    out.sync_s = Since(t0);
  }
  return out;
}

}  // namespace jsync::bench
