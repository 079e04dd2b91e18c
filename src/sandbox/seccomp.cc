#include "sandbox/seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cstdint>

namespace gg::sandbox {
namespace {

#if defined(__x86_64__)
constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
#error "seccomp filter: add this architecture's AUDIT_ARCH value"
#endif

constexpr uint32_t kErrno(int e) {
  return SECCOMP_RET_ERRNO | (static_cast<uint32_t>(e) & SECCOMP_RET_DATA);
}
constexpr uint32_t kNrOffset = offsetof(seccomp_data, nr);
constexpr uint32_t kArchOffset = offsetof(seccomp_data, arch);
// The low 32 bits of the first argument (little-endian on both arches).
constexpr uint32_t kArg0Offset = offsetof(seccomp_data, args);

sock_filter Stmt(uint16_t code, uint32_t k) { return BPF_STMT(code, k); }
sock_filter Jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return BPF_JUMP(code, k, jt, jf); }

std::vector<sock_filter> Build() {
  // Refused outright. Mount calls: the program has no capabilities anyway,
  // but the sandbox needs none of them after set-up.
  static const long kDenied[] = {
      SYS_keyctl, SYS_add_key, SYS_request_key, SYS_bpf, SYS_perf_event_open,
      SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_kexec_load,
      SYS_kexec_file_load, SYS_reboot, SYS_mount, SYS_umount2, SYS_pivot_root,
      SYS_open_tree, SYS_move_mount, SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick,
      SYS_mount_setattr, SYS_userfaultfd,
  };
  std::vector<sock_filter> f;
  f.push_back(Stmt(BPF_LD | BPF_W | BPF_ABS, kArchOffset));
  // Another ABI (i386 through int 0x80, ...) has other numbers: kill.
  f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0));
  f.push_back(Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
  f.push_back(Stmt(BPF_LD | BPF_W | BPF_ABS, kNrOffset));
#if defined(__x86_64__)
  f.push_back(Jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1));  // x32
  f.push_back(Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
#endif
  for (long nr : kDenied) {
    f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1));
    f.push_back(Stmt(BPF_RET | BPF_K, kErrno(EPERM)));
  }
  // clone3 passes its flags in memory, out of the filter's reach: ENOSYS
  // makes libc fall back to clone, whose flags it can check.
  f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1));
  f.push_back(Stmt(BPF_RET | BPF_K, kErrno(ENOSYS)));
  // Calls refused for one argument value: {nr, JEQ (value) or JSET (bit)}.
  struct ArgRule {
    long nr;
    uint16_t test;
    uint32_t value;
  };
  static const ArgRule kArgRules[] = {
      {SYS_socketpair, BPF_JEQ, AF_VSOCK},
      {SYS_unshare, BPF_JSET, CLONE_NEWUSER},   // a user ns gives capabilities back
      {SYS_clone, BPF_JSET, CLONE_NEWUSER},     // flags are the first argument here
  };
  // socket(): AF_VSOCK reaches the host over virtio; NETLINK_USERSOCK lets
  // processes in one network namespace message each other.
  constexpr uint32_t kArg2Offset = kArg0Offset + 2 * sizeof(uint64_t);
  f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 7));
  f.push_back(Stmt(BPF_LD | BPF_W | BPF_ABS, kArg0Offset));
  f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, AF_VSOCK, 3, 0));
  f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 3));
  f.push_back(Stmt(BPF_LD | BPF_W | BPF_ABS, kArg2Offset));
  f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, NETLINK_USERSOCK, 0, 1));
  f.push_back(Stmt(BPF_RET | BPF_K, kErrno(EPERM)));
  f.push_back(Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  for (const ArgRule& r : kArgRules) {
    f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(r.nr), 0, 4));
    f.push_back(Stmt(BPF_LD | BPF_W | BPF_ABS, kArg0Offset));
    f.push_back(Jump(BPF_JMP | r.test | BPF_K, r.value, 0, 1));
    f.push_back(Stmt(BPF_RET | BPF_K, kErrno(EPERM)));
    f.push_back(Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  }
  f.push_back(Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  return f;
}

}  // namespace

const std::vector<sock_filter>& SeccompFilter() {
  static const std::vector<sock_filter> filter = Build();
  return filter;
}

int LoadSeccomp(const std::vector<sock_filter>& filter) {
  sock_fprog prog{static_cast<unsigned short>(filter.size()), const_cast<sock_filter*>(filter.data())};
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0 ? 0 : errno;
}

}  // namespace gg::sandbox
