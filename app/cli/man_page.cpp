#include "cli/man_page.h"

#include <cctype>

#include "lmscope/version.h"

namespace lmscope::cli {
namespace {

bool option_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }

// One line of --help text as roff: backslashes and hyphens escaped (a man page's "-" may print as a hyphen, and
// options must stay copyable), options and the command's own name in bold, no line starting as a request.
std::string roff_line(const std::string& line, const std::string& command) {
  std::string out;
  std::size_t i = 0;
  const auto first = line.find_first_not_of(' ');
  if (!command.empty() && first != std::string::npos && line.compare(first, command.size(), command) == 0 &&
      (first + command.size() == line.size() || line[first + command.size()] == ' ')) {
    out += line.substr(0, first);
    out += "\\fB" + command + "\\fR";
    i = first + command.size();
  }
  while (i < line.size()) {
    const char c = line[i];
    if (c == '-' && i + 2 < line.size() && line[i + 1] == '-' && std::isalnum(static_cast<unsigned char>(line[i + 2])) &&
        (i == 0 || !option_char(line[i - 1]))) {
      std::size_t j = i + 2;
      while (j < line.size() && option_char(line[j])) ++j;
      out += "\\fB\\-\\-";
      for (std::size_t k = i + 2; k < j; ++k) out += line[k] == '-' ? std::string("\\-") : std::string(1, line[k]);
      out += "\\fR";
      i = j;
      continue;
    }
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
    ++i;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

void write_block(std::FILE* to, const std::string& text, const std::string& command) {
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::fprintf(to, "%s\n", roff_line(text.substr(start, end - start), command).c_str());
    start = end + 1;
  }
}

}  // namespace

void write_man_page(std::FILE* to, const std::vector<CommandHelp>& commands, const std::string& summary,
                    const std::string& notes) {
  std::fprintf(to, ".\\\" Written by `lmscope-cli --man` from the table that `lmscope-cli --help` prints.\n");
  std::fprintf(to, ".TH LMSCOPE\\-CLI 1 \"%s\" \"lmscope %s\" \"User Commands\"\n", revision_date(),
               roff_line(version(), "").c_str());
  std::fprintf(to, ".SH NAME\nlmscope\\-cli \\- %s\n", roff_line(summary, "").c_str());
  std::fprintf(to, ".SH SYNOPSIS\n.B lmscope\\-cli\n.I COMMAND\n[\\fIoptions\\fR]\n.br\n"
                   ".B lmscope\\-cli \\-\\-help\n.br\n.B lmscope\\-cli \\-\\-version\n");
  std::fprintf(to, ".SH DESCRIPTION\nThe engine of the lmscope workbench without a window: it loads checkpoint "
                   "folders, runs evaluations into a results store and answers the GUI as a worker. Each command "
                   "with its options, as \\fBlmscope\\-cli \\-\\-help\\fR lists them:\n");
  std::fprintf(to, ".SH COMMANDS\n");
  for (const auto& c : commands) {
    std::fprintf(to, ".SS %s\n.nf\n", c.name.c_str());
    write_block(to, c.usage, c.name);
    std::fprintf(to, ".fi\n");
  }
  std::string filled = notes;
  for (auto& ch : filled)
    if (ch == '\n') ch = ' ';
  std::fprintf(to, ".SH EXIT STATUS\n%s\n", roff_line(filled, "").c_str());
  std::fprintf(to, ".SH SEE ALSO\nThe GUI, \\fBlmscope\\fR; README.md, evaluation.md (what each task computes) and "
                   "worker.md (the worker protocol) in share/doc/lmscope under the installation prefix (/usr for the "
                   "Debian package).\n");
}

}  // namespace lmscope::cli
