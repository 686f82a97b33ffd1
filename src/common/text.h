// Small text helpers shared across layers: timestamps, digests, identifiers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "outpost/clock.h"

namespace outpost {

// RFC 3339 UTC with milliseconds: 2026-11-25T22:27:14.123Z.
std::string formatTimestamp(std::int64_t unix_millis);

// Lower-case hex SHA-256 of `data`.
std::string sha256Hex(std::string_view data);

// A random (version 4) UUID.
std::string newUuid(Random& random);

// Number of Unicode code points in valid UTF-8 text.
std::size_t utf8Length(std::string_view text);

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing past U+10FFFF).
bool isValidUtf8(std::string_view text);

// `text` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD, for text
// from outside that is kept and later written as JSON.
std::string toValidUtf8(std::string_view text);

// Compares without an early exit, so the time taken says nothing about a secret.
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace outpost
