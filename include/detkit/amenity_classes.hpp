// detkit/amenity_classes.hpp — the built-in `airbnb` preset: the 30 amenity classes of
// "Replicating Airbnb's amenity detection with Detectron2" (mrdbourke/airbnb-amenity-detection
// app/app.py `subset`), in its alphabetical order, so category id i is the recipe's class id i.
// MIDs are from the real 2018_04 class-descriptions-boxable.csv and are the same in V7.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "detkit/label_record.hpp"

DETKIT_BEGIN_NAMESPACE

/// One preset class as constant data (no code runs and nothing is allocated until it is used).
struct amenity_class {
  std::string_view mid;   // Freebase MID, e.g. "/m/03ssj5"
  std::string_view name;  // display name, e.g. "Bed"
};

/// The 30 amenity classes, category id = index.
inline constexpr amenity_class amenity_class_table[] = {
    {"/m/03dnzn", "Bathtub"},
    {"/m/03ssj5", "Bed"},
    {"/m/04p0qw", "Billiard table"},
    {"/m/03ldnb", "Ceiling fan"},
    {"/m/07xyvk", "Coffeemaker"},
    {"/m/02crq1", "Couch"},
    {"/m/0b3fp9", "Countertop"},
    {"/m/0ky7b", "Dishwasher"},
    {"/m/03tw93", "Fireplace"},
    {"/m/0220r2", "Fountain"},
    {"/m/02wv84t", "Gas stove"},
    {"/m/065h6l", "Jacuzzi"},
    {"/m/0h8n5zk", "Kitchen & dining room table"},
    {"/m/0fx9l", "Microwave oven"},
    {"/m/054_l", "Mirror"},
    {"/m/029bxz", "Oven"},
    {"/m/034c16", "Pillow"},
    {"/m/04m6gz", "Porch"},
    {"/m/040b_t", "Refrigerator"},
    {"/m/02f9f_", "Shower"},
    {"/m/0130jx", "Sink"},
    {"/m/03m3pdh", "Sofa bed"},
    {"/m/01lynh", "Stairs"},
    {"/m/0b_rs", "Swimming pool"},
    {"/m/07c52", "Television"},
    {"/m/09g1w", "Toilet"},
    {"/m/0162_1", "Towel"},
    {"/m/02wg_p", "Tree house"},
    {"/m/0174k2", "Washing machine"},
    {"/m/0271qf7", "Wine rack"},
};

/// The 30 amenity classes as label-set classes, category id = index.
inline std::vector<class_info> amenity_classes() {
  std::vector<class_info> out;
  out.reserve(std::size(amenity_class_table));  // std::size: from <string>/<vector> in C++17
  for (const auto& c : amenity_class_table)
    out.push_back({std::string(c.mid), std::string(c.name)});
  return out;
}

DETKIT_END_NAMESPACE
