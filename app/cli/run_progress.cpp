#include "cli/run_progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace lmscope::cli {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto t = static_cast<long long>(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", t / 60, t % 60);
  return buf;
}

ProgressPrinter::ProgressPrinter(bool quiet) : quiet_(quiet), tty_(isatty(fileno(stderr)) != 0) {}

void ProgressPrinter::line(const std::string& text, bool final) {
  if (tty_) {
    std::string padded = text;
    if (padded.size() < width_) padded.append(width_ - padded.size(), ' ');
    width_ = text.size();
    std::fprintf(stderr, "\r%s%s", padded.c_str(), final ? "\n" : "");
    if (final) width_ = 0;
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
}

void ProgressPrinter::operator()(const nlohmann::json& e) {
  // Warnings (a damaged row in the store, ...) are shown even when quiet.
  const bool warning = e.value("event", std::string()) == "log" && e.value("message", std::string()).rfind("warning:", 0) == 0;
  if (quiet_ && !warning) return;
  const auto kind = e.value("event", std::string());
  if (kind == "start") {
    line("lmscope run: " + std::to_string(e.value("units_total", 0)) + " work units in " +
             std::to_string(e["task_runs"].size()) + " task runs; " + std::to_string(e.value("units_stored", 0)) +
             " already in the store, " + std::to_string(e.value("units_to_compute", 0)) + " to compute (shard " +
             e.value("shard", std::string("0/1")) + ", store " + e.value("store", std::string()) + ")",
         true);
  } else if (kind == "progress") {
    const auto now = std::chrono::steady_clock::now();
    if (!tty_ && now - last_ < std::chrono::seconds(5)) return;
    last_ = now;
    char buf[256];
    const double rate = e.value("tokens_per_s", 0.0);
    // One process names what it computes; a --gpus run, whose workers compute different things at once, its workers.
    std::string label;
    if (e.contains("workers")) {
      label = std::to_string(e["workers"].get<int>()) + " workers";
    } else {
      label = e.value("alias", e.value("task", std::string()));
      for (const char* k : {"model", "setting"})
        if (const auto v = e.value(k, std::string()); !v.empty() || std::string(k) == "model") label.append(" ").append(v);
    }
    std::snprintf(buf, sizeof buf, "[%s] %lld/%lld units  %.3g tok/s  elapsed %s  ETA %s", label.c_str(),
                  static_cast<long long>(e.value("units_done", 0)), static_cast<long long>(e.value("units_to_compute", 0)),
                  rate, format_duration(e.value("elapsed_s", 0.0)).c_str(),
                  e.contains("eta_s") ? format_duration(e["eta_s"].get<double>()).c_str() : "?");
    line(buf, false);
  } else if (kind == "log") {
    line(e.value("message", std::string()), true);
  } else if (kind == "done") {
    std::string times;
    if (const auto it = e.find("seconds"); it != e.end() && it->is_object()) {
      char buf[160];
      std::snprintf(buf, sizeof buf, " (%.1f s reading and tokenising, %.1f s loading weights, %.1f s computing)",
                    it->value("preparing", 0.0), it->value("loading", 0.0), it->value("computing", 0.0));
      times = buf;
    }
    line(std::string(e.value("cancelled", false) ? "cancelled" : e.value("complete", false) ? "done" : "stopped") +
             ": " + std::to_string(e.value("units_computed", 0)) + " units computed, " +
             std::to_string(e.value("units_reused", 0)) + " from the store" + times,
         true);
  }
}

}  // namespace lmscope::cli
