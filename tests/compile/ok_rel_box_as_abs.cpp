// Control for fail_rel_box_as_abs.cpp: the same call with the right mode compiles.
#include "detkit/box.hpp"
double f(detkit::box_xyxy_rel b) { return detkit::area(detkit::to_xyxy_abs(b, {640, 480})); }
