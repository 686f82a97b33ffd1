// Just enough XML for the answers of AWS query-protocol services (SNS): their bodies are
// machine-written, without comments, CDATA or same-named nested elements, and we read a
// few known elements out of them. Not a general XML parser.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::clients {

// The content of the first <name>...</name> element in `xml` (an opening tag may carry
// attributes); nullopt when there is none or it is not closed. <name/> has empty content.
std::optional<std::string_view> xmlElement(std::string_view xml, std::string_view name);

// The contents of every <name> element in `xml`, in order.
std::vector<std::string_view> xmlElements(std::string_view xml, std::string_view name);

// The element's text with the five predefined entities and numeric character
// references decoded; "" when the element is missing. Always valid UTF-8 (it ends up in
// the outbox's lastError, written as JSON): a byte that is not is replaced by U+FFFD, and a
// reference to a surrogate is left as it is.
std::string xmlText(std::string_view xml, std::string_view name);

}  // namespace outpost::clients
