// A minimal host for testing one plugin library through its C ABI, without the
// kernel: dlopen the .so, find a component, create instances with given
// options. Host callbacks record log lines and counters for assertions.
#pragma once

#include <dlfcn.h>
#include <signals/plugin.h>

#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace signals::testing {

class PluginHarness {
 public:
  // REQUIRES: `library_path` names a Signals plugin; throws std::runtime_error otherwise.
  explicit PluginHarness(const std::string& library_path) {
    handle_ = dlopen(library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) throw std::runtime_error(std::string("dlopen: ") + dlerror());
    auto entry = reinterpret_cast<signals_plugin_entry_fn>(dlsym(handle_, SIGNALS_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr) throw std::runtime_error("no signals_plugin_entry in " + library_path);
    descriptor_ = entry();
    host_.struct_size = sizeof(host_);
    host_.abi_major = SIGNALS_ABI_MAJOR;
    host_.abi_minor = SIGNALS_ABI_MINOR;
    host_.ctx = this;
    host_.log = &Log;
    host_.now_unix_ms = &Now;
    host_.counter_add = &Counter;
    host_.gauge_set = &Counter;
    host_.histogram_observe = &Counter;
    host_.ingest_begin = nullptr;
    host_.ingest_write = nullptr;
    host_.ingest_finish = nullptr;
    host_.ingest_abort = nullptr;
    host_.query = nullptr;
  }
  PluginHarness(const PluginHarness&) = delete;
  PluginHarness& operator=(const PluginHarness&) = delete;
  // Libraries stay loaded until exit, as in the kernel.
  ~PluginHarness() = default;

  const signals_plugin_descriptor& descriptor() const { return *descriptor_; }

  const signals_component& Component(const std::string& name) const {
    for (size_t i = 0; i < descriptor_->component_count; ++i) {
      if (name == descriptor_->components[i].name) return descriptor_->components[i];
    }
    throw std::runtime_error("no component " + name);
  }

  // Creates an instance. Options not given take their declared defaults.
  // Returns the status; on success *out is the instance, else *error the text.
  signals_status Create(const std::string& component, std::map<std::string, std::string> options,
                        const std::string& data_dir, void** out, std::string* error = nullptr) {
    const signals_component& c = Component(component);
    for (size_t i = 0; i < c.option_count; ++i) {
      const signals_option& o = c.options[i];
      if (options.count(o.name) == 0 && o.default_value != nullptr) options[o.name] = o.default_value;
    }
    config_strings_.emplace_back();
    auto& strings = config_strings_.back();
    for (auto& [k, v] : options) strings.emplace_back(k, v);
    std::vector<signals_option_value> values;
    for (auto& [k, v] : strings) values.push_back({k.c_str(), v.c_str()});
    std::string instance_name = component;
    signals_config cfg{sizeof(signals_config), instance_name.c_str(), data_dir.c_str(), values.data(),
                       values.size()};
    char buffer[512] = {0};
    signals_status s = c.create(&host_, &cfg, out, buffer, sizeof(buffer));
    if (error != nullptr) *error = buffer;
    return s;
  }

  std::vector<std::string> logs() {
    std::lock_guard<std::mutex> lock(mutex_);
    return logs_;
  }

  static void Append(void* ctx, const uint8_t* data, size_t len) {
    static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(data), len);
  }

 private:
  static void Log(void* ctx, int32_t level, const char* component, const char* message) {
    auto* self = static_cast<PluginHarness*>(ctx);
    std::lock_guard<std::mutex> lock(self->mutex_);
    self->logs_.push_back(std::to_string(level) + " " + component + ": " + message);
  }
  static int64_t Now(void*) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static void Counter(void*, const char*, const char*, double) {}

  void* handle_ = nullptr;
  const signals_plugin_descriptor* descriptor_ = nullptr;
  signals_host host_{};
  std::mutex mutex_;
  std::vector<std::string> logs_;
  std::vector<std::vector<std::pair<std::string, std::string>>> config_strings_;
};

}  // namespace signals::testing
