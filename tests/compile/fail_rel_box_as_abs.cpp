// Must NOT compile: a relative box where an absolute one is required (STYLE §2.5).
#include "detkit/box.hpp"
double f(detkit::box_xyxy_rel b) { return detkit::area(b); }
