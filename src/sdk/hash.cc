#include "gg/hash.h"

#include <algorithm>

#include "core/sha256.h"

namespace gg {

struct Hasher::Impl {
  Sha256Hasher sha;
  uint64_t size = 0;
  std::string prefix;  // enough of the start to tell the type by its magic
};

Hasher::Hasher() : impl_(std::make_unique<Impl>()) {}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::Update(std::string_view data) {
  if (impl_->prefix.size() < kThunkMagic.size()) {
    impl_->prefix.append(data.substr(0, kThunkMagic.size() - impl_->prefix.size()));
  }
  impl_->sha.Update(data);
  impl_->size += data.size();
}

Name Hasher::Finish() { return Name(Name::TypeOf(impl_->prefix), impl_->sha.Finish(), impl_->size); }

Result<Name> NameOfFile(const std::string& path) { return HashFile(path); }

}  // namespace gg
