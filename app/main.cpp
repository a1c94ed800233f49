// Entry point of the `vigie` binary.
#include <iostream>

#include "vigie/app/cli.h"

int main(int argc, char** argv) { return vigie::app::run_cli(argc, argv, std::cout, std::cerr); }
