#include "protocol/xml.hpp"

#include <cctype>
#include <cstdint>

#include <fmt/format.h>

namespace stratus::protocol {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (c < 0x20 || c == 0x7f)
          out += fmt::format("&#{};", static_cast<unsigned>(c));
        else
          out += ch;
    }
  }
  return out;
}

XmlWriter::XmlWriter(bool declaration) {
  if (declaration) out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
}

void XmlWriter::open(std::string_view name, const Attributes& attributes) {
  out_ += '<';
  out_ += name;
  for (const auto& [k, v] : attributes) {
    out_ += ' ';
    out_ += k;
    out_ += "=\"";
    out_ += xml_escape(v);
    out_ += '"';
  }
  out_ += '>';
  open_.emplace_back(name);
}

void XmlWriter::close() {
  if (open_.empty()) return;
  out_ += "</";
  out_ += open_.back();
  out_ += '>';
  open_.pop_back();
}

void XmlWriter::element(std::string_view name, std::string_view text, const Attributes& attributes) {
  open(name, attributes);
  out_ += xml_escape(text);
  close();
}

void XmlWriter::empty_element(std::string_view name) {
  out_ += '<';
  out_ += name;
  out_ += "/>";
}

void XmlWriter::text(std::string_view t) {
  out_ += xml_escape(t);
}

std::string XmlWriter::finish() {
  while (!open_.empty()) close();
  return std::move(out_);
}

std::string_view XmlNode::local_name() const {
  std::string_view n = name;
  auto colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

const XmlNode* XmlNode::child(std::string_view n) const {
  for (const auto& c : children)
    if (c.local_name() == n || c.name == n) return &c;
  return nullptr;
}

const std::string* XmlNode::attribute(std::string_view n) const {
  for (const auto& [k, v] : attributes) {
    if (k == n) return &v;
    std::string_view local = k;
    if (auto colon = local.find(':'); colon != std::string_view::npos) local = local.substr(colon + 1);
    if (local == n) return &v;
  }
  return nullptr;
}

namespace {

class Parser {
 public:
  Parser(std::string_view text, const XmlLimits& limits) : s_(text), limits_(limits) {}

  std::optional<XmlNode> document() {
    if (s_.size() > limits_.max_bytes) return fail("document too large");
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    if (!misc()) return std::nullopt;
    if (!at('<')) return fail("expected a root element");
    XmlNode root;
    if (!element(root, 1)) return std::nullopt;
    if (!misc()) return std::nullopt;
    if (pos_ != s_.size()) return fail("content after the root element");
    return root;
  }

  std::string error;

 private:
  std::nullopt_t fail(std::string message) {
    if (error.empty()) error = fmt::format("{} at offset {}", message, pos_);
    return std::nullopt;
  }
  bool failb(std::string message) {
    fail(std::move(message));
    return false;
  }
  bool at(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool starts(std::string_view p) const { return s_.substr(pos_, p.size()) == p; }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r' || s_[pos_] == '\n'))
      ++pos_;
  }
  bool skip_past(std::string_view end) {
    auto e = s_.find(end, pos_);
    if (e == std::string_view::npos) return failb("unterminated construct");
    pos_ = e + end.size();
    return true;
  }
  // Whitespace, comments, processing instructions (incl. the XML declaration). Rejects DTDs.
  bool misc() {
    while (true) {
      skip_ws();
      if (starts("<?")) {
        if (!skip_past("?>")) return false;
      } else if (starts("<!--")) {
        if (!skip_past("-->")) return false;
      } else if (starts("<!")) {
        return failb("DTDs are not allowed");
      } else {
        return true;
      }
    }
  }
  static bool name_char(char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || std::isalnum(u) || c == '_' || c == ':' || c == '-' || c == '.';
  }
  bool name(std::string& out) {
    std::size_t start = pos_;
    while (pos_ < s_.size() && name_char(s_[pos_])) ++pos_;
    if (pos_ == start) return failb("expected a name");
    out.assign(s_.substr(start, pos_ - start));
    return true;
  }
  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  // Decodes character data up to (not including) `stop`, handling references.
  bool chars(std::string& out, char stop) {
    while (pos_ < s_.size() && s_[pos_] != stop) {
      char c = s_[pos_];
      if (c == '<' && stop == '"') return failb("'<' in attribute value");
      if (c == '<' && stop == '\'') return failb("'<' in attribute value");
      if (c != '&') {
        out += c;
        ++pos_;
        continue;
      }
      auto semi = s_.find(';', pos_);
      if (semi == std::string_view::npos || semi - pos_ > 12) return failb("bad entity reference");
      std::string_view ref = s_.substr(pos_ + 1, semi - pos_ - 1);
      if (ref == "amp")
        out += '&';
      else if (ref == "lt")
        out += '<';
      else if (ref == "gt")
        out += '>';
      else if (ref == "quot")
        out += '"';
      else if (ref == "apos")
        out += '\'';
      else if (ref.size() >= 2 && ref[0] == '#') {
        std::uint32_t cp = 0;
        bool hex = ref[1] == 'x' || ref[1] == 'X';
        std::string_view digits = ref.substr(hex ? 2 : 1);
        if (digits.empty()) return failb("bad character reference");
        for (char d : digits) {
          unsigned v;
          if (d >= '0' && d <= '9')
            v = static_cast<unsigned>(d - '0');
          else if (hex && d >= 'a' && d <= 'f')
            v = static_cast<unsigned>(d - 'a' + 10);
          else if (hex && d >= 'A' && d <= 'F')
            v = static_cast<unsigned>(d - 'A' + 10);
          else
            return failb("bad character reference");
          cp = cp * (hex ? 16 : 10) + v;
          if (cp > 0x10FFFF) return failb("bad character reference");
        }
        append_utf8(out, cp);
      } else {
        return failb("undefined entity");
      }
      pos_ = semi + 1;
    }
    return true;
  }
  bool element(XmlNode& node, std::size_t depth) {
    if (depth > limits_.max_depth) return failb("document too deep");
    if (++nodes_ > limits_.max_nodes) return failb("too many elements");
    ++pos_;  // '<'
    if (!name(node.name)) return false;
    while (true) {
      skip_ws();
      if (starts("/>")) {
        pos_ += 2;
        return true;
      }
      if (at('>')) {
        ++pos_;
        break;
      }
      std::string attr;
      if (!name(attr)) return false;
      skip_ws();
      if (!at('=')) return failb("expected '='");
      ++pos_;
      skip_ws();
      if (!at('"') && !at('\'')) return failb("expected a quoted attribute value");
      char quote = s_[pos_++];
      std::string value;
      if (!chars(value, quote)) return false;
      if (!at(quote)) return failb("unterminated attribute value");
      ++pos_;
      node.attributes.emplace_back(std::move(attr), std::move(value));
    }
    // Content.
    while (true) {
      if (pos_ >= s_.size()) return failb("unterminated element " + node.name);
      if (starts("</")) {
        pos_ += 2;
        std::string end;
        if (!name(end)) return false;
        if (end != node.name) return failb("mismatched end tag " + end);
        skip_ws();
        if (!at('>')) return failb("expected '>'");
        ++pos_;
        return true;
      }
      if (starts("<!--")) {
        if (!skip_past("-->")) return false;
      } else if (starts("<![CDATA[")) {
        pos_ += 9;
        auto e = s_.find("]]>", pos_);
        if (e == std::string_view::npos) return failb("unterminated CDATA");
        node.text.append(s_.substr(pos_, e - pos_));
        pos_ = e + 3;
      } else if (starts("<?")) {
        if (!skip_past("?>")) return false;
      } else if (starts("<!")) {
        return failb("DTDs are not allowed");
      } else if (at('<')) {
        node.children.emplace_back();
        if (!element(node.children.back(), depth + 1)) return false;
      } else {
        if (!chars(node.text, '<')) return false;
      }
    }
  }

  std::string_view s_;
  XmlLimits limits_;
  std::size_t pos_ = 0;
  std::size_t nodes_ = 0;
};

}  // namespace

std::optional<XmlNode> parse_xml(std::string_view text, std::string* error, const XmlLimits& limits) {
  Parser p(text, limits);
  auto node = p.document();
  if (!node && error != nullptr) *error = p.error;
  return node;
}

}  // namespace stratus::protocol
