// Moving objects between stores over a Connection, checked against their
// names on arrival.
#pragma once

#include <string>

#include "core/local_store.h"
#include "net/connection.h"

namespace gg::net {

/// Sends an object from `store` as Object pieces.
Status SendObject(Connection& conn, LocalStore& store, const Name& name);

/// Reassembles Object pieces into a store: written to a temporary file, then
/// stored only if the content matches the announced name.
class ObjectReceiver {
 public:
  explicit ObjectReceiver(LocalStore* store) : store_(store) {}
  ~ObjectReceiver();
  /// Adds a piece; when it is the last, stores the object (or says why not).
  Status Add(const proto::remote::Object& piece);

 private:
  void Reset();
  LocalStore* store_;
  std::string name_;
  std::string tmp_;
  int fd_ = -1;
};

}  // namespace gg::net
