// The roles as separate processes over tcp://127.0.0.1 (`vigie run --role collector|engine|worker`):
// the same flow as one process — an alert posted to the collector is stored by the engine, its
// notify job runs on the worker — including a worker killed and restarted, with OS-chosen ports.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "http_client.h"
#include "process.h"
#include "vigie/store/store.h"

using namespace vigie::testing;

namespace {

const std::string kBinary = VIGIE_BINARY;

struct Workspace {
  std::filesystem::path dir;
  explicit Workspace(const std::string& name) {
    dir = std::filesystem::temp_directory_path() / ("vigie-roles-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "rules");
    std::ofstream(dir / "rules" / "r.toml")
        << "[[rule]]\nname = \"disk\"\nwhen = 'kind == \"alertmanager.alert\" and alertname == \"DiskFull\"'\n"
           "group_by = [\"instance\"]\n";
  }
  ~Workspace() { std::filesystem::remove_all(dir); }
  std::string file(const std::string& name) const { return (dir / name).string(); }
  // A vigie.toml with a tcp bus; ports "*" let the engine's OS pick them.
  std::string write_config(const std::string& name, const std::string& ingest, const std::string& jobs,
                           const std::string& events) const {
    std::ofstream(dir / name) << "rules = [\"rules/*.toml\"]\n[server]\nlisten = \"127.0.0.1:0\"\n"
                                 "[store]\npath = \"v.db\"\n[bus]\nmode = \"tcp\"\nworker_timeout = \"2s\"\n"
                                 "ingest = \"" << ingest << "\"\njobs = \"" << jobs << "\"\nevents = \"" << events << "\"\n";
    return file(name);
  }
};

std::uint16_t port_of(const std::string& listening_line) {
  if (listening_line.empty()) return 0;
  return static_cast<std::uint16_t>(std::stoi(listening_line.substr(listening_line.rfind(':') + 1)));
}

// Starts one role; returns its HTTP port when it serves one (0 otherwise).
std::uint16_t start_role(std::unique_ptr<Child>& child, const Workspace& ws, const std::string& config,
                         const std::string& role, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{kBinary, "run", "-c", config, "--role", role};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::filesystem::remove(ws.file(role + ".out"));
  child = std::make_unique<Child>(argv, ws.file(role + ".out"), ws.file(role + ".err"));
  REQUIRE_FALSE(wait_for_line(ws.file(role + ".out"), "running role " + role, 20000).empty());
  return port_of(wait_for_line(ws.file(role + ".out"), "listening on http://127.0.0.1:", 100));
}

std::size_t unfinished_jobs(const std::string& db) {
  auto store = vigie::store::Store::open(db);
  if (!store) return 1;
  auto jobs = (*store)->unfinished_jobs();
  return jobs ? jobs->size() : 1;
}

bool eventually(const std::function<bool()>& pred, int timeout_ms = 20000) {
  for (int waited = 0; waited < timeout_ms; waited += 50) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

std::string disk_alert(const std::string& instance) {
  return R"([{"labels":{"alertname":"DiskFull","instance":")" + instance + R"("},"startsAt":"2026-11-22T09:00:00Z"}])";
}

}  // namespace

TEST_CASE("collector, engine and worker as three processes over tcp://127.0.0.1, with a worker restart") {
  Workspace ws("three");
  const std::string any = "tcp://127.0.0.1:*";
  const auto engine_config = ws.write_config("engine.toml", any, any, any);

  std::unique_ptr<Child> engine;
  const auto engine_port = start_role(engine, ws, engine_config, "engine", {"--listen", "127.0.0.1:0"});
  REQUIRE(engine_port != 0);
  const std::string bound = wait_for_line(ws.file("engine.out"), "engine bound ingest=", 1000);
  std::smatch m;
  REQUIRE(std::regex_search(bound, m, std::regex(R"(ingest=(\S+) jobs=(\S+) events=(\S+))")));
  const auto roles_config = ws.write_config("roles.toml", m[1], m[2], m[3]);

  std::unique_ptr<Child> worker, collector;
  start_role(worker, ws, roles_config, "worker");
  const auto port = start_role(collector, ws, roles_config, "collector");
  REQUIRE(port != 0);

  HttpClient http(port);
  CHECK(http.request("POST", "/api/v2/alerts", disk_alert("db1")).status == 200);
  CHECK(http.request("POST", "/api/v2/alerts", disk_alert("db1")).status == 200);  // deduplicated by the engine
  // The engine stored it, and its notify job ran on the worker process.
  CHECK(eventually([&] { return unfinished_jobs(ws.file("v.db")) == 0; }));
  CHECK(wait_for_line(ws.file("worker.err"), "alert notification", 10000).find("rule=disk") != std::string::npos);
  CHECK(http.request("GET", "/healthz").body == R"({"status":"ok"})");

  // Each process serves what its role owns: reload is the engine's, intake the collector's.
  HttpClient engine_http(engine_port);
  CHECK(engine_http.request("GET", "/healthz").status == 200);
  CHECK(engine_http.request("POST", "/-/reload").status == 200);
  CHECK(engine_http.request("POST", "/api/v2/alerts", disk_alert("x")).status == 404);
  const auto reload = http.request("POST", "/-/reload");
  CHECK(reload.status == 404);
  CHECK(reload.body.find("role collector") != std::string::npos);
  CHECK(engine_http.request("GET", "/metrics").body.find("vigie_jobs_finished_total{outcome=\"ok\"} 1") !=
        std::string::npos);

  // The worker dies: events are still taken and stored, the job waits, and a new worker runs it.
  worker->signal(SIGKILL);
  worker->wait(5000);
  CHECK(http.request("POST", "/api/v2/alerts", disk_alert("db2")).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a window for a wrong dispatch to show
  CHECK(unfinished_jobs(ws.file("v.db")) == 1);
  std::filesystem::remove(ws.file("worker.err"));
  start_role(worker, ws, roles_config, "worker");
  CHECK(eventually([&] { return unfinished_jobs(ws.file("v.db")) == 0; }));
  CHECK(wait_for_line(ws.file("worker.err"), "alert notification", 10000).find("instance") != std::string::npos);

  // The worker's own kill switch: its vigie.toml re-read on SIGHUP (the engine holds the rules).
  std::ofstream(roles_config, std::ios::app) << "[actions]\nenabled = false\n";
  worker->signal(SIGHUP);
  CHECK(wait_for_line(ws.file("worker.err"), "SIGHUP: [actions] enabled re-read", 10000).find("enabled=false") !=
        std::string::npos);

  for (auto* child : {&collector, &worker, &engine}) (*child)->signal(SIGTERM);
  CHECK(collector->wait(15000) == 0);
  CHECK(worker->wait(15000) == 0);
  CHECK(engine->wait(15000) == 0);

  auto events = run_process({kBinary, "events", "-c", engine_config, "--kind", "alertmanager.alert", "--json"});
  REQUIRE(events.exit_code == 0);
  CHECK(nlohmann::json::parse(events.out).size() == 2);  // db1 once, db2
  auto alerts = run_process({kBinary, "alerts", "-c", engine_config, "--json"});
  CHECK(nlohmann::json::parse(alerts.out).size() == 2);
}

TEST_CASE("a single role without a tcp bus is refused with the fix") {
  Workspace ws("inproc");
  std::ofstream(ws.dir / "vigie.toml") << "rules = [\"rules/*.toml\"]\n[store]\npath = \"v.db\"\n";
  auto r = run_process({kBinary, "run", "-c", ws.file("vigie.toml"), "--role", "worker"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("[bus] mode = \"tcp\"") != std::string::npos);
  auto bad = run_process({kBinary, "run", "-c", ws.file("vigie.toml"), "--role", "everything"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("everything") != std::string::npos);
}
