// TestKernel: a Kernel over a fresh temp data directory, built from the real
// cas-fs, index-sqlite and signer-ed25519 plugins of the build tree and the
// embedded default configuration, for in-process pipeline tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analysis/analysis_ops.hpp"
#include "base/zstd_frame_reader.hpp"
#include "config/kernel_config.hpp"
#include "config/settings.hpp"
#include "core/kernel.hpp"
#include "ingest/callgraph_ingest.hpp"
#include "plugin/plugin_registry.hpp"

namespace signals::testing {

class TestKernel {
 public:
  // The plugins of the build tree, loaded once per process.
  static PluginRegistry& Registry() {
    static PluginRegistry* registry = [] {
      auto* r = new PluginRegistry();
      for (const auto& problem : r->LoadDirectory(SIGNALS_BUILD_PLUGIN_DIR)) {
        std::cerr << "plugin not loaded (ignored): " << problem << "\n";
      }
      return r;
    }();
    return *registry;
  }

  TestKernel() {
    std::string pattern = (std::filesystem::temp_directory_path() / "signals-kernel-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) data_dir_ = pattern;
  }
  ~TestKernel() {
    kernel_.reset();
    if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_);
  }
  TestKernel(const TestKernel&) = delete;
  TestKernel& operator=(const TestKernel&) = delete;

  // (Re)opens the kernel with "section.key" → value overrides. Use with
  // ASSERT_NO_FATAL_FAILURE.
  void Open(const std::map<std::string, std::string>& overrides = {}) {
    kernel_.reset();
    ASSERT_FALSE(data_dir_.empty()) << "no temp data directory";
    for (const char* name : {"cas-fs", "index-sqlite", "signer-ed25519"}) {
      ASSERT_NE(Registry().Find(name), nullptr) << name << " not found in " << SIGNALS_BUILD_PLUGIN_DIR;
    }
    SettingsSources sources;
    sources.data_dir = data_dir_;
    auto settings = LoadSettings(sources);
    ASSERT_TRUE(settings.ok()) << settings.status().ToString();
    settings->Set("kernel", "plugin_dir", SIGNALS_BUILD_PLUGIN_DIR, "test");
    for (const auto& [name, value] : overrides) {
      size_t dot = name.rfind('.');
      settings->Set(name.substr(0, dot), name.substr(dot + 1), value, "test");
    }
    auto config = ResolveConfig(*settings, Registry());
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    auto kernel = Kernel::Open(std::move(*config));
    ASSERT_TRUE(kernel.ok()) << kernel.status().ToString();
    kernel_ = std::move(*kernel);
    RegisterAnalysisOps(kernel_->service());  // the reachability.* ops, as signalsd serves them
  }

  // Closes the kernel (and so the index), e.g. to delete the index file.
  void Close() { kernel_.reset(); }

  Kernel& operator*() { return *kernel_; }
  Kernel* operator->() { return kernel_.get(); }
  const std::string& data_dir() const { return data_dir_; }

  // The file of CAS object `key` (under the root and the bucket directory), or
  // "" when there is none.
  std::string ObjectPath(const std::string& key) const {
    for (const auto& f : CasFiles()) {
      if (f == key || (f.size() > key.size() &&
                       f.compare(f.size() - key.size() - 1, std::string::npos, "/" + key) == 0)) {
        return (std::filesystem::path(data_dir_) / "cas" / f).string();
      }
    }
    return "";
  }

  // Every regular file under the CAS root, relative to it: objects and temp files.
  std::vector<std::string> CasFiles() const {
    std::vector<std::string> files;
    std::filesystem::path root = std::filesystem::path(data_dir_) / "cas";
    if (!std::filesystem::exists(root)) return files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (!entry.is_directory()) files.push_back(std::filesystem::relative(entry.path(), root).string());
    }
    return files;
  }

 private:
  std::string data_dir_;
  std::unique_ptr<Kernel> kernel_;
};

// Facts must name a stored callgraph: this stores a small one of `global`
// (the java component pkg:maven/com.example/svc@1.0.0 by default) and sets
// *graph_id, and *digest when given. Use with ASSERT_NO_FATAL_FAILURE.
inline constexpr char kSmallCallgraph[] =
    R"({"nodes":[{"id":"a"},{"id":"b"}],"edges":[{"from":"a","to":"b"}]})";
inline void StoreSmallCallgraph(Kernel& kernel, std::string* graph_id, std::string* digest = nullptr,
                                const std::string& body = kSmallCallgraph) {
  CallgraphIngestRequest request;
  request.tenant = "global";
  request.component_purl = "pkg:maven/com.example/svc@1.0.0";
  request.language = "java";
  request.source = "unit-test";
  auto ingest = kernel.BeginCallgraphIngest(request);
  ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
  ASSERT_TRUE((*ingest)->Write(body).ok());
  auto result = (*ingest)->Finish();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  *graph_id = result->graph_id;
  if (digest != nullptr) *digest = result->manifest.at("digest");
}

// The decompressed content of the stored blob `key` (a zstd frame in the
// CAS); a failed read or decode is a test failure, and gives what was read.
inline std::string ReadStoredBlob(Kernel& kernel, const std::string& key) {
  auto reader = kernel.cas().Open(key);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return {};
  std::string plain;
  ZstdFrameReader zstd([&](std::string_view bytes) {
    plain.append(bytes);
    return Status::Ok();
  });
  std::string buffer(4096, '\0');
  while (true) {
    auto n = (*reader)->Read(reinterpret_cast<uint8_t*>(buffer.data()), buffer.size());
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || *n == 0) break;
    EXPECT_TRUE(zstd.Write(std::string_view(buffer.data(), *n)).ok());
  }
  EXPECT_TRUE(zstd.Finish().ok());
  return plain;
}

}  // namespace signals::testing
