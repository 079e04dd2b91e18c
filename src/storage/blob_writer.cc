#include "storage/blob_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/path_util.h"

namespace gg {

namespace {
constexpr size_t kBufferSize = 1 << 20;
}  // namespace

std::string DiskFullHint(int err) {
  if (err == ENOSPC || err == EDQUOT) return " (the local disk is full: free space, or run 'gg gc')";
  return "";
}

BlobWriter::BlobWriter(LocalStore& local, const Name& name, std::string source)
    : local_(local), name_(name.object()), source_(std::move(source)) {}

BlobWriter::~BlobWriter() {
  if (fd_ >= 0) close(fd_);
  if (!tmp_.empty() && !committed_) unlink(tmp_.c_str());
}

Status BlobWriter::Open() {
  tmp_ = local_.TempDir() + "/pull." + UniqueSuffix();
  fd_ = open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd_ < 0) {
    int err = errno;
    tmp_.clear();
    return Status::FromErrno("cannot create a temporary file in " + local_.TempDir() + DiskFullHint(err), err);
  }
  hasher_ = std::make_unique<Sha256Hasher>();
  buf_.reserve(std::min<uint64_t>(kBufferSize, name_.size()));
  return Status::Ok();
}

Status BlobWriter::Flush() {
  size_t done = 0;
  while (done < buf_.size()) {
    ssize_t n = write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      return Status::FromErrno("cannot write " + tmp_ + " while downloading " + name_.str() + DiskFullHint(err), err);
    }
    done += n;
  }
  buf_.clear();
  return Status::Ok();
}

Status BlobWriter::Append(std::string_view data) {
  if (!error_.ok()) return error_;
  if (fd_ < 0) {
    if (Status s = Open(); !s.ok()) return error_ = s;
  }
  if (prefix_.size() < kThunkMagic.size()) {
    prefix_.append(data.substr(0, kThunkMagic.size() - prefix_.size()));
  }
  received_ += data.size();
  if (received_ > name_.size()) {
    return error_ = Status::Corrupt("object " + name_.str() + " in " + source_ +
                                    " does not match its name (it is larger than the " + std::to_string(name_.size()) +
                                    " bytes its name says): the stored copy is damaged; push it again from a "
                                    "machine that has it");
  }
  hasher_->Update(data);
  if (buf_.size() + data.size() > kBufferSize) {
    if (Status s = Flush(); !s.ok()) return error_ = s;
  }
  if (data.size() >= kBufferSize) {
    buf_.assign(data);
    if (Status s = Flush(); !s.ok()) return error_ = s;
  } else {
    buf_.append(data);
  }
  return Status::Ok();
}

Status BlobWriter::Reset() {
  error_ = Status::Ok();
  buf_.clear();
  prefix_.clear();
  received_ = 0;
  if (fd_ < 0) return Status::Ok();
  if (ftruncate(fd_, 0) != 0 || lseek(fd_, 0, SEEK_SET) != 0) {
    return error_ = Status::FromErrno("cannot truncate " + tmp_, errno);
  }
  hasher_ = std::make_unique<Sha256Hasher>();
  return Status::Ok();
}

Status BlobWriter::Commit() {
  if (!error_.ok()) return error_;
  if (fd_ < 0) GG_RETURN_IF_ERROR(Open());  // an empty object
  GG_RETURN_IF_ERROR(Flush());
  if (close(fd_) != 0) {
    int err = errno;
    fd_ = -1;
    return Status::FromErrno("cannot write " + tmp_ + DiskFullHint(err), err);
  }
  fd_ = -1;
  Name got(Name::TypeOf(prefix_), hasher_->Finish(), received_);
  if (got != name_) {
    std::string what = received_ != name_.size()
                           ? "does not match its name (it has " + std::to_string(received_) + " bytes, the name says " +
                                 std::to_string(name_.size()) + ")"
                           : "does not match its name (its content hashes to " + got.str() + ")";
    return Status::Corrupt("object " + name_.str() + " in " + source_ + " " + what +
                           ": the stored copy is damaged; push it again from a machine that has it");
  }
  if (rename(tmp_.c_str(), local_.BlobPath(name_).c_str()) != 0) {
    int err = errno;
    return Status::FromErrno("cannot move " + tmp_ + " into the store", err);
  }
  committed_ = true;
  return Status::Ok();
}

}  // namespace gg
