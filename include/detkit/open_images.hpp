// detkit/open_images.hpp — everything for reading Open Images files, in one include:
// class descriptions and target resolution (open_images_classes.hpp), the built-in airbnb preset
// (amenity_classes.hpp), the bbox join into label records (open_images_boxes.hpp), image metadata
// (open_images_metadata.hpp), image-level labels (open_images_labels.hpp) and the class hierarchy
// (open_images_hierarchy.hpp).
#pragma once

#include "detkit/amenity_classes.hpp"
#include "detkit/open_images_boxes.hpp"
#include "detkit/open_images_classes.hpp"
#include "detkit/open_images_hierarchy.hpp"
#include "detkit/open_images_labels.hpp"
#include "detkit/open_images_metadata.hpp"
