// The iCloud Drive folder provider (providers/icloud_drive) on plain folders, through its C
// table: what iCloud does to a synced folder (reference/icloud.md §6) made by hand. Evicted
// ".name.icloud" stubs are listed as the object with its real size and never written over;
// a get of one asks for the download and is retryable; iCloud's duplicates are removed when
// identical and otherwise kept, reported once and listed as no object; uploads are written
// outside the synced tree; a read that outlasts read_timeout_ms is retryable; every error is
// one line.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__linux__)
#include <poll.h>
#include <sys/inotify.h>
#endif

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/plugin_loader.h"
#include "providers/sdk/jsync_provider.h"
#include "tests/support/test_support.h"

#ifndef JSYNC_ICLOUD_DRIVE_PLUGIN
#define JSYNC_ICLOUD_DRIVE_PLUGIN ""
#endif

namespace jsync {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Entry {
  std::string path;
  uint64_t size = 0;
  uint32_t kind = 0;
  uint32_t flags = 0;
};

std::string Stub(const std::string& name, uint64_t size) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
         "\t<key>NSURLFileSizeKey</key>\n\t<integer>" +
         std::to_string(size) + "</integer>\n\t<key>NSURLNameKey</key>\n\t<string>" + name +
         "</string>\n</dict>\n</plist>\n";
}

// The binary form Apple writes ("bplist00"): {NSURLFileSizeKey: size, NSURLNameKey: "x.jchg"},
// one-byte offsets and references, the size a two-byte integer.
std::string BinaryStub(uint16_t size) {
  std::string b = "bplist00";
  b += std::string("\xD2\x01\x02\x03\x04", 5);               // 8: the dictionary
  b += std::string("\x5F\x10\x10", 3) + "NSURLFileSizeKey";  // 13: a string, length 16
  b += "\x5C" + std::string("NSURLNameKey");                 // 32: a string of 12
  b += std::string("\x11") + static_cast<char>(size >> 8) + static_cast<char>(size & 0xff);  // 45
  b += "\x56" + std::string("x.jchg");                                                       // 48
  b += std::string("\x08\x0D\x20\x2D\x30", 5);  // 55: the offset table
  b += std::string(6, '\0') + "\x01\x01";       // trailer: sizes
  b += std::string(7, '\0') + "\x05" + std::string(8, '\0') + std::string(7, '\0') + "\x37";
  return b;
}

// The plugin's table with a host services table of our own (the log captured).
class IcloudDrivePluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string(JSYNC_ICLOUD_DRIVE_PLUGIN).empty()) GTEST_SKIP() << "built without the plugin";
    auto plugin = provider::LoadPlugin(JSYNC_ICLOUD_DRIVE_PLUGIN);
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    plugin_ = *plugin;
    services_ = {JSYNC_PROVIDER_ABI_VERSION,
                 sizeof(jsync_host_services),
                 this,
                 nullptr,
                 &IcloudDrivePluginTest::Log,
                 &IcloudDrivePluginTest::Now,
                 &IcloudDrivePluginTest::Random,
                 nullptr};
    fs::create_directories(root());
  }
  void TearDown() override {
    if (inst_ != nullptr) plugin_.table->close(inst_);
    ::unsetenv("JSYNC_ICLOUD_DRIVE_TEST_READ_DELAY_MS");
  }

  fs::path root() const { return dir_.path() / "iCloud Drive" / "JournalSync"; }
  fs::path staging() const { return dir_.path() / "staging"; }

  // Opens at root() (or location) with these options; the code, err filled.
  int OpenWith(json options, const std::string& location = "") {
    if (!options.contains("staging")) options["staging"] = staging().string();
    const std::string where = location.empty() ? root().string() : location;
    const std::string config = options.dump();
    jsync_open_args args{sizeof(jsync_open_args), 0, where.c_str(), config.c_str()};
    if (inst_ != nullptr) plugin_.table->close(inst_);
    inst_ = nullptr;
    return plugin_.table->open_ex(&services_, &args, &inst_, Clear());
  }
  void Open(json options = json::object()) {
    ASSERT_EQ(OpenWith(std::move(options)), JSYNC_OK) << err_.message;
  }

  int Put(const std::string& path, const std::string& bytes, int if_absent = 1) {
    return plugin_.table->put(inst_, path.c_str(), reinterpret_cast<const uint8_t*>(bytes.data()),
                              bytes.size(), if_absent, Clear());
  }
  int Get(const std::string& path, std::string* out) {
    out->clear();
    jsync_get_sink sink{{out,
                         [](void* ctx, const uint8_t* d, size_t n) {
                           static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(d),
                                                                  n);
                           return 0;
                         }},
                        nullptr};
    return plugin_.table->get(inst_, path.c_str(), 0, UINT64_MAX, &sink.sink, Clear());
  }
  std::map<std::string, Entry> List(const std::string& prefix = "") {
    std::map<std::string, Entry> all;
    jsync_list_sink sink{&all, [](void*, const char*, uint64_t) { ADD_FAILURE() << "emit used"; },
                         [](void*, const char*) {},
                         [](void* ctx, const jsync_list_entry* e) {
                           (*static_cast<std::map<std::string, Entry>*>(ctx))[e->path] =
                               Entry{e->path, e->size, e->kind, e->flags};
                         }};
    EXPECT_EQ(plugin_.table->list(inst_, prefix.c_str(), "", &sink, Clear()), JSYNC_OK)
        << err_.message;
    return all;
  }
  void Write(const std::string& rel, const std::string& bytes) {
    fs::create_directories((root() / rel).parent_path());
    testing::WriteFileBytes(root() / rel, bytes);
  }
  int Logged(const std::string& needle) const {
    int n = 0;
    for (const auto& l : logs_) n += l.find(needle) != std::string::npos;
    return n;
  }
  jsync_error* Clear() {
    err_.retry_after_ms = -1;
    err_.message[0] = '\0';
    return &err_;
  }
  std::string Message() const { return err_.message; }

  static void Log(void* host, int, const char* message) {
    static_cast<IcloudDrivePluginTest*>(host)->logs_.emplace_back(message);
  }
  static int64_t Now(void*) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static void Random(void*, uint8_t* out, size_t len) {
    static uint64_t state = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < len; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      out[i] = static_cast<uint8_t>(state >> 56);
    }
  }

  testing::TempDir dir_;
  provider::PluginInfo plugin_;
  jsync_host_services services_{};
  jsync_instance* inst_ = nullptr;
  jsync_error err_{};
  std::vector<std::string> logs_;
};

TEST_F(IcloudDrivePluginTest, DeclaresNoQuotaAndNeedsALocationOffApple) {
  EXPECT_EQ(plugin_.name, "icloud-drive");
  EXPECT_FALSE(plugin_.capabilities.quota);
  EXPECT_EQ(plugin_.table->quota, nullptr);
#if defined(__linux__)
  EXPECT_TRUE(plugin_.location.required);
  EXPECT_NE(
      plugin_.location.help.find("iCloud Drive has no Linux client, so a location must be given"),
      std::string::npos)
      << plugin_.location.help;
  jsync_open_args args{sizeof(jsync_open_args), 0, "", "{}"};
  EXPECT_EQ(plugin_.table->open_ex(&services_, &args, &inst_, Clear()), JSYNC_INVALID);
  EXPECT_NE(Message().find("iCloud Drive has no Linux client"), std::string::npos) << Message();
#elif defined(__APPLE__)
  EXPECT_FALSE(plugin_.location.required);
#endif
}

TEST_F(IcloudDrivePluginTest, AStubIsListedAsTheObjectWithItsRealSize) {
  Open();
  ASSERT_EQ(Put("changes/dev/0000000000000001.jchg", "one"), JSYNC_OK) << Message();
  Write("changes/dev/.0000000000000002.jchg.icloud", Stub("0000000000000002.jchg", 1234));
  Write("changes/dev/.0000000000000003.jchg.icloud", "not a plist");  // size unknown
  Write("changes/dev/.0000000000000005.jchg.icloud", BinaryStub(4321));
  // Half hydrated: the file and its stub at once; the file is listed, once.
  Write("changes/dev/0000000000000004.jchg", "four");
  Write("changes/dev/.0000000000000004.jchg.icloud", Stub("0000000000000004.jchg", 4));
  const auto all = List("changes/");
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all.at("changes/dev/0000000000000005.jchg").size, 4321u);
  EXPECT_EQ(all.at("changes/dev/0000000000000001.jchg").size, 3u);
  EXPECT_EQ(all.at("changes/dev/0000000000000002.jchg").size, 1234u);
  EXPECT_EQ(all.at("changes/dev/0000000000000002.jchg").kind, JSYNC_KIND_FILE);
  EXPECT_EQ(all.at("changes/dev/0000000000000003.jchg").size, std::string("not a plist").size());
  EXPECT_EQ(all.at("changes/dev/0000000000000004.jchg").size, 4u);
  // A prefix naming the real name finds the stub's object.
  EXPECT_EQ(List("changes/dev/0000000000000002").size(), 1u);
}

TEST_F(IcloudDrivePluginTest, APutNeverWritesPastAStub) {
  Open();
  Write("keys/.k1.jkey.icloud", Stub("k1.jkey", 5));
  const std::string stub_before = testing::ReadFileBytes(root() / "keys/.k1.jkey.icloud");
  // Another size: other bytes for certain.
  EXPECT_EQ(Put("keys/k1.jkey", "seven b"), JSYNC_EXISTS) << Message();
  EXPECT_NE(Message().find("not downloaded"), std::string::npos) << Message();
  // The same size: compared once downloaded; until then retryable, nothing written.
  EXPECT_EQ(JSYNC_PRIMARY(Put("keys/k1.jkey", "five!")), JSYNC_RETRYABLE) << Message();
  EXPECT_NE(Message().find("not downloaded yet"), std::string::npos) << Message();
  EXPECT_FALSE(fs::exists(root() / "keys/k1.jkey"));
  EXPECT_EQ(testing::ReadFileBytes(root() / "keys/.k1.jkey.icloud"), stub_before);
  // A stub name is no object name.
  EXPECT_EQ(Put("keys/.k2.jkey.icloud", "x"), JSYNC_INVALID);
}

TEST_F(IcloudDrivePluginTest, AGetOfAStubAsksForTheDownloadAndIsRetryable) {
  Open();
  Write("devices/.d1.jdev.icloud", Stub("d1.jdev", 40));
#if defined(__linux__)
  const int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(in, 0);
  ASSERT_GE(inotify_add_watch(in, (root() / "devices").c_str(), IN_CLOSE_WRITE | IN_CLOSE_NOWRITE),
            0);
#endif
  // Listing reads the stub: no download request.
  EXPECT_EQ(List("devices/").at("devices/d1.jdev").size, 40u);
  std::string bytes;
  const int rc = Get("devices/d1.jdev", &bytes);
  EXPECT_EQ(JSYNC_PRIMARY(rc), JSYNC_RETRYABLE) << Message();
  EXPECT_EQ(Message(),
            "devices/d1.jdev is in iCloud but not downloaded yet; asked iCloud to "
            "download it, try again later");
#if defined(__linux__)
  // The request is an open for writing with nothing written (the simulator's signal); the
  // listing's read was not one.
  int writes = 0, reads = 0;
  alignas(inotify_event) char buf[4096];
  for (ssize_t n; (n = ::read(in, buf, sizeof buf)) > 0;) {
    for (char* p = buf; p < buf + n;) {
      auto* e = reinterpret_cast<inotify_event*>(p);
      if (e->len > 0 && std::string(e->name) == ".d1.jdev.icloud") {
        writes += (e->mask & IN_CLOSE_WRITE) != 0;
        reads += (e->mask & IN_CLOSE_NOWRITE) != 0;
      }
      p += sizeof(inotify_event) + e->len;
    }
  }
  ::close(in);
  EXPECT_EQ(writes, 1);
  EXPECT_GE(reads, 1);
#endif
  EXPECT_EQ(testing::ReadFileBytes(root() / "devices/.d1.jdev.icloud"), Stub("d1.jdev", 40));
  // Once downloaded it reads like any file; a removal takes the stub too.
  Write("devices/d1.jdev", std::string(40, 'd'));
  ASSERT_EQ(Get("devices/d1.jdev", &bytes), JSYNC_OK) << Message();
  EXPECT_EQ(bytes, std::string(40, 'd'));
  ASSERT_EQ(plugin_.table->remove(inst_, "devices/d1.jdev", Clear()), JSYNC_OK) << Message();
  EXPECT_FALSE(fs::exists(root() / "devices/.d1.jdev.icloud"));
  EXPECT_TRUE(List().empty());
}

TEST_F(IcloudDrivePluginTest, IdenticalDuplicatesAreRemoved) {
  Open();
  ASSERT_EQ(Put("changes/dev/0000000000000001.jchg", "sealed bytes"), JSYNC_OK) << Message();
  for (const char* copy : {"0000000000000001 2.jchg", "0000000000000001(1).jchg",
                           "0000000000000001(1)(2)(2).jchg", "0000000000000001_2.jchg"}) {
    Write(std::string("changes/dev/") + copy, "sealed bytes");
  }
  const auto all = List();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all.begin()->first, "changes/dev/0000000000000001.jchg");
  EXPECT_EQ(testing::ListFiles(root()).size(), 1u);
  EXPECT_EQ(Logged("with the same bytes"), 4);
}

TEST_F(IcloudDrivePluginTest, DifferingDuplicatesAreKeptReportedAndNoObject) {
  Open();
  ASSERT_EQ(Put("changes/dev/0000000000000001.jchg", "sealed bytes"), JSYNC_OK) << Message();
  Write("changes/dev/0000000000000001 2.jchg", "other bytes!");
  Write("changes/dev/.0000000000000002.jchg.icloud", Stub("0000000000000002.jchg", 9));
  Write("changes/dev/0000000000000002(1).jchg", "cannot be compared yet");
  // A duplicate evicted in its turn is still a duplicate.
  Write("changes/dev/.0000000000000001_2.jchg.icloud", Stub("0000000000000001_2.jchg", 12));
  for (int round = 0; round < 2; ++round) {
    const auto all = List();
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all.at("changes/dev/0000000000000001_2.jchg").kind, JSYNC_KIND_SPECIAL);
    EXPECT_EQ(all.at("changes/dev/0000000000000001.jchg").kind, JSYNC_KIND_FILE);
    EXPECT_EQ(all.at("changes/dev/0000000000000002.jchg").kind, JSYNC_KIND_FILE);
    EXPECT_EQ(all.at("changes/dev/0000000000000001 2.jchg").kind, JSYNC_KIND_SPECIAL);
    EXPECT_EQ(all.at("changes/dev/0000000000000002(1).jchg").kind, JSYNC_KIND_SPECIAL);
  }
  EXPECT_TRUE(fs::exists(root() / "changes/dev/0000000000000001 2.jchg"));
  // Reported once per copy, however often it is listed.
  EXPECT_EQ(Logged("kept changes/dev/0000000000000001 2.jchg"), 1);
  EXPECT_EQ(Logged("kept changes/dev/0000000000000002(1).jchg"), 1);
  std::string bytes;
  EXPECT_EQ(Get("changes/dev/0000000000000001 2.jchg", &bytes), JSYNC_FATAL_NOT_A_FILE);
  EXPECT_TRUE(bytes.empty());
  EXPECT_NE(Message().find("a copy iCloud made of 0000000000000001.jchg"), std::string::npos)
      << Message();
  EXPECT_EQ(Get("changes/dev/0000000000000001_2.jchg", &bytes), JSYNC_FATAL_NOT_A_FILE);
  // Without its original a look-alike name is just a file (the engine ignores stray names).
  Write("other/x 2.txt", "x");
  EXPECT_EQ(List("other/").at("other/x 2.txt").kind, JSYNC_KIND_FILE);
}

TEST_F(IcloudDrivePluginTest, UploadsAreWrittenOutsideTheSyncedTree) {
#if defined(__linux__)
  Open();
  fs::create_directories(root() / "changes/dev");
  const int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(in, 0);
  ASSERT_GE(inotify_add_watch(in, (root() / "changes/dev").c_str(),
                              IN_CREATE | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE),
            0);
  const std::string big(300000, 'b');
  ASSERT_EQ(Put("changes/dev/0000000000000001.jchg", big), JSYNC_OK) << Message();
  ASSERT_EQ(Put("changes/dev/0000000000000001.jchg", big), JSYNC_OK) << "a retried upload";
  ASSERT_EQ(Put("changes/dev/0000000000000002.jchg", "two", 0), JSYNC_OK) << Message();
  EXPECT_EQ(Put("changes/dev/0000000000000001.jchg", "other"), JSYNC_EXISTS);
  std::vector<std::string> seen;
  alignas(inotify_event) char buf[4096];
  for (ssize_t n; (n = ::read(in, buf, sizeof buf)) > 0;) {
    for (char* p = buf; p < buf + n;) {
      auto* e = reinterpret_cast<inotify_event*>(p);
      if (e->len > 0) seen.push_back(e->name + std::string(e->mask & IN_MODIFY ? " modified" : ""));
      p += sizeof(inotify_event) + e->len;
    }
  }
  ::close(in);
  // Only finished files appeared in the tree, each by one link or rename, never written there.
  EXPECT_EQ(seen, (std::vector<std::string>{"0000000000000001.jchg", "0000000000000002.jchg"}));
  EXPECT_EQ(testing::ReadFileBytes(root() / "changes/dev/0000000000000001.jchg"), big);
  EXPECT_TRUE(fs::is_empty(staging()));
  // A cache cleaner may take the staging folder away: it is made again.
  fs::remove_all(staging());
  ASSERT_EQ(Put("changes/dev/0000000000000003.jchg", "three"), JSYNC_OK) << Message();
  EXPECT_TRUE(fs::is_directory(staging()));
#else
  GTEST_SKIP() << "watches the folder with inotify";
#endif
}

TEST_F(IcloudDrivePluginTest, AStagingFolderInsideTheTreeIsRefused) {
  EXPECT_EQ(OpenWith({{"staging", (root() / "tmp").string()}}), JSYNC_INVALID);
  EXPECT_NE(Message().find("is inside the location"), std::string::npos) << Message();
  EXPECT_EQ(Message().find('\n'), std::string::npos);
  EXPECT_FALSE(fs::exists(root() / "tmp"));
}

TEST_F(IcloudDrivePluginTest, AStagingFolderOnAnotherVolumeIsRefused) {
  // /dev/shm is a tmpfs of its own on Linux; elsewhere (or when it is the same volume as the
  // temp folder) there is nothing to test.
  struct stat a {
  }, b{};
  if (::stat("/dev/shm", &a) != 0 || ::stat(root().c_str(), &b) != 0 || a.st_dev == b.st_dev) {
    GTEST_SKIP() << "no second volume";
  }
  const fs::path other =
      fs::path("/dev/shm") / ("jsync-icloud-staging-" + std::to_string(::getpid()));
  EXPECT_EQ(OpenWith({{"staging", other.string()}}), JSYNC_INVALID);
  EXPECT_NE(Message().find("is on another volume"), std::string::npos) << Message();
  EXPECT_NE(Message().find("set the option staging"), std::string::npos) << Message();
  std::error_code ec;
  fs::remove_all(other, ec);
}

TEST_F(IcloudDrivePluginTest, AReadThatOutlastsTheTimeoutIsRetryable) {
  Open({{"read_timeout_ms", "150"}});
  ASSERT_EQ(Put("changes/dev/0000000000000001.jchg", "slow bytes"), JSYNC_OK) << Message();
  // As a dataless file's first read blocks while fileproviderd downloads it.
  ::setenv("JSYNC_ICLOUD_DRIVE_TEST_READ_DELAY_MS", "5000", 1);
  const auto start = std::chrono::steady_clock::now();
  std::string bytes;
  const int rc = Get("changes/dev/0000000000000001.jchg", &bytes);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(JSYNC_PRIMARY(rc), JSYNC_RETRYABLE) << Message();
  EXPECT_NE(Message().find("the file is still downloading from iCloud"), std::string::npos)
      << Message();
  EXPECT_LT(took, std::chrono::seconds(3));
  // The comparison of a retried upload waits the same way.
  EXPECT_EQ(JSYNC_PRIMARY(Put("changes/dev/0000000000000001.jchg", "slow bytes")), JSYNC_RETRYABLE);
  ::unsetenv("JSYNC_ICLOUD_DRIVE_TEST_READ_DELAY_MS");
  ASSERT_EQ(Get("changes/dev/0000000000000001.jchg", &bytes), JSYNC_OK) << Message();
  EXPECT_EQ(bytes, "slow bytes");
}

TEST_F(IcloudDrivePluginTest, ErrorsAreOneClearLine) {
  EXPECT_EQ(OpenWith({}, (dir_.path() / "no such folder").string()), JSYNC_FATAL);
  EXPECT_NE(Message().find("does not exist or is not a directory (is iCloud Drive on"),
            std::string::npos)
      << Message();
  EXPECT_EQ(OpenWith({{"read_timeout_ms", "soon"}}), JSYNC_INVALID);
  EXPECT_NE(Message().find("read_timeout_ms must be"), std::string::npos) << Message();
  Open();
  Write("changes/dev", "a file where a folder belongs");
  EXPECT_EQ(Put("changes/dev/0000000000000001.jchg", "x"), JSYNC_FATAL_NOT_A_FILE);
  EXPECT_NE(Message().find("is a file where a folder belongs"), std::string::npos) << Message();
  std::string bytes;
  EXPECT_EQ(Get("nothing/here", &bytes), JSYNC_NOT_FOUND);
  for (const std::string& l : logs_) EXPECT_EQ(l.find('\n'), std::string::npos) << l;
  EXPECT_EQ(Message().find('\n'), std::string::npos);
}

}  // namespace
}  // namespace jsync
