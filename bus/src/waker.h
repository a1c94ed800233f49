// Internal: an eventfd that wakes a thread blocked in zmq::poll (which polls plain fds too).
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace vigie::bus::detail {

class Waker {
 public:
  Waker() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~Waker() {
    if (fd_ >= 0) ::close(fd_);
  }
  Waker(const Waker&) = delete;
  Waker& operator=(const Waker&) = delete;

  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
  }
  // Clears pending wake-ups (call when poll reported the fd readable).
  void drain() {
    std::uint64_t v;
    [[maybe_unused]] auto n = ::read(fd_, &v, sizeof v);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace vigie::bus::detail
