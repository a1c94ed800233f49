// Rewrites the generated parts of docs/configuration.md and docs/rules.md from the option tables.
// Usage: vigie-gen-docs DOCS_DIR
#include <fstream>
#include <iostream>
#include <sstream>

#include "vigie/app/reference.h"

namespace {
bool rewrite(const std::string& path, const std::string& generated) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "vigie-gen-docs: cannot read " << path << "\n";
    return false;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::ofstream(path) << vigie::app::splice_generated(buf.str(), generated);
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: vigie-gen-docs DOCS_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  const bool ok = rewrite(dir + "/configuration.md", vigie::app::configuration_reference_markdown()) &&
                  rewrite(dir + "/rules.md", vigie::app::rules_reference_markdown());
  return ok ? 0 : 1;
}
