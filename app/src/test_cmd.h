// `vigie test`: runs rule unit tests.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace vigie::app {

struct TestOptions {
  std::vector<std::string> files;
  std::string config_path;  // optional: roles for `allow` come from its [access.roles]
  bool json = false;
};

// Exit codes: 0 every test passed, 1 a test failed or a file has errors, 2 unreadable input.
int run_tests(const TestOptions& options, std::ostream& out, std::ostream& err);

}  // namespace vigie::app
