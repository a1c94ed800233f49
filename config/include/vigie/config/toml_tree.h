// A TOML document as our own tree with 1-based source positions on every key and value, so that
// loaders (vigie.toml, rule files, rule tests) never include TOML++ (which costs seconds per
// translation unit); toml_reader.cpp is the one file that does.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vigie/config/diagnostics.h"

namespace vigie::config {

class TomlNode;

struct TomlEntry {
  std::string key;
  SourcePos key_pos;  // where the key is written
  std::shared_ptr<const TomlNode> value;
};

class TomlNode {
 public:
  enum class Type { string, integer, floating, boolean, datetime, array, table };

  Type type() const { return type_; }
  const SourcePos& pos() const { return pos_; }

  bool is_string() const { return type_ == Type::string; }
  bool is_integer() const { return type_ == Type::integer; }
  bool is_number() const { return type_ == Type::integer || type_ == Type::floating; }
  bool is_bool() const { return type_ == Type::boolean; }
  bool is_array() const { return type_ == Type::array; }
  bool is_table() const { return type_ == Type::table; }

  // Scalars. string() also holds a datetime's TOML text.
  const std::string& string() const { return string_; }
  std::int64_t integer() const { return integer_; }
  double number() const { return type_ == Type::integer ? static_cast<double>(integer_) : float_; }
  bool boolean() const { return bool_; }

  // Arrays.
  const std::vector<std::shared_ptr<const TomlNode>>& items() const { return items_; }
  // Tables, in source order.
  const std::vector<TomlEntry>& entries() const { return entries_; }
  const TomlEntry* find(std::string_view key) const;
  const TomlNode* get(std::string_view key) const;

  // "string", "integer", "float", "boolean", "date-time", "array", "table"
  static std::string_view type_name(Type t);

  // Builders for the reader (and tests).
  static std::shared_ptr<TomlNode> make(Type type, SourcePos pos);
  void set_string(std::string s) { string_ = std::move(s); }
  void set_integer(std::int64_t v) { integer_ = v; }
  void set_float(double v) { float_ = v; }
  void set_bool(bool v) { bool_ = v; }
  void push(std::shared_ptr<const TomlNode> item) { items_.push_back(std::move(item)); }
  void insert(TomlEntry entry) { entries_.push_back(std::move(entry)); }

 private:
  Type type_ = Type::table;
  SourcePos pos_;
  std::string string_;
  std::int64_t integer_ = 0;
  double float_ = 0;
  bool bool_ = false;
  std::vector<std::shared_ptr<const TomlNode>> items_;
  std::vector<TomlEntry> entries_;
};

// Parses TOML text. A syntax error becomes one diagnostic (code toml-syntax) at its position and
// nullptr is returned; the file's text is registered with `diags` either way for snippets.
std::shared_ptr<const TomlNode> parse_toml(std::string_view text, const std::string& file,
                                           Diagnostics& diags);

// Reads and parses a file; an unreadable file is one diagnostic (code io) without position.
std::shared_ptr<const TomlNode> parse_toml_file(const std::string& path, Diagnostics& diags);

}  // namespace vigie::config

namespace vigie::config {

// The source position of byte `offset` of a string value's *decoded* content, given the position
// of the value (its opening quote). Reads the raw file text registered in `sources` so escapes
// (`\"`, `\u00e9`), line-ending backslashes and multi-line strings ('''...''', """...""", whose
// first newline TOML trims) map exactly. Falls back to `value_pos` when the text is unknown.
// Lines and columns are 1-based; an error inside an expression or template uses this so the
// caret lands on the exact character inside the string.
SourcePos locate_in_string(const Diagnostics& sources, const SourcePos& value_pos,
                           std::size_t offset);

}  // namespace vigie::config
