// The ZeroMQ bus between roles (reference: the ZeroMQ Guide's reliable request-reply chapters):
//  - ingest: producers (HTTP handlers, collectors) → engine, DEALER/ROUTER, each batch acked only
//    after the engine committed it, with a bounded window of un-acked batches per producer;
//  - jobs: engine → workers, ROUTER/DEALER, workers ask for work, results return on the same
//    socket, a job whose worker goes silent or overruns is dispatched again;
//  - fan-out: PUB/SUB of stored events and transitions, the event kind as topic frame.
// Every message is a topic frame plus a versioned JSON body. `inproc://` endpoints need one
// BusContext shared by all roles of the process; `tcp://` ones connect processes and hosts.
#pragma once

#include <memory>
#include <string>

namespace zmq {
class context_t;
}

namespace vigie::bus {

inline constexpr int kBusVersion = 1;

struct Endpoints {
  std::string ingest = "inproc://vigie-ingest";
  std::string jobs = "inproc://vigie-jobs";
  std::string events = "inproc://vigie-events";
};

// Owns the ZeroMQ context. Create one per process; share it by reference.
class BusContext {
 public:
  BusContext();
  ~BusContext();
  zmq::context_t& zmq();

 private:
  std::unique_ptr<zmq::context_t> ctx_;
};

}  // namespace vigie::bus
