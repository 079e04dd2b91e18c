#include "net/object_transfer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "core/path_util.h"

namespace gg::net {

Status SendObject(Connection& conn, LocalStore& store, const Name& name) {
  GG_ASSIGN_OR_RETURN(std::string content, store.Get(name));
  size_t offset = 0;
  do {
    proto::remote::Message m;
    auto* o = m.mutable_object();
    o->set_name(name.object().str());
    size_t n = std::min(kObjectPieceBytes, content.size() - offset);
    o->set_data(content.substr(offset, n));
    offset += n;
    o->set_last(offset >= content.size());
    GG_RETURN_IF_ERROR(conn.Send(m));
  } while (offset < content.size());
  return Status::Ok();
}

ObjectReceiver::~ObjectReceiver() { Reset(); }

void ObjectReceiver::Reset() {
  if (fd_ >= 0) close(fd_);
  if (!tmp_.empty()) unlink(tmp_.c_str());
  fd_ = -1;
  tmp_.clear();
  name_.clear();
}

Status ObjectReceiver::Add(const proto::remote::Object& piece) {
  if (piece.name() != name_) {
    Reset();
    name_ = piece.name();
    tmp_ = store_->TempDir() + "/recv." + UniqueSuffix();
    fd_ = open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd_ < 0) {
      Status s = Status::FromErrno("cannot create " + tmp_, errno);
      tmp_.clear();
      return s;
    }
  }
  const std::string& data = piece.data();
  for (size_t done = 0; done < data.size();) {
    ssize_t n = write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      Reset();
      return Status::FromErrno("cannot write a received object" + std::string(err == ENOSPC ? " (the disk is full)" : ""), err);
    }
    done += n;
  }
  if (!piece.last()) return Status::Ok();
  close(fd_);
  fd_ = -1;
  auto expected = Name::Parse(name_);
  auto got = store_->AdoptFile(tmp_);
  std::string name = name_;
  tmp_.clear();
  Reset();
  if (!expected.ok()) return expected.status();
  if (!got.ok()) return got.status();
  if (*got != expected->object()) {
    // AdoptFile stored it under its true name; that object is harmless.
    return Status::Corrupt("received object " + name + " does not match its name (it is " + got->str() + ")");
  }
  return Status::Ok();
}

}  // namespace gg::net
