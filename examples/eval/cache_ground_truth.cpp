// examples/eval/cache_ground_truth.cpp — see cache_ground_truth.hpp.
#include "eval/cache_ground_truth.hpp"

#include "detkit/label_cache.hpp"

namespace detkit_eval {

detkit::result<std::size_t> read_cache_ground_truth(const std::string& path,
                                                    std::vector<detkit::class_info>& classes,
                                                    std::vector<detkit::oi_gt_box>& boxes) {
  auto cache = detkit::label_cache::try_open(path);
  if (!cache) return std::move(cache).error();
  for (const auto& c : cache->classes())
    classes.push_back({std::string(cache->string(c.mid)), std::string(cache->string(c.name))});
  const auto images = cache->images();
  for (std::size_t i = 0; i < images.size(); ++i)
    for (const auto& b : cache->boxes_of(i))
      boxes.push_back({images[i].image_id_u64, static_cast<std::uint32_t>(b.category_id), b.rel,
                       b.group_of == detkit::tri_flag::yes});
  return images.size();
}

}  // namespace detkit_eval
