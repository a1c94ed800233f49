// Who may do what from Slack: [access.roles] maps each role to Slack user ids (U…/W…) and,
// optionally, channels (#C…: anyone speaking there holds the role). Read-only commands are open to
// everyone unless [access] read names roles; alert handling (ack, resolve, silence, the alert
// buttons) needs any role once roles are configured; actions need one of their `allow` roles and
// are denied by default.
#pragma once

#include <string>
#include <vector>

#include "vigie/config/config.h"

namespace vigie::chat {

class Access {
 public:
  Access() = default;
  explicit Access(config::AccessConfig config) : config_(std::move(config)) {}

  // The roles `user` holds when speaking in `channel`, sorted.
  std::vector<std::string> roles_of(const std::string& user, const std::string& channel) const;
  // Whether the user holds one of `roles` (an empty list admits nobody).
  bool holds_any(const std::string& user, const std::string& channel, const std::vector<std::string>& roles) const;
  bool may_read(const std::string& user, const std::string& channel) const;
  // With no roles configured (a fresh install), everyone may handle alerts.
  bool may_handle_alerts(const std::string& user, const std::string& channel) const;
  // The roles that may handle alerts, for a denial's reply.
  std::vector<std::string> all_roles() const;
  const std::vector<std::string>& read_roles() const { return config_.read; }

 private:
  config::AccessConfig config_;
};

}  // namespace vigie::chat
