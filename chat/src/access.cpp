// Roles from [access].
#include "vigie/chat/access.h"

#include <algorithm>

namespace vigie::chat {

std::vector<std::string> Access::roles_of(const std::string& user, const std::string& channel) const {
  std::vector<std::string> out;
  for (const auto& [role, members] : config_.roles) {
    for (const auto& m : members) {
      const bool is_user = !user.empty() && m == user;
      const bool is_channel = !channel.empty() && m.size() > 1 && m[0] == '#' && m.substr(1) == channel;
      if (is_user || is_channel) {
        out.push_back(role);
        break;
      }
    }
  }
  return out;  // std::map keeps roles sorted
}

bool Access::holds_any(const std::string& user, const std::string& channel, const std::vector<std::string>& roles) const {
  const auto mine = roles_of(user, channel);
  return std::any_of(roles.begin(), roles.end(),
                     [&](const std::string& r) { return std::find(mine.begin(), mine.end(), r) != mine.end(); });
}

bool Access::may_read(const std::string& user, const std::string& channel) const {
  return config_.read.empty() || holds_any(user, channel, config_.read);
}

bool Access::may_handle_alerts(const std::string& user, const std::string& channel) const {
  return config_.roles.empty() || !roles_of(user, channel).empty();
}

std::vector<std::string> Access::all_roles() const {
  std::vector<std::string> out;
  for (const auto& [role, _] : config_.roles) out.push_back(role);
  return out;
}

}  // namespace vigie::chat
