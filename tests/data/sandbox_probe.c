/* A hostile thunk's toolbox for tests/security_sandbox_test.py, built
 * static so it runs in a sandbox that holds nothing else. Each command
 * tries one thing and prints "ok" or the errno's name; exit 0 either way. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/vm_sockets.h>

static int report(long rc) {
  if (rc < 0) printf("%s\n", strerrorname_np(errno));
  else printf("ok\n");
  return 0;
}

static void on_alarm(int sig) { (void)sig; }

static int abstract_addr(const char* name, struct sockaddr_un* a) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  strncpy(a->sun_path + 1, name, sizeof a->sun_path - 2);
  return (int)(sizeof(sa_family_t) + 1 + strlen(name));
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* cmd = argv[1];
  if (!strcmp(cmd, "vsock")) {  /* connect to the host (CID 2) */
    int s = socket(AF_VSOCK, SOCK_STREAM, 0);
    if (s < 0) return report(s);
    struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = 2, .svm_port = 22};
    return report(connect(s, (struct sockaddr*)&a, sizeof a));
  }
  if (!strcmp(cmd, "keyread") && argc > 2) {  /* read a key by serial */
    char buf[256];
    return report(syscall(SYS_keyctl, KEYCTL_READ, atol(argv[2]), buf, sizeof buf));
  }
  if (!strcmp(cmd, "keyadd")) {  /* add a key to the session keyring */
    return report(syscall(SYS_add_key, "user", "gg-planted", "x", 1, KEY_SPEC_SESSION_KEYRING));
  }
  if (!strcmp(cmd, "unshare-user")) return report(unshare(CLONE_NEWUSER));
  if (!strcmp(cmd, "clone3")) {
    long args[11] = {0};
    long rc = syscall(SYS_clone3, args, 88);
    if (rc == 0) _exit(0);
    if (rc > 0) waitpid((pid_t)rc, NULL, 0);
    return report(rc);
  }
  if (!strcmp(cmd, "netlink-usersock")) return report(socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK));
  if (!strcmp(cmd, "bpf")) return report(syscall(SYS_bpf, 0, NULL, 0));
  if (!strcmp(cmd, "listen") && argc > 3) {  /* abstract socket NAME, wait SECONDS */
    struct sockaddr_un a;
    int len = abstract_addr(argv[2], &a);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(s, (struct sockaddr*)&a, len) != 0 || listen(s, 1) != 0) return report(-1);
    struct sigaction sa = {.sa_handler = on_alarm};  /* no SA_RESTART: accept gets EINTR */
    sigaction(SIGALRM, &sa, NULL);
    alarm(atoi(argv[3]));
    int c = accept(s, NULL, NULL);
    return report(c);
  }
  if (!strcmp(cmd, "connect") && argc > 3) {  /* try for SECONDS */
    struct sockaddr_un a;
    int len = abstract_addr(argv[2], &a);
    time_t end = time(NULL) + atoi(argv[3]);
    long rc;
    do {
      int s = socket(AF_UNIX, SOCK_STREAM, 0);
      rc = connect(s, (struct sockaddr*)&a, len);
      int e = errno;
      close(s);
      errno = e;
      if (rc == 0) break;
      usleep(50000);
    } while (time(NULL) < end);
    return report(rc);
  }
  if (!strcmp(cmd, "forks") && argc > 2) {  /* N children that sleep */
    int n = atoi(argv[2]), made = 0;
    for (; made < n; ++made) {
      pid_t p = fork();
      if (p == 0) { sleep(5); _exit(0); }
      if (p < 0) break;
    }
    printf("made %d of %d: %s\n", made, n, made == n ? "ok" : strerrorname_np(errno));
    return made == n ? 0 : 1;
  }
  if (!strcmp(cmd, "hog")) {  /* touch memory until it runs out */
    size_t total = 0;
    for (;;) {
      char* p = malloc(16 << 20);
      if (p == NULL) {
        fprintf(stderr, "out of memory after %zu MiB\n", total >> 20);
        return 1;
      }
      memset(p, 1, 16 << 20);
      total += 16 << 20;
    }
  }
  return 2;
}
