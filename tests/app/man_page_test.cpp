// The manual page says what --help says, and both name every option each command accepts: `lmscope-cli --man`
// against --help, against each command's own option list (which the parser prints for an unknown option) and
// against the gzipped page the build wrote for the package.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "lmscope/version.h"
#include "support/cli_runner.h"

namespace lmscope {
namespace {

using test::run_cli;

// What a shell command writes (stdout and stderr).
std::string shell(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  pclose(p);
  return out;
}

// Roff back to the text a reader sees (the escapes man_page.cpp writes).
std::string plain(std::string roff) {
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\\fB", ""}, {"\\fR", ""}, {"\\fI", ""}, {"\\-", "-"}, {"\\&", ""}, {"\\e", "\\"}}) {
    for (auto p = roff.find(from); p != std::string::npos; p = roff.find(from, p + to.size())) roff.replace(p, from.size(), to);
  }
  return roff;
}

std::set<std::string> options_in(const std::string& text) {
  std::set<std::string> found;
  static const std::regex option(R"((^|[^A-Za-z0-9-])(--[A-Za-z0-9][A-Za-z0-9-]*))");
  for (std::sregex_iterator it(text.begin(), text.end(), option), end; it != end; ++it) found.insert((*it)[2]);
  return found;
}

// command name -> its COMMANDS subsection, in plain text.
std::map<std::string, std::string> sections(const std::string& man) {
  std::map<std::string, std::string> s;
  std::istringstream in(man);
  std::string line, current;
  while (std::getline(in, line)) {
    if (line.rfind(".SS ", 0) == 0) {
      current = line.substr(4);
      s[current];
    } else if (line.rfind(".S", 0) == 0) {
      current.clear();
    } else if (!current.empty()) {
      s[current] += plain(line) + "\n";
    }
  }
  return s;
}

// The commands --help lists: its lines "  NAME ..." (two spaces, then the name).
std::set<std::string> help_commands(const std::string& help) {
  std::set<std::string> names;
  static const std::regex entry(R"(^  ([a-z][a-z-]*)( |$))");
  std::istringstream in(help);
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, entry)) names.insert(m[1]);
  return names;
}

TEST(ManPage, IsRoffForSectionOneWithTheVersion) {
  const auto r = run_cli("--man");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(".TH LMSCOPE\\-CLI 1 "), std::string::npos) << r.out.substr(0, 400);
  EXPECT_NE(plain(r.out).find(std::string("\"lmscope ") + version() + "\""), std::string::npos);
  for (const char* s : {".SH NAME\nlmscope\\-cli \\- ", ".SH SYNOPSIS", ".SH COMMANDS", ".SH EXIT STATUS"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  // No line may start a request by accident.
  std::istringstream in(r.out);
  std::string line;
  static const std::set<std::string> requests{".\\\"", ".TH", ".SH", ".SS", ".B", ".I", ".br", ".nf", ".fi"};
  while (std::getline(in, line))
    if (!line.empty() && (line[0] == '.' || line[0] == '\'')) EXPECT_TRUE(requests.count(line.substr(0, line.find(' ')))) << line;
}

TEST(ManPage, HasEveryCommandAndOptionOfTheHelp) {
  const auto help = run_cli("--help");
  const auto man = run_cli("--man");
  ASSERT_EQ(help.code, 0);
  ASSERT_EQ(man.code, 0);
  const auto s = sections(man.out);
  const auto commands = help_commands(help.out);
  ASSERT_GE(commands.size(), 10u) << help.out;
  for (const auto& c : commands) EXPECT_TRUE(s.count(c)) << "no section for '" << c << "'";
  EXPECT_EQ(s.size(), commands.size());
  const std::string text = plain(man.out);
  for (const auto& o : options_in(help.out)) EXPECT_NE(text.find(o), std::string::npos) << o << " is in --help, not in the man page";
  EXPECT_NE(text.find("--allow-nonfinite is given"), std::string::npos);
}

// Each command's parser names the options it accepts when given one it does not know; each must be documented in
// that command's entry (so --help, and the page made from it, cannot fall behind the code).
TEST(ManPage, DocumentsEveryOptionEachCommandAccepts) {
  const auto s = sections(run_cli("--man").out);
  ASSERT_FALSE(s.empty());
  for (const auto& [command, text] : s) {
    const auto r = run_cli(command + " --lmscope-no-such-option");
    EXPECT_EQ(r.code, 2) << command << ": " << r.out;
    const auto known = r.out.find("(known:");
    const std::set<std::string> documented = options_in(text);
    if (known == std::string::npos) {
      // Positional arguments only (merge): then no option may be documented either.
      EXPECT_TRUE(documented.empty()) << command << " documents options but does not list any: " << r.out;
      continue;
    }
    for (const auto& o : options_in(r.out.substr(known, r.out.find(')', known) - known)))
      EXPECT_TRUE(documented.count(o)) << command << " accepts " << o << " but its --help entry does not list it";
  }
}

TEST(ManPage, TheBuiltPageIsTheCurrentOne) {
  const auto built = shell("gzip -dc '" LMSCOPE_MAN_PAGE "'");
  const auto man = run_cli("--man");
  EXPECT_EQ(built, man.out) << LMSCOPE_MAN_PAGE << " differs from `lmscope-cli --man`";
}

// groff, when installed (Debian: groff-base, which man-db needs), reads the page without a warning.
TEST(ManPage, GroffReadsItWithoutWarnings) {
  if (std::system("command -v groff >/dev/null 2>&1") != 0) GTEST_SKIP() << "groff is not installed";
  EXPECT_EQ(shell("'" LMSCOPE_CLI "' --man | groff -man -Tutf8 -ww -z; echo \"rc=$?\""), "rc=0\n");
}

}  // namespace
}  // namespace lmscope
