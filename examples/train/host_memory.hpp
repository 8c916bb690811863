// examples/train/host_memory.hpp — where the loader's batch buffers live. By default ordinary heap
// memory; with CUDA on, detkit-train hands the loader a cache over page-locked ("pinned") memory so
// the host-to-device copy of every batch is a direct DMA instead of the driver's staged copy.
// Page-locking is slow (milliseconds for a batch-sized block), so released blocks are kept and
// reused by size, as PyTorch's CachingHostAllocator does: a run allocates about as many blocks as
// batches are in flight (prefetch + workers + the one training), then none.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <vector>

namespace detkit_train {

/// Where fresh blocks come from (cudaHostAlloc / cudaFreeHost, or malloc / free in tests).
struct host_memory_source {
  void* (*allocate)(std::size_t bytes) = nullptr;  // nullptr on failure
  void (*release)(void* p) = nullptr;
};

/// Thread-safe cache of released blocks, keyed by size. Frees everything it holds when destroyed;
/// every buffer keeps it alive through its allocator, so that happens after the last buffer goes.
class host_block_cache {
 public:
  explicit host_block_cache(host_memory_source source) : source_(source) {}
  ~host_block_cache() {
    for (auto& kv : free_)
      for (void* p : kv.second) source_.release(p);
  }
  host_block_cache(const host_block_cache&) = delete;
  host_block_cache& operator=(const host_block_cache&) = delete;

  void* take(std::size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        return p;
      }
      ++fresh_;
    }
    void* p = source_.allocate(bytes);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void give(void* p, std::size_t bytes) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      free_[bytes].push_back(p);
    } catch (...) {
      source_.release(p);  // could not remember it: give it back now
    }
  }
  /// Blocks obtained from the source so far (the rest were reuses).
  std::size_t fresh_allocations() const {
    std::lock_guard<std::mutex> lock(mu_);
    return fresh_;
  }

 private:
  host_memory_source source_;
  mutable std::mutex mu_;
  std::map<std::size_t, std::vector<void*>> free_;
  std::size_t fresh_ = 0;
};

/// std::allocator when it has no cache, else blocks from the cache.
template <class T>
struct host_allocator {
  using value_type = T;
  // Assigning or swapping a buffer carries its memory's owner with it (a pinned block must go
  // back to its cache, never to operator delete).
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  std::shared_ptr<host_block_cache> cache;

  host_allocator() = default;
  explicit host_allocator(std::shared_ptr<host_block_cache> c) : cache(std::move(c)) {}
  template <class U>
  host_allocator(const host_allocator<U>& o) : cache(o.cache) {}  // NOLINT: rebinding

  T* allocate(std::size_t n) {
    if (!cache) return std::allocator<T>().allocate(n);
    return static_cast<T*>(cache->take(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (!cache) return std::allocator<T>().deallocate(p, n);
    cache->give(p, n * sizeof(T));
  }
  template <class U>
  bool operator==(const host_allocator<U>& o) const {
    return cache == o.cache;
  }
  template <class U>
  bool operator!=(const host_allocator<U>& o) const {
    return cache != o.cache;
  }
};

/// A batch's pixels.
using host_floats = std::vector<float, host_allocator<float>>;

}  // namespace detkit_train
