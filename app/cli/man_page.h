// lmscope-cli's manual page, written as roff from the command table that --help prints (app/cli/main.cpp), so the
// two cannot disagree. The build runs `lmscope-cli --man` and the package installs the result as
// share/man/man1/lmscope-cli.1.gz (cmake/ManPage.cmake).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace lmscope::cli {

struct CommandHelp {
  std::string name;   // "inspect"
  std::string usage;  // the text --help prints for it: synopsis lines and descriptions, as laid out there
};

// `summary`: the one-line description (NAME section); `notes`: the text --help ends with (EXIT STATUS).
void write_man_page(std::FILE* to, const std::vector<CommandHelp>& commands, const std::string& summary,
                    const std::string& notes);

}  // namespace lmscope::cli
