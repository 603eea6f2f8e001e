// What this build is: the project version and the git revision of its sources (cmake/Version.cmake writes the
// definitions at build time). lmscope-cli --version, the GUI's About box, the Debian package and every report and
// results provenance state version().
#pragma once

namespace lmscope {

// "0.1.0+git20261201.224300.3acb97a": project version, commit date and time (UTC) and hash; ".dirty" follows when
// tracked files differed from the commit; "0.1.0+unknown" when the sources are not a git checkout (a tarball).
const char* version();
// The full commit hash, or "unknown".
const char* revision();
// The commit's date, YYYY-MM-DD (UTC), or "" when unknown.
const char* revision_date();

}  // namespace lmscope
