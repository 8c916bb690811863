// tests/fuzz/fuzz_eval_state.cpp — libFuzzer entry for the evaluation state reader
// (include/detkit/coco_eval_state.hpp, detkit-eval --merge). Any bytes must give a coco_matches or
// a located error, never a crash; an accepted state must survive what --merge does with it: merge
// (alone and with itself, which must be refused: the images overlap), accumulate at two cutoffs,
// summarize. Each input is tried as is and "resealed" (payload size and checksum rewritten),
// because a mutation almost never survives the checksum and the field checks behind it are what
// keep accumulate in bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "detkit/coco_eval_state.hpp"

namespace {

void reseal(std::string& bytes) {
  if (bytes.size() < 32) return;
  const std::uint64_t n = bytes.size() - 32;
  std::memcpy(&bytes[16], &n, 8);
  const std::uint64_t h = detkit::detail::hash64(bytes.data() + 24, static_cast<std::size_t>(n));
  std::memcpy(&bytes[24 + n], &h, 8);
}

void try_bytes(const std::string& bytes) {
  auto mt = detkit::try_parse_eval_state(bytes, "fuzz.state");
  if (!mt) {
    if (mt.error().code == detkit::errc::ok || mt.error().file != "fuzz.state") std::abort();
    return;
  }
  mt->params.threads = 1;
  auto alone = detkit::try_merge_eval_states({*mt});
  if (!alone) return;  // e.g. duplicate image ids inside one state: refused, located
  auto twice = detkit::try_merge_eval_states({*mt, *mt});
  if (twice && !mt->image_ids.empty()) std::abort();  // overlapping images must be refused
  for (double cutoff : {0.0, 0.5}) {
    const detkit::coco_accumulation acc = detkit::accumulate(*alone, cutoff);
    const detkit::coco_summary s = detkit::summarize(acc, *alone);
    if (s.stats.size() > 1000) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  try_bytes(bytes);
  reseal(bytes);
  try_bytes(bytes);
  return 0;
}
