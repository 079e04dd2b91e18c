#include "models/force_service.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "core/placeholder.h"

namespace gg::models {

Result<std::unique_ptr<ForceService>> ForceService::Start(LocalStore* store, Force force) {
  std::unique_ptr<ForceService> s(new ForceService(store, std::move(force)));
  GG_RETURN_IF_ERROR(Listen("gg-force", &s->sock_));
  s->acceptor_ = std::thread([p = s.get()] { p->Serve(); });
  return s;
}

ForceService::~ForceService() { Stop(); }

void ForceService::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  shutdown(sock_.fd, SHUT_RDWR);  // wakes accept()
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : requests_) t.join();  // no new ones: the acceptor has returned
}

void ForceService::Serve() {
  for (;;) {
    int fd = accept4(sock_.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down
    }
    std::lock_guard<std::mutex> l(mu_);
    // One thread per request: each waits for its thunks, which may take as
    // long as the build.
    requests_.emplace_back([this, fd] {
      auto frame = ReadFrame(fd);
      auto request = frame ? DecodeForceRequest(*frame) : std::nullopt;
      ForceAnswer a = request ? Answer(*request) : ForceAnswer::kNotHere;
      (void)WriteFrame(fd, std::string(1, static_cast<char>(a)));
      close(fd);
    });
  }
}

ForceAnswer ForceService::Answer(const ForceRequest& request) {
  std::vector<std::string> paths;
  std::vector<Name> targets;
  for (const auto& p : request.paths) {
    auto target = ReadPlaceholder(p);
    if (!target.ok()) return ForceAnswer::kNotHere;
    if (!target->has_value()) continue;  // forced meanwhile (the guard, another request)
    // A placeholder of another store (a gg build inside the build) is not
    // this force's to compute.
    if (!store_->Has((*target)->object())) return ForceAnswer::kNotHere;
    paths.push_back(p);
    targets.push_back(**target);
  }
  if (targets.empty()) return ForceAnswer::kForced;
  auto outputs = force_(targets);
  if (!outputs || outputs->size() != targets.size()) return ForceAnswer::kNotHere;
  for (size_t i = 0; i < paths.size(); ++i) {
    // Written already by whoever else forced it (the guard writes into the
    // placeholder's inode): the same bytes.
    auto still = ReadPlaceholder(paths[i]);
    if (still.ok() && !still->has_value()) continue;
    if (!store_->CopyOut((*outputs)[i].name, paths[i], (*outputs)[i].executable).ok()) return ForceAnswer::kNotHere;
  }
  return ForceAnswer::kForced;
}

}  // namespace gg::models
