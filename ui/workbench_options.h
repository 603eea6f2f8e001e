// How the window is started: which engine binary, which results store, and whether to restore the last
// session's library and read the store's history (tests turn these off or point them at temporary places).
#pragma once

#include <QString>

struct WorkbenchOptions {
  QString cli;              // lmscope-cli
  QString store;            // results store; empty = the worker's default (~/.local/share/lmscope/results.sqlite)
  bool restore_library = true;
  bool load_history = true;
};
