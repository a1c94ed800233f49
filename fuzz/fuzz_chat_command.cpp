// What people type to Vigie and the buttons they press: the command line (quotes, built-ins,
// [[command]] aliases with typed placeholders, did-you-mean) and clicks with any action_id and
// value, handled by the real ChatCommands against an in-memory store and engine. Also the alias
// pattern parser itself, with the input as a pattern.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "vigie/app/catalogs.h"
#include "vigie/bus/event.h"
#include "vigie/chat/access.h"
#include "vigie/chat/commands.h"
#include "vigie/config/config.h"
#include "vigie/config/diagnostics.h"
#include "vigie/rules/command_pattern.h"
#include "vigie/rules/engine.h"
#include "vigie/rules/rule_set.h"
#include "vigie/store/store.h"

namespace {

constexpr const char* kRules = R"(
[[rule]]
name = "burst"
when = 'kind == "sentry.issue"'
group_by = ["project"]
offer = ["restart-app"]

[[action]]
name = "restart-app"
type = "exec"
argv = ["/bin/echo", "{{project}}"]
params = { project = "word" }
allow = ["oncall"]
approvals = 1

[[command]]
pattern = "restart {project:word} {n:int} {d:duration} {mode:choice(soft|hard)} {rest:text}"
action = "restart-app"
allow = ["oncall"]
)";

// Everything one run of commands acts on. It owns its clock: the engine cancels its timers when it
// is destroyed, which must happen before the clock goes (static destruction order would not say).
struct World {
  vigie::FakeClock clock;
  std::unique_ptr<vigie::store::Store> store;
  std::unique_ptr<vigie::rules::Engine> engine;
  std::unique_ptr<vigie::chat::ChatCommands> chat;
  int n = 0;
};

std::unique_ptr<World> make_world() {
  auto owned = std::make_unique<World>();
  World& w = *owned;
  w.store = std::move(*vigie::store::Store::open(":memory:"));
  auto& clock = w.clock;
  auto& logging = vigie::fuzz::quiet_logging();
  w.engine = std::make_unique<vigie::rules::Engine>(*w.store, clock, logging.logger("engine"));
  static const auto catalogs = vigie::app::builtin_catalogs();
  vigie::rules::RuleLoadContext ctx;
  ctx.action_kinds = &catalogs.actions;
  ctx.roles = {"oncall"};
  vigie::config::Diagnostics diags;
  auto set = vigie::rules::load_rule_texts({{"fuzz.toml", kRules}}, ctx, diags);
  if (!set) {
    std::fprintf(stderr, "%s", diags.render_text().c_str());
    abort();  // the harness's own rules must load
  }
  w.engine->set_rules(set);
  w.chat = std::make_unique<vigie::chat::ChatCommands>(*w.engine, *w.store, clock, logging.logger("chat"));
  w.chat->set_rules(set);
  vigie::config::AccessConfig access;
  access.roles["oncall"] = {"U0ALICE"};
  w.chat->set_access(vigie::chat::Access(access));
  // One open alert to act on.
  vigie::bus::Event e;
  e.id = "seed";
  e.source = "sentry";
  e.kind = "sentry.issue";
  e.time = e.received_at = clock.system_now();
  e.attrs = {{"project", "shop-api"}};
  (void)w.engine->ingest({e});
  return owned;
}

// The in-memory store grows with every command (events, audit rows): start afresh now and then so
// a long run stays within the fuzzer's memory limit.
World& world() {
  static std::unique_ptr<World> w;
  static int uses = 0;
  if (!w || ++uses % 2000 == 0) {
    w.reset();
    w = make_world();
  }
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(vigie::fuzz::as_text(data, size));
  auto& w = world();
  auto& clock = w.clock;
  vigie::bus::Event e;
  e.id = "fuzz-" + std::to_string(++w.n);
  e.source = "slack";
  e.time = e.received_at = clock.system_now();
  if (size > 0 && data[0] == '!') {
    // A click: action_id and value from the input (split at the first space).
    const auto sp = text.find(' ');
    e.kind = "chat.action";
    e.attrs = {{"user", (w.n % 2) ? "U0ALICE" : "U0BOB"}, {"channel", "C1"}, {"message_ts", "1.1"},
               {"action_id", text.substr(1, sp == std::string::npos ? std::string::npos : sp - 1)},
               {"value", sp == std::string::npos ? "" : text.substr(sp + 1)}, {"response_url", ""}};
  } else {
    e.kind = "chat.command";
    e.attrs = {{"user", (w.n % 2) ? "U0ALICE" : "U0BOB"}, {"channel", "C1"}, {"text", text}, {"via", "slash"},
               {"response_url", ""}};
  }
  (void)w.chat->handle(e);
  (void)w.chat->tick();

  auto words = vigie::rules::CommandPattern::split_words(text);
  auto pattern = vigie::rules::CommandPattern::parse(text);
  if (auto* p = std::get_if<vigie::rules::CommandPattern>(&pattern); p && words) {
    (void)p->match(*words);
    (void)p->usage();
  }
  return 0;
}
