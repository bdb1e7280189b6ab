#include "tools/emulators/gdrive/query_parser.h"

#include <cctype>

#include "tools/emulators/gdrive/util.h"

namespace jsync::emulator::gdrive {

struct Query::Node {
  enum class Type { kAnd, kOr, kNot, kIn, kCompare, kHas } type = Type::kCompare;
  std::vector<std::unique_ptr<Node>> kids;
  std::string field;  // name, mimeType, trashed, ..., appProperties
  std::string op;     // = != < <= > >= contains
  std::string value;  // string literal, "true"/"false"
  std::string key;    // has { key=... }
  int64_t time_ms = 0;
};

namespace {

struct Token {
  enum class Kind { kWord, kString, kOp, kLParen, kRParen, kLBrace, kRBrace, kEnd } kind;
  std::string text;
};

Status Tokenize(const std::string& q, std::vector<Token>* out) {
  size_t i = 0;
  while (i < q.size()) {
    const char c = q[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '\'') {
      std::string s;
      ++i;
      bool closed = false;
      while (i < q.size()) {
        if (q[i] == '\\' && i + 1 < q.size()) {
          s.push_back(q[i + 1]);
          i += 2;
        } else if (q[i] == '\'') {
          ++i;
          closed = true;
          break;
        } else {
          s.push_back(q[i++]);
        }
      }
      if (!closed) return Status::Invalid("unterminated string");
      out->push_back({Token::Kind::kString, s});
    } else if (c == '(') {
      out->push_back({Token::Kind::kLParen, "("});
      ++i;
    } else if (c == ')') {
      out->push_back({Token::Kind::kRParen, ")"});
      ++i;
    } else if (c == '{') {
      out->push_back({Token::Kind::kLBrace, "{"});
      ++i;
    } else if (c == '}') {
      out->push_back({Token::Kind::kRBrace, "}"});
      ++i;
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {
      std::string op(1, c);
      if (i + 1 < q.size() && q[i + 1] == '=') op.push_back('=');
      if (op == "!") return Status::Invalid("unexpected '!'");
      i += op.size();
      out->push_back({Token::Kind::kOp, op});
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      std::string w;
      while (i < q.size() && (std::isalnum(static_cast<unsigned char>(q[i])) || q[i] == '_'))
        w.push_back(q[i++]);
      out->push_back({Token::Kind::kWord, w});
    } else {
      return Status::Invalid(std::string("unexpected character '") + c + "'");
    }
  }
  out->push_back({Token::Kind::kEnd, ""});
  return Status::Ok();
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Result<std::unique_ptr<Query::Node>> ParseAll() {
    auto n = ParseOr();
    if (!n.ok()) return n.status();
    if (Peek().kind != Token::Kind::kEnd) return Status::Invalid("unexpected '" + Peek().text + "'");
    return n;
  }

 private:
  using NodeP = std::unique_ptr<Query::Node>;
  const Token& Peek() const { return t_[pos_]; }
  const Token& Next() { return t_[pos_ < t_.size() - 1 ? pos_++ : pos_]; }
  bool IsWord(const char* w) const {
    return Peek().kind == Token::Kind::kWord && Peek().text == w;
  }

  Result<NodeP> ParseOr() {
    auto left = ParseAnd();
    if (!left.ok()) return left;
    NodeP node = std::move(left).value();
    while (IsWord("or")) {
      Next();
      auto right = ParseAnd();
      if (!right.ok()) return right;
      auto parent = std::make_unique<Query::Node>();
      parent->type = Query::Node::Type::kOr;
      parent->kids.push_back(std::move(node));
      parent->kids.push_back(std::move(right).value());
      node = std::move(parent);
    }
    return node;
  }

  Result<NodeP> ParseAnd() {
    auto left = ParseUnary();
    if (!left.ok()) return left;
    NodeP node = std::move(left).value();
    while (IsWord("and")) {
      Next();
      auto right = ParseUnary();
      if (!right.ok()) return right;
      auto parent = std::make_unique<Query::Node>();
      parent->type = Query::Node::Type::kAnd;
      parent->kids.push_back(std::move(node));
      parent->kids.push_back(std::move(right).value());
      node = std::move(parent);
    }
    return node;
  }

  Result<NodeP> ParseUnary() {
    if (IsWord("not")) {
      Next();
      auto inner = ParseUnary();
      if (!inner.ok()) return inner;
      auto node = std::make_unique<Query::Node>();
      node->type = Query::Node::Type::kNot;
      node->kids.push_back(std::move(inner).value());
      return node;
    }
    if (Peek().kind == Token::Kind::kLParen) {
      Next();
      auto inner = ParseOr();
      if (!inner.ok()) return inner;
      if (Next().kind != Token::Kind::kRParen) return Status::Invalid("missing ')'");
      return inner;
    }
    return ParseTerm();
  }

  Result<NodeP> ParseTerm() {
    auto node = std::make_unique<Query::Node>();
    if (Peek().kind == Token::Kind::kString) {
      // 'ID' in parents
      node->type = Query::Node::Type::kIn;
      node->value = Next().text;
      if (!IsWord("in")) return Status::Invalid("expected 'in' after a string");
      Next();
      if (!IsWord("parents")) {
        return Status::Invalid("only 'in parents' is supported, not 'in " + Peek().text + "'");
      }
      Next();
      return node;
    }
    if (Peek().kind != Token::Kind::kWord) return Status::Invalid("expected a query term");
    node->field = Next().text;
    const std::string& f = node->field;
    if (f == "appProperties" || f == "properties") {
      node->type = Query::Node::Type::kHas;
      if (!IsWord("has")) return Status::Invalid("expected 'has' after " + f);
      Next();
      if (Next().kind != Token::Kind::kLBrace) return Status::Invalid("expected '{'");
      if (!IsWord("key")) return Status::Invalid("expected key=");
      Next();
      if (Next().text != "=" || Peek().kind != Token::Kind::kString)
        return Status::Invalid("expected key='...'");
      node->key = Next().text;
      if (!IsWord("and")) return Status::Invalid("expected 'and value='");
      Next();
      if (!IsWord("value")) return Status::Invalid("expected value=");
      Next();
      if (Next().text != "=" || Peek().kind != Token::Kind::kString)
        return Status::Invalid("expected value='...'");
      node->value = Next().text;
      if (Next().kind != Token::Kind::kRBrace) return Status::Invalid("expected '}'");
      return node;
    }
    node->type = Query::Node::Type::kCompare;
    if (IsWord("contains")) {
      node->op = "contains";
      Next();
    } else if (Peek().kind == Token::Kind::kOp) {
      node->op = Next().text;
    } else {
      return Status::Invalid("expected an operator after " + f);
    }
    const Token v = Next();
    if (f == "name" || f == "mimeType") {
      if (v.kind != Token::Kind::kString) return Status::Invalid(f + " needs a quoted string");
      if (node->op != "=" && node->op != "!=" && node->op != "contains")
        return Status::Invalid("operator " + node->op + " is not valid for " + f);
      node->value = v.text;
    } else if (f == "trashed" || f == "starred") {
      if (v.kind != Token::Kind::kWord || (v.text != "true" && v.text != "false"))
        return Status::Invalid(f + " needs true or false");
      if (node->op != "=" && node->op != "!=")
        return Status::Invalid("operator " + node->op + " is not valid for " + f);
      node->value = v.text;
    } else if (f == "createdTime" || f == "modifiedTime") {
      if (v.kind != Token::Kind::kString || !ParseRfc3339(v.text, &node->time_ms))
        return Status::Invalid(f + " needs an RFC 3339 time in quotes");
      if (node->op == "contains") return Status::Invalid("contains is not valid for " + f);
    } else {
      return Status::Invalid("unsupported query term '" + f + "'");
    }
    return node;
  }

  std::vector<Token> t_;
  size_t pos_ = 0;
};

template <typename T>
bool CompareOp(const std::string& op, const T& a, const T& b) {
  if (op == "=") return a == b;
  if (op == "!=") return a != b;
  if (op == "<") return a < b;
  if (op == "<=") return a <= b;
  if (op == ">") return a > b;
  if (op == ">=") return a >= b;
  return false;
}

bool Eval(const Query::Node& n, const QueryFile& f) {
  using T = Query::Node::Type;
  switch (n.type) {
    case T::kAnd:
      return Eval(*n.kids[0], f) && Eval(*n.kids[1], f);
    case T::kOr:
      return Eval(*n.kids[0], f) || Eval(*n.kids[1], f);
    case T::kNot:
      return !Eval(*n.kids[0], f);
    case T::kIn:
      for (const auto& p : f.parents)
        if (p == n.value) return true;
      return false;
    case T::kHas: {
      const auto* props = n.field == "appProperties" ? f.app_properties : f.properties;
      if (props == nullptr) return false;
      auto it = props->find(n.key);
      return it != props->end() && it->second == n.value;
    }
    case T::kCompare:
      break;
  }
  if (n.field == "name" || n.field == "mimeType") {
    const std::string& s = n.field == "name" ? f.name : f.mime_type;
    if (n.op == "contains") return s.compare(0, n.value.size(), n.value) == 0;
    return CompareOp(n.op, s, n.value);
  }
  if (n.field == "trashed" || n.field == "starred") {
    const bool v = n.field == "trashed" ? f.trashed : f.starred;
    return CompareOp(n.op, v, n.value == "true");
  }
  const int64_t t = n.field == "createdTime" ? f.created_ms : f.modified_ms;
  return CompareOp(n.op, t, n.time_ms);
}

}  // namespace

Query::~Query() = default;

Result<std::shared_ptr<const Query>> Query::Parse(const std::string& q) {
  std::vector<Token> tokens;
  JSYNC_RETURN_IF_ERROR(Tokenize(q, &tokens));
  auto root = Parser(std::move(tokens)).ParseAll();
  if (!root.ok()) return root.status();
  auto query = std::make_shared<Query>();
  query->root_ = std::move(root).value();
  return std::shared_ptr<const Query>(std::move(query));
}

bool Query::Matches(const QueryFile& file) const { return Eval(*root_, file); }

}  // namespace jsync::emulator::gdrive
