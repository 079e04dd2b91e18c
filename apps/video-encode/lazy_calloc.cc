// libvpx's vpx_calloc is malloc + memset: at encoder start-up it writes zeros
// over every allocation, among them the 22 MB token buffer of a 720p VP8
// encoder (sized for the worst case, mostly never used). Every chunk thunk is
// a new encoder, so each paid ~15 ms of page faults for it (6,000 pages).
// gg-vpx is linked with -Wl,--wrap=vpx_calloc: this one takes the memory from
// calloc, which leaves freshly mapped (already zero) pages untouched, so only
// the pages the encoder uses are ever faulted in.
//
// vpx_free must still free it: the block keeps vpx_memalign's layout (the
// malloc'd address stored just below the aligned pointer, vpx_mem.c). That
// layout is checked once on a block vpx_malloc made, and libvpx's own
// vpx_calloc is used if it is not what is expected.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" {
void* vpx_malloc(size_t size);
void vpx_free(void* block);
void* __real_vpx_calloc(size_t num, size_t size);
void* __wrap_vpx_calloc(size_t num, size_t size);
}

namespace {

constexpr size_t kAlign = 2 * sizeof(void*);  // vpx_mem.c's DEFAULT_ALIGNMENT
constexpr size_t kMaxBytes = size_t{1} << 40;  // vpx_mem.c's VPX_MAX_ALLOCABLE_MEMORY (64-bit)

bool LayoutIsVpxMemalign() {
  void* probe = vpx_malloc(64);
  if (probe == nullptr) return false;
  const uintptr_t p = reinterpret_cast<uintptr_t>(probe);
  const uintptr_t stored = reinterpret_cast<const uintptr_t*>(probe)[-1];
  const bool ok = p % kAlign == 0 && stored + sizeof(size_t) <= p && p - stored < sizeof(size_t) + kAlign;
  vpx_free(probe);
  return ok;
}

}  // namespace

void* __wrap_vpx_calloc(size_t num, size_t size) {
  static const bool layout_ok = LayoutIsVpxMemalign();
  if (!layout_ok) return __real_vpx_calloc(num, size);
  if (num != 0 && size > kMaxBytes / num) return nullptr;
  void* addr = std::calloc(1, num * size + kAlign - 1 + sizeof(size_t));
  if (addr == nullptr) return nullptr;
  const uintptr_t x = (reinterpret_cast<uintptr_t>(addr) + sizeof(size_t) + kAlign - 1) & ~(kAlign - 1);
  reinterpret_cast<uintptr_t*>(x)[-1] = reinterpret_cast<uintptr_t>(addr);
  return reinterpret_cast<void*>(x);
}
