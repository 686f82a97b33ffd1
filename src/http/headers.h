// The request header values the node interprets besides the framing (request_parser.h)
// and Content-Type (readJsonBody, query.h): Authorization's bearer token and
// Idempotency-Key. Values arrive as sent (guarded_server.cpp), never percent-decoded.
#pragma once

#include <httplib.h>

#include <optional>
#include <string>

#include "outpost/result.h"

namespace outpost::http {

// The token of "Authorization: Bearer <token>", exactly as sent; the scheme's name is
// case-insensitive (RFC 9110 §11.1). Empty when the header is missing or another scheme.
std::string bearerToken(const httplib::Request& request);

// The Idempotency-Key, if any; an Error if it is present but unusable.
Result<std::optional<std::string>> readIdempotencyKey(const httplib::Request& request);

}  // namespace outpost::http
