// Conditions: lexer, recursive-descent parser with type checks, and the allocation-free
// evaluator. Errors are reported at their column inside the TOML string (config::locate_in_string
// maps the offset, escapes and multi-line strings included).
#include "vigie/rules/condition.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

#include "vigie/config/messages.h"
#include "vigie/config/toml_tree.h"
#include "vigie/core/text.h"
#include "vigie/rules/rule_messages.h"

namespace vigie::rules {

using config::fmt_message;

// ---------------------------------------------------------------------------------------------
// The compiled program: a flat node array; children of and/or are index ranges.

namespace {

enum class Op : std::uint8_t {
  and_, or_, not_, eq, ne, lt, le, gt, ge, in, contains, starts_with, ends_with, matches, exists,
  constant
};

enum class LitType : std::uint8_t { string, number, boolean, duration, list };

struct Literal {
  LitType type = LitType::string;
  std::string str;
  double num = 0;  // number, or a duration in seconds
  bool boolean = false;
  std::int64_t ms = 0;  // duration
};

struct Node {
  Op op = Op::constant;
  std::uint32_t first = 0, count = 0;  // children (and/or/not)
  std::uint32_t path = 0;              // index into paths
  Literal lit;
  std::vector<std::string> strings;  // `in` set, sorted
  std::vector<double> numbers;       // `in` set
  bool has_true = false, has_false = false;
  std::shared_ptr<re2::RE2> regex;
  bool constant = false;
};

}  // namespace

struct Condition::Program {
  std::vector<Node> nodes;
  std::vector<std::uint32_t> children;
  std::vector<bus::FieldPath> paths;
  std::uint32_t root = 0;
};

namespace {

// ---------------------------------------------------------------------------------------------
// Lexer.

enum class Tok {
  ident, string, number, duration, lparen, rparen, lbrack, rbrack, comma, eq, ne, lt, le, gt, ge,
  kw_and, kw_or, kw_not, kw_in, kw_contains, kw_starts_with, kw_ends_with, kw_matches, kw_exists,
  kw_true, kw_false, bad_op, end, error
};

struct Token {
  Tok type = Tok::end;
  std::string text;  // identifier, decoded string, number text, operator
  std::size_t offset = 0;
  double number = 0;
  std::int64_t ms = 0;
};

constexpr std::array<std::pair<std::string_view, Tok>, 11> kKeywords{{
    {"and", Tok::kw_and},
    {"or", Tok::kw_or},
    {"not", Tok::kw_not},
    {"in", Tok::kw_in},
    {"contains", Tok::kw_contains},
    {"starts_with", Tok::kw_starts_with},
    {"ends_with", Tok::kw_ends_with},
    {"matches", Tok::kw_matches},
    {"exists", Tok::kw_exists},
    {"true", Tok::kw_true},
    {"false", Tok::kw_false},
}};
constexpr std::array<std::string_view, 14> kOperatorWords{
    "==", "!=", "<", "<=", ">", ">=", "in", "contains", "starts_with", "ends_with", "matches",
    "exists", "and", "or"};

bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; }
bool op_char(char c) { return c == '=' || c == '!' || c == '<' || c == '>' || c == '~' || c == '&' || c == '|'; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  // Returns Tok::error with `error_` set (message, offset) for an unlexable token.
  Token next() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) ++pos_;
    Token t;
    t.offset = pos_;
    if (pos_ >= text_.size()) return t;
    const char c = text_[pos_];
    auto single = [&](Tok type) {
      t.type = type;
      t.text = std::string(1, c);
      ++pos_;
      return t;
    };
    switch (c) {
      case '(': return single(Tok::lparen);
      case ')': return single(Tok::rparen);
      case '[': return single(Tok::lbrack);
      case ']': return single(Tok::rbrack);
      case ',': return single(Tok::comma);
      default: break;
    }
    if (c == '"' || c == '\'') return string_token(t, c);
    if ((c >= '0' && c <= '9') || (c == '-' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' && text_[pos_ + 1] <= '9')) {
      return number_token(t);
    }
    if (ident_start(c)) {
      std::size_t end = pos_;
      while (end < text_.size() && ident_char(text_[end])) ++end;
      t.text = std::string(text_.substr(pos_, end - pos_));
      pos_ = end;
      t.type = Tok::ident;
      for (const auto& [word, type] : kKeywords) {
        if (t.text == word) t.type = type;
      }
      return t;
    }
    if (op_char(c)) {
      std::size_t end = pos_;
      while (end < text_.size() && op_char(text_[end])) ++end;
      t.text = std::string(text_.substr(pos_, end - pos_));
      pos_ = end;
      if (t.text == "==") t.type = Tok::eq;
      else if (t.text == "!=") t.type = Tok::ne;
      else if (t.text == "<") t.type = Tok::lt;
      else if (t.text == "<=") t.type = Tok::le;
      else if (t.text == ">") t.type = Tok::gt;
      else if (t.text == ">=") t.type = Tok::ge;
      else t.type = Tok::bad_op;
      return t;
    }
    // Any other character: report it as an unknown operator (covers `=`-less typos like `:`).
    t.type = Tok::bad_op;
    const std::size_t len = (static_cast<unsigned char>(c) >= 0x80) ? utf8_length(c) : 1;
    t.text = std::string(text_.substr(pos_, len));
    pos_ += len;
    return t;
  }

  const std::pair<std::string, std::size_t>& error() const { return error_; }

 private:
  static std::size_t utf8_length(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0xf0 ? 4 : u >= 0xe0 ? 3 : u >= 0xc0 ? 2 : 1;
  }

  Token string_token(Token t, char quote) {
    std::size_t i = pos_ + 1;
    std::string out;
    while (i < text_.size() && text_[i] != quote) {
      if (text_[i] == '\\' && i + 1 < text_.size()) {
        const char e = text_[i + 1];
        switch (e) {
          case '\\': out += '\\'; break;
          case '"': out += '"'; break;
          case '\'': out += '\''; break;
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          default:
            // Regex escapes (\d, \s, \.) pass through as written: patterns are the common case.
            out += '\\';
            out += e;
        }
        i += 2;
        continue;
      }
      out += text_[i++];
    }
    if (i >= text_.size()) {
      t.type = Tok::error;
      error_ = {fmt_message(kCondUnterminatedString), pos_};
      pos_ = text_.size();
      return t;
    }
    t.type = Tok::string;
    t.text = std::move(out);
    pos_ = i + 1;
    return t;
  }

  Token number_token(Token t) {
    std::size_t end = pos_ + (text_[pos_] == '-' ? 1 : 0);
    while (end < text_.size() && ((text_[end] >= '0' && text_[end] <= '9') || text_[end] == '.' ||
                                  (text_[end] >= 'a' && text_[end] <= 'z') || text_[end] == 'E' ||
                                  ((text_[end] == '+' || text_[end] == '-') && (text_[end - 1] == 'e' || text_[end - 1] == 'E')))) {
      ++end;
    }
    t.text = std::string(text_.substr(pos_, end - pos_));
    pos_ = end;
    const bool has_unit = std::any_of(t.text.begin(), t.text.end(), [](char ch) {
      return ch >= 'a' && ch <= 'z' && ch != 'e';
    });
    if (has_unit) {
      if (auto d = parse_duration(t.text)) {
        t.type = Tok::duration;
        t.ms = d->count();
        t.number = static_cast<double>(t.ms) / 1000.0;
        return t;
      }
    } else {
      char* stop = nullptr;
      t.number = std::strtod(t.text.c_str(), &stop);
      if (stop && *stop == '\0' && std::isfinite(t.number)) {
        t.type = Tok::number;
        return t;
      }
    }
    t.type = Tok::error;
    error_ = {fmt_message(kCondBadNumber, t.text), t.offset};
    return t;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::pair<std::string, std::size_t> error_;
};

std::string_view tok_description(const Token& t) {
  switch (t.type) {
    case Tok::end: return "end of condition";
    default: return t.text;
  }
}

std::string_view lit_type_name(LitType t) {
  switch (t) {
    case LitType::string: return "a string";
    case LitType::number: return "a number";
    case LitType::boolean: return "a boolean";
    case LitType::duration: return "a duration";
    case LitType::list: return "a list";
  }
  return "a value";
}

// ---------------------------------------------------------------------------------------------
// Parser: builds nodes straight into the program, checking types as literals are read.

struct SyntaxError {};

class Parser {
 public:
  Parser(std::string_view text, config::SourcePos value_pos, const ConditionEnv& env,
         config::Diagnostics& diags, Condition::Program& program, std::vector<std::string>& macro_stack,
         std::string note)
      : text_(text), value_pos_(std::move(value_pos)), env_(env), diags_(diags), program_(program),
        macro_stack_(macro_stack), note_(std::move(note)), lexer_(text) {}

  // @return the root node, or nothing after a syntax error. Type errors are reported and
  // counted in `errors()` while parsing goes on.
  std::optional<std::uint32_t> parse() {
    try {
      advance();
      if (tok_.type == Tok::end) {
        error(0, kCondEmpty.code, fmt_message(kCondEmpty));
        return std::nullopt;
      }
      const std::uint32_t root = parse_or();
      if (tok_.type == Tok::rparen) {
        error(tok_.offset, kCondUnbalancedClose.code, fmt_message(kCondUnbalancedClose));
        return std::nullopt;
      }
      if (tok_.type == Tok::bad_op) unknown_operator(tok_);
      if (tok_.type != Tok::end) {
        error(tok_.offset, kCondTrailing.code, fmt_message(kCondTrailing, tok_description(tok_)));
        return std::nullopt;
      }
      return root;
    } catch (const SyntaxError&) {
      return std::nullopt;
    }
  }

  std::size_t errors() const { return errors_; }

 private:
  void advance() {
    tok_ = lexer_.next();
    if (tok_.type == Tok::error) {
      error(lexer_.error().second, "expr-syntax", lexer_.error().first);
      throw SyntaxError{};
    }
  }

  void error(std::size_t offset, std::string_view code, std::string message,
             std::vector<std::string> notes = {}) {
    if (!note_.empty()) notes.push_back(note_);
    diags_.error(config::locate_in_string(diags_, value_pos_, offset), code, std::move(message),
                 std::move(notes));
    ++errors_;
  }

  [[noreturn]] void unexpected(std::string_view expected) {
    if (tok_.type == Tok::end) {
      error(tok_.offset, kCondUnexpectedEnd.code, fmt_message(kCondUnexpectedEnd, expected));
    } else {
      error(tok_.offset, kCondUnexpectedToken.code,
            fmt_message(kCondUnexpectedToken, tok_description(tok_), expected));
    }
    throw SyntaxError{};
  }

  std::uint32_t add(Node n) {
    program_.nodes.push_back(std::move(n));
    return static_cast<std::uint32_t>(program_.nodes.size() - 1);
  }

  std::uint32_t add_group(Op op, const std::vector<std::uint32_t>& kids) {
    Node n;
    n.op = op;
    n.first = static_cast<std::uint32_t>(program_.children.size());
    n.count = static_cast<std::uint32_t>(kids.size());
    program_.children.insert(program_.children.end(), kids.begin(), kids.end());
    return add(std::move(n));
  }

  std::uint32_t parse_or() {
    std::vector<std::uint32_t> kids{parse_and()};
    while (tok_.type == Tok::kw_or) {
      advance();
      kids.push_back(parse_and());
    }
    return kids.size() == 1 ? kids[0] : add_group(Op::or_, kids);
  }

  std::uint32_t parse_and() {
    std::vector<std::uint32_t> kids{parse_unary()};
    while (tok_.type == Tok::kw_and) {
      advance();
      kids.push_back(parse_unary());
    }
    return kids.size() == 1 ? kids[0] : add_group(Op::and_, kids);
  }

  std::uint32_t parse_unary() {
    if (tok_.type == Tok::kw_not) {
      advance();
      return add_group(Op::not_, {parse_unary()});
    }
    return parse_primary();
  }

  std::uint32_t parse_primary() {
    switch (tok_.type) {
      case Tok::lparen: {
        const std::size_t open = tok_.offset;
        advance();
        const std::uint32_t inner = parse_or();
        if (tok_.type != Tok::rparen) {
          if (tok_.type == Tok::end) {
            error(open, kCondUnbalancedOpen.code, fmt_message(kCondUnbalancedOpen));
            throw SyntaxError{};
          }
          unexpected("')' or an operator");
        }
        advance();
        return inner;
      }
      case Tok::rparen:
        error(tok_.offset, kCondUnbalancedClose.code, fmt_message(kCondUnbalancedClose));
        throw SyntaxError{};
      case Tok::kw_true:
      case Tok::kw_false: {
        Node n;
        n.op = Op::constant;
        n.constant = tok_.type == Tok::kw_true;
        advance();
        return add(std::move(n));
      }
      case Tok::ident: return parse_ident();
      default: unexpected("a field, a macro, 'not' or '('");
    }
  }

  std::uint32_t parse_ident() {
    const Token name = tok_;
    advance();
    const bool operator_follows =
        tok_.type == Tok::eq || tok_.type == Tok::ne || tok_.type == Tok::lt || tok_.type == Tok::le ||
        tok_.type == Tok::gt || tok_.type == Tok::ge || tok_.type == Tok::kw_in ||
        tok_.type == Tok::kw_contains || tok_.type == Tok::kw_starts_with ||
        tok_.type == Tok::kw_ends_with || tok_.type == Tok::kw_matches || tok_.type == Tok::kw_exists ||
        tok_.type == Tok::bad_op || tok_.type == Tok::ident || tok_.type == Tok::kw_not;
    if (!operator_follows) return macro_ref(name);
    return comparison(name);
  }

  std::uint32_t macro_ref(const Token& name) {
    auto it = env_.macros.find(name.text);
    if (it == env_.macros.end()) {
      std::vector<std::string> macro_names;
      for (const auto& [n, _] : env_.macros) macro_names.push_back(n);
      std::vector<std::string> notes;
      const std::string guess = closest_match(name.text, macro_names);
      if (!guess.empty()) notes.push_back(fmt_message(config::kNoteDidYouMean, guess));
      error(name.offset, kCondBareField.code, fmt_message(kCondBareField, name.text, name.text),
            std::move(notes));
      throw SyntaxError{};
    }
    env_.used_macros.insert(name.text);
    if (std::find(macro_stack_.begin(), macro_stack_.end(), name.text) != macro_stack_.end()) {
      std::string chain;
      for (const auto& m : macro_stack_) chain += m + " -> ";
      chain += name.text;
      error(name.offset, kCondMacroCycle.code, fmt_message(kCondMacroCycle, name.text, chain));
      throw SyntaxError{};
    }
    macro_stack_.push_back(name.text);
    const std::string note = fmt_message(kCondInMacro, name.text) + " at " +
                             config::format_pos(config::locate_in_string(diags_, value_pos_, name.offset));
    Parser inner(it->second.text, it->second.pos, env_, diags_, program_, macro_stack_, note);
    auto root = inner.parse();
    macro_stack_.pop_back();
    errors_ += inner.errors();
    if (!root) throw SyntaxError{};
    return *root;
  }

  bus::FieldPath path_of(const Token& name) {
    auto parsed = bus::FieldPath::parse(name.text);
    if (auto* msg = std::get_if<std::string>(&parsed)) {
      error(name.offset, kCondBadPath.code, fmt_message(kCondBadPath, *msg));
      throw SyntaxError{};
    }
    return std::get<bus::FieldPath>(std::move(parsed));
  }

  std::uint32_t path_index(bus::FieldPath path) {
    for (std::size_t i = 0; i < program_.paths.size(); ++i) {
      if (program_.paths[i] == path) return static_cast<std::uint32_t>(i);
    }
    program_.paths.push_back(std::move(path));
    return static_cast<std::uint32_t>(program_.paths.size() - 1);
  }

  Literal literal(std::string_view op_text) {
    Literal l;
    switch (tok_.type) {
      case Tok::string: l.type = LitType::string; l.str = tok_.text; break;
      case Tok::number: l.type = LitType::number; l.num = tok_.number; break;
      case Tok::duration: l.type = LitType::duration; l.num = tok_.number; l.ms = tok_.ms; break;
      case Tok::kw_true: l.type = LitType::boolean; l.boolean = true; break;
      case Tok::kw_false: l.type = LitType::boolean; l.boolean = false; break;
      case Tok::lbrack:
        error(tok_.offset, kCondTypeMismatch.code,
              fmt_message(kCondTypeMismatch, op_text, "a single value", "a list"),
              {"use 'in' to test membership in a list"});
        skip_list();
        l.type = LitType::list;
        return l;
      default: unexpected("a value after '" + std::string(op_text) + "'");
    }
    advance();
    return l;
  }

  void skip_list() {
    while (tok_.type != Tok::rbrack && tok_.type != Tok::end) advance();
    if (tok_.type == Tok::rbrack) advance();
  }

  std::uint32_t comparison(const Token& name) {
    Node n;
    n.path = path_index(path_of(name));
    const Token op = tok_;
    auto check_type = [&](std::initializer_list<LitType> allowed, std::string_view wanted) {
      if (n.lit.type == LitType::list) return;  // already reported
      if (std::find(allowed.begin(), allowed.end(), n.lit.type) == allowed.end()) {
        error(op.offset, kCondTypeMismatch.code,
              fmt_message(kCondTypeMismatch, op.text, wanted, lit_type_name(n.lit.type)));
      }
    };
    switch (op.type) {
      case Tok::eq:
      case Tok::ne:
        n.op = op.type == Tok::eq ? Op::eq : Op::ne;
        advance();
        n.lit = literal(op.text);
        return add(std::move(n));
      case Tok::lt:
      case Tok::le:
      case Tok::gt:
      case Tok::ge:
        n.op = op.type == Tok::lt ? Op::lt : op.type == Tok::le ? Op::le : op.type == Tok::gt ? Op::gt : Op::ge;
        advance();
        n.lit = literal(op.text);
        check_type({LitType::number, LitType::duration}, "a number or a duration");
        return add(std::move(n));
      case Tok::kw_contains:
        n.op = Op::contains;
        advance();
        n.lit = literal(op.text);
        check_type({LitType::string, LitType::number}, "a string or a number");
        return add(std::move(n));
      case Tok::kw_starts_with:
      case Tok::kw_ends_with:
        n.op = op.type == Tok::kw_starts_with ? Op::starts_with : Op::ends_with;
        advance();
        n.lit = literal(op.text);
        check_type({LitType::string}, "a string");
        return add(std::move(n));
      case Tok::kw_matches: {
        n.op = Op::matches;
        advance();
        const std::size_t pattern_offset = tok_.offset;
        n.lit = literal(op.text);
        check_type({LitType::string}, "a string pattern");
        if (n.lit.type == LitType::string) {
          RE2::Options options;
          options.set_log_errors(false);
          auto re = std::make_shared<re2::RE2>(n.lit.str, options);
          if (!re->ok()) {
            error(pattern_offset, kCondBadRegex.code, fmt_message(kCondBadRegex, re->error()));
          }
          n.regex = std::move(re);
        }
        return add(std::move(n));
      }
      case Tok::kw_exists:
        n.op = Op::exists;
        advance();
        return add(std::move(n));
      case Tok::kw_in:
        n.op = Op::in;
        advance();
        parse_set(n, op);
        return add(std::move(n));
      case Tok::kw_not: {
        // `field not in [...]` reads naturally; it means not (field in [...]).
        advance();
        if (tok_.type != Tok::kw_in) unexpected("'in' after 'not'");
        const Token in_tok = tok_;
        advance();
        n.op = Op::in;
        parse_set(n, in_tok);
        const std::uint32_t in_node = add(std::move(n));
        return add_group(Op::not_, {in_node});
      }
      default: unknown_operator(op);
    }
  }

  // An unknown operator or a misspelled keyword: `===`, `=~`, `contain`, `&&`.
  [[noreturn]] void unknown_operator(const Token& op) {
    std::vector<std::string> notes;
    std::string guess = closest_match(op.text, kOperatorWords);
    if (op.text == "=" || op.text == "===") guess = "==";
    if (op.text == "&&" || op.text == "&") guess = "and";
    if (op.text == "||" || op.text == "|") guess = "or";
    if (op.text == "=~" || op.text == "~=" || op.text == "~") guess = "matches";
    if (op.text == "!") guess = "not";
    if (!guess.empty()) notes.push_back(fmt_message(config::kNoteDidYouMean, guess));
    error(op.offset, kCondUnknownOperator.code, fmt_message(kCondUnknownOperator, op.text),
          std::move(notes));
    throw SyntaxError{};
  }

  void parse_set(Node& n, const Token& op) {
    auto add_item = [&](const Token& t) {
      switch (t.type) {
        case Tok::string: n.strings.push_back(t.text); break;
        case Tok::number: n.numbers.push_back(t.number); break;
        case Tok::kw_true: n.has_true = true; break;
        case Tok::kw_false: n.has_false = true; break;
        default:
          error(t.offset, kCondTypeMismatch.code,
                fmt_message(kCondTypeMismatch, "in", "list items that are strings, numbers or booleans",
                            t.type == Tok::duration ? "a duration" : "'" + t.text + "'"));
      }
    };
    if (tok_.type == Tok::ident) {
      auto it = env_.lists.find(tok_.text);
      if (it == env_.lists.end()) {
        std::vector<std::string> names;
        for (const auto& [k, _] : env_.lists) names.push_back(k);
        std::vector<std::string> notes;
        const std::string guess = closest_match(tok_.text, names);
        if (!guess.empty()) notes.push_back(fmt_message(config::kNoteDidYouMean, guess));
        error(tok_.offset, kCondUnknownList.code, fmt_message(kCondUnknownList, tok_.text), std::move(notes));
      } else {
        env_.used_lists.insert(tok_.text);
        n.strings = it->second;
      }
      advance();
    } else if (tok_.type == Tok::lbrack) {
      advance();
      while (tok_.type != Tok::rbrack) {
        if (tok_.type == Tok::end) unexpected("']'");
        add_item(tok_);
        advance();
        if (tok_.type == Tok::comma) {
          advance();
        } else if (tok_.type != Tok::rbrack) {
          unexpected("',' or ']'");
        }
      }
      advance();
    } else if (tok_.type == Tok::string || tok_.type == Tok::number || tok_.type == Tok::duration ||
               tok_.type == Tok::kw_true || tok_.type == Tok::kw_false) {
      error(tok_.offset, kCondTypeMismatch.code,
            fmt_message(kCondTypeMismatch, op.text, "a list such as [\"a\", \"b\"] or a [[list]] name",
                        tok_.type == Tok::string ? "a string" : "a single value"));
      advance();
    } else {
      unexpected("a list after 'in'");
    }
    std::sort(n.strings.begin(), n.strings.end());
    n.strings.erase(std::unique(n.strings.begin(), n.strings.end()), n.strings.end());
  }

  std::string_view text_;
  config::SourcePos value_pos_;
  const ConditionEnv& env_;
  config::Diagnostics& diags_;
  Condition::Program& program_;
  std::vector<std::string>& macro_stack_;
  std::string note_;
  Lexer lexer_;
  Token tok_;
  std::size_t errors_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Evaluation.

// A field as a number of seconds for duration comparisons: numbers are seconds; strings that
// read as durations ("5m") count too.
std::optional<double> as_seconds(const bus::FieldValue& v) {
  if (v.type == bus::FieldValue::Type::number) return v.number;
  if (v.type == bus::FieldValue::Type::string) {
    if (auto d = parse_duration(v.string)) return static_cast<double>(d->count()) / 1000.0;
  }
  return std::nullopt;
}

bool compare(Op op, const bus::FieldValue& v, const Literal& lit) {
  using T = bus::FieldValue::Type;
  auto ordered = [op](double a, double b) {
    switch (op) {
      case Op::eq: return a == b;
      case Op::ne: return a != b;
      case Op::lt: return a < b;
      case Op::le: return a <= b;
      case Op::gt: return a > b;
      case Op::ge: return a >= b;
      default: return false;
    }
  };
  switch (lit.type) {
    case LitType::string:
      if (v.type != T::string) return false;
      return op == Op::eq ? v.string == lit.str : op == Op::ne ? v.string != lit.str : false;
    case LitType::number:
      if (v.type != T::number) return false;
      return ordered(v.number, lit.num);
    case LitType::boolean:
      if (v.type != T::boolean) return false;
      return op == Op::eq ? v.boolean == lit.boolean : op == Op::ne ? v.boolean != lit.boolean : false;
    case LitType::duration: {
      auto s = as_seconds(v);
      return s ? ordered(*s, lit.num) : false;
    }
    case LitType::list: return false;
  }
  return false;
}

bool eval(const Condition::Program& p, std::uint32_t index, const bus::Event& e) {
  const Node& n = p.nodes[index];
  switch (n.op) {
    case Op::and_:
      for (std::uint32_t i = 0; i < n.count; ++i) {
        if (!eval(p, p.children[n.first + i], e)) return false;
      }
      return true;
    case Op::or_:
      for (std::uint32_t i = 0; i < n.count; ++i) {
        if (eval(p, p.children[n.first + i], e)) return true;
      }
      return false;
    case Op::not_: return !eval(p, p.children[n.first], e);
    case Op::constant: return n.constant;
    default: break;
  }
  const bus::FieldValue v = p.paths[n.path].lookup(e);
  using T = bus::FieldValue::Type;
  if (v.type == T::missing || v.type == T::null) return false;
  switch (n.op) {
    case Op::exists: return true;
    case Op::eq:
    case Op::ne:
    case Op::lt:
    case Op::le:
    case Op::gt:
    case Op::ge: return compare(n.op, v, n.lit);
    case Op::in:
      switch (v.type) {
        case T::string: return std::binary_search(n.strings.begin(), n.strings.end(), v.string,
                                                  [](std::string_view a, std::string_view b) { return a < b; });
        case T::number: return std::find(n.numbers.begin(), n.numbers.end(), v.number) != n.numbers.end();
        case T::boolean: return v.boolean ? n.has_true : n.has_false;
        default: return false;
      }
    case Op::contains:
      if (v.type == T::string) return n.lit.type == LitType::string && v.string.find(n.lit.str) != std::string_view::npos;
      if (v.type == T::array) {
        for (const auto& item : *v.json) {
          if (n.lit.type == LitType::string && item.is_string() && item.get_ref<const std::string&>() == n.lit.str) return true;
          if (n.lit.type == LitType::number && item.is_number() && item.get<double>() == n.lit.num) return true;
        }
      }
      return false;
    case Op::starts_with:
      return v.type == T::string && v.string.substr(0, n.lit.str.size()) == n.lit.str;
    case Op::ends_with:
      return v.type == T::string && v.string.size() >= n.lit.str.size() &&
             v.string.substr(v.string.size() - n.lit.str.size()) == n.lit.str;
    case Op::matches:
      return v.type == T::string && n.regex &&
             re2::RE2::PartialMatch(re2::StringPiece(v.string.data(), v.string.size()), *n.regex);
    default: return false;
  }
}

void collect_keys(const Condition::Program& p, std::uint32_t index, std::vector<IndexKey>& out) {
  const Node& n = p.nodes[index];
  if (n.op == Op::and_) {
    for (std::uint32_t i = 0; i < n.count; ++i) collect_keys(p, p.children[n.first + i], out);
  } else if (n.op == Op::eq && n.lit.type == LitType::string) {
    out.push_back({p.paths[n.path], {n.lit.str}});
  } else if (n.op == Op::in && n.numbers.empty() && !n.has_true && !n.has_false && !n.strings.empty()) {
    out.push_back({p.paths[n.path], n.strings});
  }
}

}  // namespace

Condition::Condition() = default;
Condition::~Condition() = default;
Condition::Condition(const Condition&) = default;
Condition& Condition::operator=(const Condition&) = default;
Condition::Condition(Condition&&) noexcept = default;
Condition& Condition::operator=(Condition&&) noexcept = default;

std::optional<Condition> Condition::compile(std::string_view text, const config::SourcePos& value_pos,
                                            const ConditionEnv& env, config::Diagnostics& diags) {
  auto program = std::make_shared<Program>();
  std::vector<std::string> macro_stack;
  Parser parser(text, value_pos, env, diags, *program, macro_stack, "");
  auto root = parser.parse();
  if (!root || parser.errors() > 0) return std::nullopt;
  program->root = *root;
  Condition c;
  c.text_ = std::string(text);
  c.program_ = std::move(program);
  return c;
}

bool Condition::matches(const bus::Event& event) const {
  if (!program_) return false;
  return eval(*program_, program_->root, event);
}

std::vector<IndexKey> Condition::index_keys() const {
  std::vector<IndexKey> out;
  if (program_) collect_keys(*program_, program_->root, out);
  return out;
}

}  // namespace vigie::rules
