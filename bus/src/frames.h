// Internal: multipart frame helpers over cppzmq (topic frame + JSON body).
#pragma once

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace vigie::bus::detail {

inline bool send_frames(zmq::socket_t& s, const std::vector<std::string_view>& frames,
                        bool dontwait = false) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
    if (dontwait) flags = flags | zmq::send_flags::dontwait;
    if (!s.send(zmq::const_buffer(frames[i].data(), frames[i].size()), flags)) return false;
  }
  return true;
}

// Reads one multipart message without blocking; empty when none is waiting.
inline std::vector<std::string> recv_frames(zmq::socket_t& s) {
  std::vector<zmq::message_t> parts;
  auto n = zmq::recv_multipart(s, std::back_inserter(parts), zmq::recv_flags::dontwait);
  std::vector<std::string> out;
  if (!n) return out;
  out.reserve(parts.size());
  for (auto& p : parts) out.emplace_back(p.to_string());
  return out;
}

}  // namespace vigie::bus::detail
