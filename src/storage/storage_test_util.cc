#include "storage/storage_test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#ifndef GG_SOURCE_DIR
#error GG_SOURCE_DIR must be defined
#endif

namespace gg::testing {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool OnPath(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

std::string RunCapture(const std::string& command) {
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  return pclose(p) == 0 ? out : "";
}

namespace {

bool Connects(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

bool WaitForPort(int port, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (Connects(port)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

bool ServerProcess::Start(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_ = fork();
  if (pid_ < 0) return false;
  if (pid_ == 0) {
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return true;
}

void ServerProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  Kill();
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

bool RedisServer::Start(int port, const std::string& password) {
  if (!OnPath("redis-server")) return false;
  port_ = port != 0 ? port : FreePort();
  password_ = password;
  std::vector<std::string> argv{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", dir_.path()};
  if (!password.empty()) {
    argv.push_back("--requirepass");
    argv.push_back(password);
  }
  if (!proc_.Start(argv, dir_.path() + "/redis.log") || !WaitForPort(port_, 20)) return false;
  for (int i = 0; i < 200; ++i) {
    if (Cli("PING").find("PONG") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

std::string RedisServer::uri(const std::string& password) const {
  return "redis://" + (password.empty() ? "" : ":" + password + "@") + "127.0.0.1:" + std::to_string(port_);
}

std::string RedisServer::Cli(const std::string& args) const {
  std::string auth = password_.empty() ? "" : " --no-auth-warning -a " + password_;
  return RunCapture("redis-cli -p " + std::to_string(port_) + auth + " " + args + " 2>/dev/null");
}

bool MotoServer::Start(const std::string& bucket) {
  if (!OnPath("moto_server") || !OnPath("python3")) return false;
  port_ = FreePort();
  bucket_ = bucket;
  if (!proc_.Start({"moto_server", "-H", "127.0.0.1", "-p", std::to_string(port_)}, dir_.path() + "/moto.log") ||
      !WaitForPort(port_, 60)) {
    return false;
  }
  std::string out = RunCapture("python3 " GG_SOURCE_DIR "/tests/storage_servers.py moto-setup " +
                               std::to_string(port_) + " " + bucket);
  auto field = [&](const std::string& k) {
    size_t p = out.find("\"" + k + "\": \"");
    if (p == std::string::npos) return std::string();
    p += k.size() + 5;
    return out.substr(p, out.find('"', p) - p);
  };
  key_ = field("key");
  secret_ = field("secret");
  return !key_.empty() && !secret_.empty();
}

std::string MotoServer::uri(const std::string& prefix, const std::string& bucket) const {
  return "s3://" + (bucket.empty() ? bucket_ : bucket) + (prefix.empty() ? "" : "/" + prefix) +
         "?region=us-east-1&endpoint=" + endpoint();
}

ScopedEnv::ScopedEnv(const char* name, const char* value) : name_(name) {
  if (const char* v = std::getenv(name)) {
    had_ = true;
    old_ = v;
  }
  if (value != nullptr) setenv(name, value, 1);
  else unsetenv(name);
}

ScopedEnv::~ScopedEnv() {
  if (had_) setenv(name_.c_str(), old_.c_str(), 1);
  else unsetenv(name_.c_str());
}

TestStore::TestStore() {
  LocalStore::Init(dir.path() + "/.gg");
  store = LocalStore::Open(dir.path() + "/.gg").value();
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint64_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s[i] = static_cast<char>(x);
  }
  return s;
}

}  // namespace gg::testing
