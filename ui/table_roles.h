// Item-data roles the result tables share with the exporters: the raw number behind a formatted cell, its
// standard error, and whether it is the best in its column. Tables without them export their display text.
#pragma once

#include <Qt>

namespace TableRole {
enum : int {
  Value = Qt::UserRole + 1,  // double (sorting and exports use it)
  Stderr,                    // double, absent when the metric has none
  Best,                      // bool: best value of the column
  Partial,                   // bool: computed from part of the units so far
};
}
