// Message formatting.
#include "vigie/config/messages.h"

namespace vigie::config {

std::string fmt_message(const Message& m, std::initializer_list<std::string_view> args) {
  std::string out;
  out.reserve(m.text.size() + 32);
  auto arg = args.begin();
  for (std::size_t i = 0; i < m.text.size(); ++i) {
    if (m.text[i] == '{' && i + 1 < m.text.size() && m.text[i + 1] == '}') {
      if (arg != args.end()) out += *arg++;
      ++i;
    } else {
      out += m.text[i];
    }
  }
  return out;
}

}  // namespace vigie::config
