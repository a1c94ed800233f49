// Rewrites the generated part of docs/configuration.md from the option tables.
// Usage: vigie-gen-docs docs/configuration.md
#include <fstream>
#include <iostream>
#include <sstream>

#include "vigie/app/reference.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: vigie-gen-docs docs/configuration.md\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string updated =
      vigie::app::splice_generated(buf.str(), vigie::app::configuration_reference_markdown());
  std::ofstream(argv[1]) << updated;
  return 0;
}
