#include "http/problem.h"

#include <nlohmann/json.hpp>

namespace outpost::http {

int httpStatusFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
      return 400;
    case ErrorKind::kNotFound:
      return 404;
    case ErrorKind::kConflict:
      return 409;
    case ErrorKind::kUnprocessable:
      return 422;
    case ErrorKind::kUnavailable:
      return 503;
    case ErrorKind::kInternal:
      return 500;
  }
  return 500;
}

const char* problemTitle(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "System temporarily unavailable";
    default:
      return status >= 500 ? "Server Error" : "Client Error";
  }
}

namespace {

std::string problemType(int status) {
  switch (status) {
    case 400:
      return "urn:outpost:problem:invalid-request";
    case 401:
      return "urn:outpost:problem:unauthorized";
    case 404:
      return "urn:outpost:problem:not-found";
    case 405:
      return "urn:outpost:problem:method-not-allowed";
    case 408:
      return "urn:outpost:problem:request-timeout";
    case 409:
      return "urn:outpost:problem:conflict";
    case 413:
      return "urn:outpost:problem:body-too-large";
    case 414:
      return "urn:outpost:problem:uri-too-long";
    case 415:
      return "urn:outpost:problem:unsupported-media-type";
    case 417:
      return "urn:outpost:problem:expectation-failed";
    case 422:
      return "urn:outpost:problem:unprocessable";
    case 431:
      return "urn:outpost:problem:headers-too-large";
    case 503:
      return "urn:outpost:problem:unavailable";
    default:
      return "about:blank";
  }
}

void writeProblemBody(httplib::Response& response, int status, const std::string& type,
                      const std::string& detail, const std::vector<FieldError>& fields) {
  nlohmann::json body = {
      {"type", type}, {"title", problemTitle(status)}, {"status", status}, {"detail", detail}};
  if (!fields.empty()) {
    auto& errors = body["errors"] = nlohmann::json::array();
    for (const auto& field : fields)
      errors.push_back({{"field", field.field}, {"detail", field.detail}});
  }
  if (status == 503) response.set_header("Retry-After", std::to_string(kRetryAfterSeconds));
  response.status = status;
  response.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                       kProblemContentType);
}

}  // namespace

void writeProblem(httplib::Response& response, int status, const std::string& detail,
                  const std::vector<FieldError>& fields) {
  writeProblemBody(response, status, problemType(status), detail, fields);
}

void writeProblemOfType(httplib::Response& response, int status, const std::string& type,
                        const std::string& detail) {
  writeProblemBody(response, status, type, detail, {});
}

void writeError(httplib::Response& response, const Error& error) {
  const int status = httpStatusFor(error.kind);
  // An internal error's message may carry SQL or paths; the log has it, the client not.
  writeProblem(response, status,
               status == 500 ? "unexpected error; see the node's log" : error.message,
               error.fields);
}

}  // namespace outpost::http
