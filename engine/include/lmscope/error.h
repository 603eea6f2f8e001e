// Errors the engine reports. BadInput is the user's to fix (a file, a field, an option: the message says which and
// what was expected); the command line maps it to exit code 2. Anything else escaping the engine is an internal error.
#pragma once

#include <stdexcept>
#include <string>

namespace lmscope {

class BadInput : public std::runtime_error {
 public:
  explicit BadInput(const std::string& what) : std::runtime_error(what) {}
};

// The device ran out of memory. A BadInput (the fix is a smaller batch, sequence or model); batch scoring catches
// it and retries with a smaller micro-batch.
class OutOfMemory : public BadInput {
 public:
  explicit OutOfMemory(const std::string& what) : BadInput(what) {}
};

// Writing an output failed (disk full, I/O error, the reader of a pipe went away): nothing is wrong with the input,
// but the result did not reach its destination. The message names the path; the command line exits with 1.
class OutputError : public std::runtime_error {
 public:
  explicit OutputError(const std::string& what) : std::runtime_error(what) {}
};

class InternalError : public std::runtime_error {
 public:
  explicit InternalError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace lmscope
