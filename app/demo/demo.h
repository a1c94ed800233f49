// `vigie demo`: the real daemon (every role, the real bus, a temporary SQLite store, the shipped
// examples/ rules) pointed at in-process simulators of every upstream on 127.0.0.1 — the fakes
// of tests/fakes/, speaking the documented wire formats — with a scripted scenario on a scaled
// demo clock, a coloured transcript, and the web view with its simulated Slack channel.
#pragma once

#include <iosfwd>
#include <string>

namespace vigie::app {

struct DemoOptions {
  int port = 8080;           // the web view and Vigie's HTTP API; 0: any free port
  double speed = 20;         // the demo clock runs this many times faster than real time
  std::string for_duration;  // "90s": stop after this much real time (empty: at Ctrl-C)
  bool no_scenario = false;  // simulators and web view only; drive it from the page
  std::string examples_dir;  // the shipped examples/ (empty: the source tree's, else ./examples)
  bool color = true;
};

int run_demo(const DemoOptions& options, std::ostream& out, std::ostream& err);

}  // namespace vigie::app
