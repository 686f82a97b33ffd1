// problem+json (RFC 9457): the one place where errors become HTTP answers.
#pragma once

#include <httplib.h>

#include <string>

#include "outpost/result.h"

namespace outpost::http {

inline constexpr const char* kProblemContentType = "application/problem+json";
inline constexpr const char* kJsonContentType = "application/json";

// Seconds a client is told to wait after a 503.
inline constexpr int kRetryAfterSeconds = 5;

int httpStatusFor(ErrorKind kind);

// Writes {"type", "title", "status", "detail"} (+ "errors" for field errors).
void writeProblem(httplib::Response& response, int status, const std::string& detail,
                  const std::vector<FieldError>& fields = {});
void writeError(httplib::Response& response, const Error& error);
// The same with a `type` of its own instead of the status's (503 keeps its Retry-After).
void writeProblemOfType(httplib::Response& response, int status, const std::string& type,
                        const std::string& detail);

// POST /v1/orders while the node drains (SPEC §10).
inline constexpr const char* kDrainingProblemType = "urn:outpost:problem:draining";

// The standard title of a status ("Not Found"); 503 says what the design says.
const char* problemTitle(int status);

}  // namespace outpost::http
