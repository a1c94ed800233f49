// Templates: checked at load with exact positions, rendered without re-expansion or injection.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "vigie/config/messages.h"
#include "vigie/config/toml_tree.h"
#include "vigie/rules/rule_messages.h"
#include "vigie/rules/template.h"

using namespace vigie;
using namespace vigie::rules;

namespace {
// Parses `summary = '<text>'` so positions come from a real TOML file.
struct Fixture {
  config::Diagnostics diags;
  std::shared_ptr<const config::TomlNode> root;
  explicit Fixture(std::string_view text) {
    root = config::parse_toml(text, "r.toml", diags);
    REQUIRE(root);
  }
  std::optional<Template> compile(const TemplateScope& scope, Escape e = Escape::slack) {
    const auto* v = root->get("summary");
    return Template::compile(v->string(), scope, v->pos(), diags, e);
  }
};
TemplateScope alert_scope() {
  TemplateScope s;
  s.builtins = alert_template_builtins();
  s.labels = {"project"};
  return s;
}
}  // namespace

TEST_CASE("a template renders builtins, labels, and event attributes") {
  Fixture f("summary = '{{count}} new errors in {{labels.project}} ({{project}}): {{title}}'\n");
  auto t = f.compile(alert_scope());
  REQUIRE(t);
  CHECK(t->variables() == std::vector<std::string>{"count", "labels.project", "project", "title"});
  nlohmann::json ctx{{"count", 5},
                     {"labels", {{"project", "shop-api"}}},
                     {"project", "shop-api"},
                     {"title", "KeyError: 'user'"}};
  CHECK(t->render(ctx) == "5 new errors in shop-api (shop-api): KeyError: 'user'");
}

TEST_CASE("an unknown label is a load error at its exact column, with a hint") {
  Fixture f("summary = 'errors in {{labels.projet}}'\n");
  CHECK_FALSE(f.compile(alert_scope()));
  REQUIRE(f.diags.items().size() == 1);
  const auto& d = f.diags.items()[0];
  CHECK(d.code == kTemplateUnknownVar.code);
  CHECK(d.message == config::fmt_message(kTemplateUnknownVar, "labels.projet",
                                         "errors in {{labels.projet}}"));
  CHECK(d.pos == config::SourcePos{"r.toml", 1, 24});
  CHECK(d.notes.front() == config::fmt_message(config::kNoteDidYouMean, "labels.project"));
}

TEST_CASE("syntax errors: unclosed tag, unclosed section, partials") {
  {
    Fixture f("summary = 'x {{count'\n");
    CHECK_FALSE(f.compile(alert_scope()));
    CHECK(f.diags.items()[0].code == kTemplateSyntax.code);
    CHECK(f.diags.items()[0].pos.column == 14);
  }
  {
    Fixture f("summary = '{{#labels}}x'\n");
    CHECK_FALSE(f.compile(alert_scope()));
    CHECK(f.diags.items()[0].code == kTemplateSyntax.code);
  }
  {
    Fixture f("summary = '{{> other}}'\n");
    CHECK_FALSE(f.compile(alert_scope()));
    CHECK(f.diags.items()[0].message ==
          config::fmt_message(kTemplateUnsupported, "{{> other}}", "a partial"));
  }
}

TEST_CASE("values are never expanded again: event text with {{ stays literal") {
  Fixture f("summary = 'title: {{title}}'\n");
  auto t = f.compile(alert_scope());
  REQUIRE(t);
  CHECK(t->render({{"title", "{{count}} {{#x}}y{{/x}}"}, {"count", 9}}) ==
        "title: {{count}} {{#x}}y{{/x}}");
}

TEST_CASE("Slack escaping defuses mentions and links from event text") {
  Fixture f("summary = 'log: {{message}}'\n");
  auto t = f.compile(alert_scope());
  REQUIRE(t);
  CHECK(t->render({{"message", "<!channel> look <@U123> & <http://x|y>"}}) ==
        "log: &lt;!channel&gt; look &lt;@U123&gt; &amp; &lt;http://x|y&gt;");
  Fixture raw("summary = '{{app}}'\n");
  TemplateScope params;
  params.params = {"app"};
  params.allow_attrs = false;
  auto p = raw.compile(params, Escape::none);
  REQUIRE(p);
  CHECK(p->render({{"app", "a&b"}}) == "a&b");
}

TEST_CASE("parameter templates accept only declared parameters") {
  Fixture f("summary = 'apps/{{ap}}/dynos'\n");
  TemplateScope params;
  params.params = {"app"};
  params.allow_attrs = false;
  params.allow_labels_namespace = false;
  CHECK_FALSE(f.compile(params, Escape::none));
  CHECK(f.diags.items()[0].notes.front() == config::fmt_message(config::kNoteDidYouMean, "app"));
}

TEST_CASE("a near miss of a builtin read from the event is a warning") {
  Fixture f("summary = '{{cuont}} errors'\n");
  auto t = f.compile(alert_scope());
  REQUIRE(t);
  REQUIRE(f.diags.warning_count() == 1);
  CHECK(f.diags.items()[0].message == config::fmt_message(kTemplateTypo, "cuont", "count"));
}

TEST_CASE("numbers and booleans render as written") {
  Fixture f("summary = '{{count}} {{rate}} {{#up}}up{{/up}}'\n");
  auto t = f.compile(alert_scope());
  REQUIRE(t);
  CHECK(t->render({{"count", 17}, {"rate", 0.25}, {"up", true}}) == "17 0.25 up");
}
