// Real servers for the storage unit tests: redis-server and moto_server on
// loopback, on a free port, waited for until they answer and stopped by PID.
// Tests skip (not fail) when a server program is not installed.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "core/local_store.h"
#include "core/test_util.h"

namespace gg::testing {

int FreePort();
bool OnPath(const std::string& program);
/// Runs a shell command; its stdout, or "" on failure.
std::string RunCapture(const std::string& command);

class ServerProcess {
 public:
  ~ServerProcess() { Stop(); }
  bool Start(const std::vector<std::string>& argv, const std::string& log_path);
  void Stop();  ///< SIGTERM, then SIGKILL
  void Kill();  ///< SIGKILL: a crash
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

class RedisServer {
 public:
  /// Starts on a free port (or `port`); false if it would not start.
  bool Start(int port = 0, const std::string& password = "");
  void Kill() { proc_.Kill(); }
  std::string uri(const std::string& password = "") const;
  int port() const { return port_; }
  /// Runs redis-cli against the server; its output.
  std::string Cli(const std::string& args) const;

 private:
  ScratchDir dir_;
  ServerProcess proc_;
  int port_ = 0;
  std::string password_;
};

class MotoServer {
 public:
  /// Starts moto_server with SigV4 checking on and `bucket` created.
  bool Start(const std::string& bucket = "gg-test");
  void Kill() { proc_.Kill(); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string uri(const std::string& prefix = "", const std::string& bucket = "") const;
  const std::string& key() const { return key_; }
  const std::string& secret() const { return secret_; }

 private:
  ScratchDir dir_;
  ServerProcess proc_;
  int port_ = 0;
  std::string bucket_, key_, secret_;
};

/// Sets an environment variable for a scope (unset if value is null).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value);
  ~ScopedEnv();

 private:
  std::string name_;
  bool had_ = false;
  std::string old_;
};

/// A fresh local store in a scratch directory.
struct TestStore {
  ScratchDir dir;
  std::unique_ptr<LocalStore> store;
  TestStore();
  LocalStore& operator*() { return *store; }
  LocalStore* operator->() { return store.get(); }
};

/// Deterministic pseudo-random bytes.
std::string RandomBytes(size_t n, uint32_t seed);

}  // namespace gg::testing
