#pragma once
// A small XML writer (escaping as AWS does) and a small, safe XML parser for request bodies
// (S3 CompleteMultipartUpload, DeleteObjects, PutBucketTagging, ...).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stratus::protocol {

// Escapes text or attribute content: & < > " ' become entities; CR, LF, TAB and other control characters
// become numeric references (&#13; &#10; &#9;), as S3 does in keys, so they survive a round trip.
std::string xml_escape(std::string_view text);

// Builds a document by appending: open/close must nest; text is escaped.
class XmlWriter {
 public:
  // With `declaration`, starts with <?xml version="1.0" encoding="UTF-8"?>.
  explicit XmlWriter(bool declaration = true);
  using Attributes = std::vector<std::pair<std::string, std::string>>;
  void open(std::string_view name, const Attributes& attributes = {});
  void close();  // closes the innermost open element
  // <name>text</name>
  void element(std::string_view name, std::string_view text, const Attributes& attributes = {});
  void empty_element(std::string_view name);  // <name/>
  void text(std::string_view text);
  // Closes every open element and returns the document.
  std::string finish();

 private:
  std::string out_;
  std::vector<std::string> open_;
};

struct XmlNode {
  std::string name;  // as written, with any prefix ("xsi:type")
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string text;  // concatenated character data directly inside this element (entities decoded)
  std::vector<XmlNode> children;

  // The name without its namespace prefix.
  std::string_view local_name() const;
  // First child whose local name is `name`, or nullptr.
  const XmlNode* child(std::string_view name) const;
  // Attribute value by full name or local name, or nullptr.
  const std::string* attribute(std::string_view name) const;
};

struct XmlLimits {
  std::size_t max_bytes = 20 * 1024 * 1024;
  std::size_t max_depth = 64;
  std::size_t max_nodes = 1'000'000;
};

// Parses one element (after an optional XML declaration, comments and processing instructions).
// Rejects DTDs (<!DOCTYPE), entities other than the 5 predefined ones and numeric character references,
// unbalanced tags, and anything past the limits. On failure returns nullopt and sets *error (if given).
std::optional<XmlNode> parse_xml(std::string_view text, std::string* error = nullptr,
                                 const XmlLimits& limits = {});

}  // namespace stratus::protocol
