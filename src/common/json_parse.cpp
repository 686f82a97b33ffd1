#include "common/json_parse.h"

#include <cstring>

namespace outpost {
namespace {

using nlohmann::json;

// nlohmann's own DOM builder behind a depth gate: returning false from a SAX event stops
// the parser at once, before the deeper value exists.
class BoundedDomBuilder {
 public:
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  BoundedDomBuilder(json& root, int max_depth) : dom_(root, false), max_depth_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool value) { return dom_.boolean(value); }
  bool number_integer(json::number_integer_t value) { return dom_.number_integer(value); }
  bool number_unsigned(json::number_unsigned_t value) { return dom_.number_unsigned(value); }
  bool number_float(json::number_float_t value, const string_t& text) {
    return dom_.number_float(value, text);
  }
  bool string(string_t& value) { return dom_.string(value); }
  bool binary(binary_t& value) { return dom_.binary(value); }
  bool start_object(std::size_t size) { return enter() && dom_.start_object(size); }
  bool key(string_t& value) {
    if (depth_ == 1) top_key_ = value;
    return dom_.key(value);
  }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t size) { return enter() && dom_.start_array(size); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& token,
                   const nlohmann::detail::exception& error) {
    syntax_error_ = error.what();
    return dom_.parse_error(position, token, error);
  }

  bool tooDeep() const { return too_deep_; }
  // The field a too-deep value sits under: the key at the top level, or the whole body.
  std::string deepField() const { return top_key_.empty() ? "body" : top_key_; }
  // nlohmann's message without its "[json.exception.parse_error.101] " tag.
  std::string syntaxError() const {
    const auto tag_end = syntax_error_.find("] ");
    return tag_end == std::string::npos ? syntax_error_ : syntax_error_.substr(tag_end + 2);
  }

 private:
  bool enter() {
    if (++depth_ <= max_depth_) return true;
    too_deep_ = true;
    return false;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  int max_depth_;
  int depth_ = 0;
  bool too_deep_ = false;
  std::string top_key_;
  std::string syntax_error_;
};

}  // namespace

Result<json> parseJson(std::string_view text, int max_depth) {
  // nlohmann's lexer takes a NUL byte for the end of the input, so "{}\0junk" would pass
  // as "{}". JSON text never holds a raw NUL (not even inside a string).
  if (const void* nul = std::memchr(text.data(), '\0', text.size()); nul != nullptr) {
    const auto at = static_cast<const char*>(nul) - text.data();
    return Error::invalidArgument("a NUL byte at offset " + std::to_string(at));
  }
  json root;
  BoundedDomBuilder builder(root, max_depth);
  const bool parsed = json::sax_parse(text.data(), text.data() + text.size(), &builder,
                                      nlohmann::detail::input_format_t::json, true);
  if (builder.tooDeep()) {
    return Error::invalidFields(
        {{builder.deepField(), "nests deeper than " + std::to_string(max_depth) + " levels"}});
  }
  if (!parsed) return Error::invalidArgument(builder.syntaxError());
  return root;
}

json parseJsonOrDiscarded(std::string_view text) {
  auto parsed = parseJson(text);
  return parsed ? std::move(*parsed) : json(json::value_t::discarded);
}

}  // namespace outpost
