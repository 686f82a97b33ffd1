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

// The standard title of a status ("Not Found"); 503 says what the design says.
const char* problemTitle(int status);

}  // namespace outpost::http
