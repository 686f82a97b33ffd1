#include "clients/aws_xml.h"

#include <charconv>
#include <cstdint>

#include "common/text.h"

namespace outpost::clients {
namespace {

// "<" + name, or "</" + name + ">". Appended piece by piece: GCC 12 at -O3 reports a
// false -Wrestrict for `"<" + std::string(name)`.
std::string tag(std::string_view opening, std::string_view name, std::string_view closing) {
  std::string text;
  text.reserve(opening.size() + name.size() + closing.size());
  text.append(opening).append(name).append(closing);
  return text;
}

struct Found {
  std::string_view content;
  std::size_t end = std::string_view::npos;  // just past the element
};

// The opening tag "<name" must be followed by '>', '/' or white space, so that looking
// for <Id> does not find <IdList>.
std::optional<Found> findElement(std::string_view xml, std::string_view name, std::size_t from) {
  const std::string open = tag("<", name, "");
  for (std::size_t at = xml.find(open, from); at != std::string_view::npos;
       at = xml.find(open, at + 1)) {
    const std::size_t after_name = at + open.size();
    if (after_name >= xml.size()) return std::nullopt;
    const char next = xml[after_name];
    if (next != '>' && next != '/' && next != ' ' && next != '\t' && next != '\n' && next != '\r') {
      continue;
    }
    const std::size_t tag_end = xml.find('>', after_name);
    if (tag_end == std::string_view::npos) return std::nullopt;
    if (xml[tag_end - 1] == '/') return Found{{}, tag_end + 1};  // <name/>
    const std::string close = tag("</", name, ">");
    const std::size_t close_at = xml.find(close, tag_end + 1);
    if (close_at == std::string_view::npos) return std::nullopt;
    return Found{xml.substr(tag_end + 1, close_at - tag_end - 1), close_at + close.size()};
  }
  return std::nullopt;
}

void appendUtf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// Decodes one reference (the text between '&' and ';'); false if it is not one we know.
bool decodeReference(std::string_view reference, std::string& out) {
  static constexpr std::pair<std::string_view, char> kNamed[] = {
      {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
  for (const auto& [entity, character] : kNamed) {
    if (reference == entity) {
      out += character;
      return true;
    }
  }
  if (reference.size() < 2 || reference[0] != '#') return false;
  const bool hex = reference[1] == 'x' || reference[1] == 'X';
  const std::string_view digits = reference.substr(hex ? 2 : 1);
  std::uint32_t code_point = 0;
  const auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), code_point, hex ? 16 : 10);
  if (error != std::errc() || end != digits.data() + digits.size() || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return false;
  }
  appendUtf8(out, code_point);
  return true;
}

}  // namespace

std::optional<std::string_view> xmlElement(std::string_view xml, std::string_view name) {
  auto found = findElement(xml, name, 0);
  if (!found) return std::nullopt;
  return found->content;
}

std::vector<std::string_view> xmlElements(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> contents;
  std::size_t from = 0;
  while (auto found = findElement(xml, name, from)) {
    contents.push_back(found->content);
    from = found->end;
  }
  return contents;
}

std::string xmlText(std::string_view xml, std::string_view name) {
  const auto content = xmlElement(xml, name);
  if (!content) return "";
  std::string text;
  text.reserve(content->size());
  for (std::size_t i = 0; i < content->size(); ++i) {
    const char c = (*content)[i];
    const std::size_t semicolon = c == '&' ? content->find(';', i) : std::string_view::npos;
    if (semicolon != std::string_view::npos &&
        decodeReference(content->substr(i + 1, semicolon - i - 1), text)) {
      i = semicolon;
      continue;
    }
    text += c;
  }
  return toValidUtf8(text);
}

}  // namespace outpost::clients
