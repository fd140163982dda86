// The data directory holds every tenant's facts, graphs and index: under the
// common umask 022 nothing in it may be readable by other users of the host.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ingest/callgraph_ingest.hpp"
#include "ingest/fact_ingest.hpp"
#include "test_kernel.hpp"

namespace signals {
namespace {

namespace fs = std::filesystem;

// Restores the process umask when the test ends.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : previous_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(previous_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t previous_;
};

mode_t ModeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(DataDirectoryModes, FilesAre0640AndDirectories0750UnderUmask022) {
  ScopedUmask mask(022);
  testing::TestKernel kernel;
  ASSERT_NO_FATAL_FAILURE(kernel.Open());

  std::string graph_id;
  ASSERT_NO_FATAL_FAILURE(testing::StoreSmallCallgraph(*kernel, &graph_id));

  FactIngestRequest facts;
  facts.tenant = "global";
  facts.callgraph_id = graph_id;
  auto fact_ingest = kernel->BeginFactIngest(facts);
  ASSERT_TRUE(fact_ingest.ok()) << fact_ingest.status().ToString();
  ASSERT_TRUE((*fact_ingest)->Write("{\"symbolId\":\"a\"}\n").ok());
  auto batch = (*fact_ingest)->Finish();
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();

  const fs::path root(kernel.data_dir());
  const fs::path index = root / "index.sqlite";
  ASSERT_TRUE(fs::exists(index)) << "the default index file moved; adjust the test";
  EXPECT_EQ(ModeOf(index), 0640u) << index;

  size_t objects = 0;
  std::vector<std::string> readable_by_others;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const fs::path& path = entry.path();
    const mode_t mode = ModeOf(path);
    const std::string relative = fs::relative(path, root).string();
    if (entry.is_directory()) {
      // The signers keep their key directory 0700 on their own.
      if (mode != 0750u && mode != 0700u) readable_by_others.push_back(relative + " (directory)");
      continue;
    }
    if (relative.rfind("cas/", 0) == 0) {
      ++objects;
      EXPECT_EQ(mode, 0640u) << relative;
    }
    // Whatever else lies here (e.g. a signer's public key file) must not be
    // reachable by others: a file is, when every directory above it lets
    // others through and the file lets them read.
    bool reachable = (mode & S_IROTH) != 0;
    for (fs::path p = path.parent_path(); reachable && p != root.parent_path() && p != root;
         p = p.parent_path()) {
      reachable = (ModeOf(p) & S_IXOTH) != 0;
    }
    if (reachable) readable_by_others.push_back(relative);
  }
  EXPECT_GT(objects, 0u) << "no CAS object was written";
  EXPECT_TRUE(readable_by_others.empty())
      << "readable by others: " << ::testing::PrintToString(readable_by_others);
}

}  // namespace
}  // namespace signals
