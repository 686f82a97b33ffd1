// Parsing JSON that someone else wrote (a request body, a dependency's answer) with the
// bounds SPEC §8 sets: at most kMaxJsonDepth levels of nesting, checked while parsing so
// no deep document is ever built, and exactly one value (whitespace may follow it,
// nothing else). Everything that later walks a parsed value (dump, copy, compare)
// recurses at most that deep. Stateless: safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "outpost/result.h"

namespace outpost {

inline constexpr int kMaxJsonDepth = 64;

// kInvalidArgument when `text` is not one JSON value or nests deeper than `max_depth`.
// A document too deep names the top-level key it sits under as the error's field
// ("metadata"), or "body" when the document itself is an array.
Result<nlohmann::json> parseJson(std::string_view text, int max_depth = kMaxJsonDepth);

// The same bounds for a dependency's answer, where only "usable or not" matters: a
// discarded value (is_discarded(), and neither object nor array) when parseJson fails.
nlohmann::json parseJsonOrDiscarded(std::string_view text);

}  // namespace outpost
