// The real `vigie run`: ingest over HTTP end to end, health, metrics, reload, graceful stop; and
// crash safety: kill -9 at random moments under load, restart, and every event that got a 2xx is
// in the store exactly once.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "http_client.h"
#include "process.h"
#include "vigie/store/store.h"

using namespace vigie::testing;

namespace {

const std::string kBinary = VIGIE_BINARY;

struct Workspace {
  std::filesystem::path dir;
  explicit Workspace(const std::string& name, const std::string& extra = "") {
    dir = std::filesystem::temp_directory_path() / ("vigie-daemon-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "rules");
    std::ofstream(dir / "vigie.toml") << "rules = [\"rules/*.toml\"]\n[server]\nlisten = \"127.0.0.1:0\"\n"
                                         "[store]\npath = \"v.db\"\n[webhooks.deploys]\nkind = \"deploy.finished\"\n"
                                         "id = \"deploy_id\"\n"
                                      << extra;
    std::ofstream(dir / "rules" / "r.toml")
        << "[[rule]]\nname = \"disk\"\nwhen = 'kind == \"alertmanager.alert\" and alertname == \"DiskFull\"'\n"
           "group_by = [\"instance\"]\nresolve_when = 'kind == \"alertmanager.alert\" and status == \"resolved\"'\n";
  }
  ~Workspace() { std::filesystem::remove_all(dir); }
  std::string config() const { return (dir / "vigie.toml").string(); }
  std::string file(const char* name) const { return (dir / name).string(); }
};

// Starts `vigie run` and returns its port, or 0.
std::uint16_t start(std::unique_ptr<Child>& child, const Workspace& ws) {
  std::filesystem::remove(ws.file("out.log"));
  child = std::make_unique<Child>(std::vector<std::string>{kBinary, "run", "-c", ws.config()}, ws.file("out.log"),
                                  ws.file("err.log"));
  const std::string line = wait_for_line(ws.file("out.log"), "listening on http://127.0.0.1:", 20000);
  if (line.empty()) return 0;
  return static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
}

}  // namespace

TEST_CASE("vigie run takes events over HTTP, stores them once, and stops cleanly on SIGTERM") {
  Workspace ws("e2e");
  std::unique_ptr<Child> vigie;
  const auto port = start(vigie, ws);
  REQUIRE(port != 0);
  HttpClient http(port);
  const std::string alert = R"([{"labels":{"alertname":"DiskFull","instance":"db1"},"startsAt":"2026-11-22T09:00:00Z"}])";
  CHECK(http.request("POST", "/api/v2/alerts", alert).status == 200);
  CHECK(http.request("POST", "/api/v2/alerts", alert).status == 200);  // Prometheus re-sending: deduplicated
  auto hook = http.request("POST", "/webhooks/deploys", R"({"deploy_id":"d-1","app":"shop-api"})");
  CHECK(hook.status == 200);
  CHECK(hook.body == R"({"duplicates":0,"stored":1})");
  auto again = http.request("POST", "/webhooks/deploys", R"({"deploy_id":"d-1","app":"shop-api"})");
  CHECK(again.body == R"({"duplicates":1,"stored":0})");
  CHECK(http.request("POST", "/api/v2/alerts", "{nope").status == 400);
  CHECK(http.request("POST", "/webhooks/../etc", "{}").status == 404);
  CHECK(http.request("GET", "/api/v2/alerts").status == 405);
  // Hostile bodies get clear errors and the daemon lives on.
  const std::string deep = R"({"deploy_id":"x","a":)" + std::string(300000, '[') + std::string(300000, ']') + "}";
  CHECK(http.request("POST", "/webhooks/deploys", deep).status == 400);
  CHECK(http.request("POST", "/api/v2/alerts", std::string("\xff\xfe\x00junk", 7)).status == 400);
  CHECK(http.request("POST", "/api/v2/alerts", std::string(2 << 20, 'x')).status == 413);
  // 10 MB on every route that reads a body: 413 with a JSON error before the body is read in full.
  for (const char* route :
       {"/api/v2/alerts", "/webhooks/alertmanager", "/webhooks/deploys", "/slack/events",
        "/slack/commands", "/slack/interactive", "/-/reload"}) {
    INFO(route);
    HttpClient big(port, 30'000);
    const auto r = big.request("POST", route, std::string(10 << 20, '['));
    CHECK(r.status == 413);
    CHECK(r.body.find(R"("error":"body too large")") != std::string::npos);
  }
  // Path traversal in webhook names, encoded or not, and a NUL: no such webhook.
  for (const char* target :
       {"/webhooks/%2e%2e/etc", "/webhooks/..%2fetc%2fpasswd", "/webhooks/deploys%00",
        "/webhooks/deploys/../deploys", "/webhooks/./deploys", "/webhooks/"}) {
    INFO(target);
    const auto r = http.request("POST", target, R"({"deploy_id":"trav"})");
    CHECK(r.status == 404);
    CHECK(r.body.find(R"("error":"unknown webhook")") != std::string::npos);
  }
  // A scanner's random paths: 404s counted under one label, not a metric series each.
  for (int i = 0; i < 20; ++i) {
    CHECK(http.request("GET", "/scan-" + std::to_string(i) + "/wp-login.php").status == 404);
  }
  HttpClient fresh(port);
  CHECK(fresh.request("GET", "/healthz").body == R"({"status":"ok"})");
  const auto metrics = http.request("GET", "/metrics");
  CHECK(metrics.body.find("scan-") == std::string::npos);
  CHECK(metrics.body.find(R"(vigie_http_requests_total{path="other",status="404"} 20)") !=
        std::string::npos);
  CHECK(metrics.body.find("vigie_events_stored_total{source=\"alertmanager\"} 1") != std::string::npos);
  CHECK(metrics.body.find("vigie_events_deduplicated_total{source=\"alertmanager\"} 1") != std::string::npos);
  CHECK(metrics.body.find("vigie_reload_success 1") != std::string::npos);
  CHECK(metrics.body.find("vigie_jobs_created_total{kind=\"notify\"} 1") != std::string::npos);  // the disk alert's post
  CHECK(metrics.body.find("vigie_store_commit_seconds_count") != std::string::npos);
  // The in-process worker took the disk alert's notify job (to the log: no [slack] here).
  CHECK_FALSE(wait_for_line(ws.file("err.log"), "alert notification job=notify:", 10000).empty());
  CHECK(wait_for_line(ws.file("err.log"), "alert notification", 100).find("rule=disk") != std::string::npos);

  // A broken rule file: the reload fails, says why, and the last good rules keep running.
  std::ofstream(ws.dir / "rules" / "bad.toml") << "[[rule]]\nname = \"x\"\nwhen = 'kind =='\n";
  auto reload = http.request("POST", "/-/reload");
  CHECK(reload.status == 400);
  CHECK(reload.body.find("bad.toml:3") != std::string::npos);
  std::filesystem::remove(ws.dir / "rules" / "bad.toml");
  CHECK(http.request("POST", "/-/reload").status == 200);

  // Saving a rule file reloads by itself.
  std::ofstream(ws.dir / "rules" / "more.toml") << "[[rule]]\nname = \"deploys\"\nwhen = 'kind == \"deploy.finished\"'\n";
  CHECK_FALSE(wait_for_line(ws.file("err.log"), "rule files changed: reloading", 10000).empty());
  CHECK_FALSE(wait_for_line(ws.file("err.log"), "rules reloaded rules=2", 10000).empty());

  vigie->signal(SIGTERM);
  CHECK(vigie->wait(15000) == 0);

  auto events = run_process({kBinary, "events", "-c", ws.config(), "--json"});
  REQUIRE(events.exit_code == 0);
  const auto list = nlohmann::json::parse(events.out);
  CHECK(list.size() >= 2);  // the alert and the deploy, each once (plus the alert.fired transition)
  auto reloads = run_process({kBinary, "events", "-c", ws.config(), "--kind", "vigie.reload", "--json"});
  const auto reload_events = nlohmann::json::parse(reloads.out);
  REQUIRE(reload_events.size() >= 3);  // failed, good, and the one the file change caused
  bool saw_failed = false;
  for (const auto& e : reload_events) saw_failed = saw_failed || e["attrs"]["ok"] == false;
  CHECK(saw_failed);
  auto alerts = run_process({kBinary, "alerts", "-c", ws.config(), "--json"});
  const auto open = nlohmann::json::parse(alerts.out);
  REQUIRE(open.size() == 1);
  CHECK(open[0]["rule"] == "disk");
  CHECK(open[0]["labels"]["instance"] == "db1");
}

// Waits (bounded) until the store has no pending or dispatched job; returns how many are left.
std::size_t wait_for_outbox_drained(const std::string& db, int timeout_ms) {
  std::size_t left = 0;
  for (int waited = 0; waited <= timeout_ms; waited += 100) {
    auto store = vigie::store::Store::open(db);
    if (store) {
      auto unfinished = (*store)->unfinished_jobs();
      left = unfinished ? unfinished->size() : 1;
      if (left == 0) return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return left;
}

TEST_CASE("kill -9 under load, ten times: every event that got a 2xx is stored exactly once, every committed job is done") {
  Workspace ws("crash");
  // A tenth of the load fires alerts: their notify jobs are committed in the outbox and run by
  // the in-process worker, with kills landing between the commit and the result.
  std::ofstream(ws.dir / "rules" / "load.toml")
      << "[[rule]]\nname = \"load\"\nwhen = 'alertname == \"Load\" and n ends_with \"7\"'\ngroup_by = [\"n\"]\n";
  std::mutex mutex;
  std::set<std::string> acked;  // ids that got a 2xx
  std::atomic<int> next_id{0};
  std::mt19937 rng(20261122);
  for (int round = 0; round < 10; ++round) {
    std::unique_ptr<Child> vigie;
    const auto port = start(vigie, ws);
    REQUIRE(port != 0);
    std::atomic<bool> stop{false};
    std::vector<std::thread> senders;
    for (int t = 0; t < 3; ++t) {
      senders.emplace_back([&, port] {
        HttpClient http(port, 5000);
        while (!stop) {
          // Batches of 20 events as Alertmanager alerts with unique label sets.
          std::string body = "[";
          std::vector<std::string> ids;
          for (int i = 0; i < 20; ++i) {
            const int n = next_id++;
            ids.push_back(std::to_string(n));
            body += std::string(i ? "," : "") + R"({"labels":{"alertname":"Load","n":")" + std::to_string(n) +
                    R"("},"startsAt":"2026-11-22T09:00:00Z"})";
          }
          body += "]";
          auto r = http.request("POST", "/api/v2/alerts", body);
          if (r.status == 200) {
            std::lock_guard lock(mutex);
            for (const auto& id : ids) acked.insert(id);
          } else if (r.status == 0) {
            return;  // the server died
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 400));  // a random moment
    vigie->signal(SIGKILL);
    vigie->wait(5000);
    stop = true;
    for (auto& s : senders) s.join();
  }
  REQUIRE(acked.size() > 100);
  // Every acked event is in the store, once: ids are unique there by construction, so check
  // presence by each alert's label n (the event id embeds the fingerprint of its labels).
  auto store = vigie::store::Store::open(ws.file("v.db"));
  REQUIRE(store);
  std::set<std::string> stored;
  auto all = (*store)->recent_events(std::string("alertmanager.alert"), std::nullopt, 10'000'000);
  REQUIRE(all);
  std::size_t rows = 0;
  for (const auto& e : *all) {
    ++rows;
    stored.insert(e.attrs.value("n", ""));
  }
  CHECK(rows == stored.size());  // no event twice
  std::vector<std::string> lost;
  for (const auto& id : acked) {
    if (!stored.count(id)) lost.push_back(id);
  }
  INFO("acked " << acked.size() << ", stored " << stored.size() << ", lost " << lost.size());
  CHECK(lost.empty());

  // Every job committed in the outbox is dispatched after the restart and finishes.
  auto alerts = (*store)->alerts_in_state(std::nullopt);
  REQUIRE(alerts);
  std::size_t load_alerts = 0;
  for (const auto& a : *alerts) load_alerts += a.rule == "load";
  CHECK(load_alerts > 0);
  store->reset();
  std::unique_ptr<Child> vigie;
  REQUIRE(start(vigie, ws) != 0);
  CHECK(wait_for_outbox_drained(ws.file("v.db"), 30000) == 0);
  vigie->signal(SIGTERM);
  CHECK(vigie->wait(15000) == 0);
  auto after = vigie::store::Store::open(ws.file("v.db"));
  REQUIRE(after);
  auto final_alerts = (*after)->alerts_in_state(std::nullopt);
  REQUIRE(final_alerts);
  std::size_t posted = 0;
  for (const auto& a : *final_alerts) {
    if (a.rule != "load") continue;
    auto job = (*after)->find_job("notify:" + std::to_string(a.id) + ":1");
    REQUIRE(job);
    if (*job && (*job)->state == "done") ++posted;
  }
  CHECK(posted == load_alerts);  // each alert's first message job: committed, then done
}
