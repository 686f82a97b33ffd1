// The bodies of the fuzz targets (SPEC §8 hardening): what each does with one input, and
// the properties it checks. The libFuzzer mains call them; corpus_test.cpp runs every
// file of the committed corpus through them in the normal test build, so the cases found
// once stay checked under every sanitizer. A broken property aborts.
#pragma once

#include <cstddef>
#include <cstdint>

namespace outpost::fuzz {

// Feeds the bytes to http::RequestParser in pieces (the first byte picks their size and
// the limits) as a connection would, request after request (pipelining). Checks: feed()
// uses at most what it is given and always moves on, a refusal is a 4xx that says why, no
// body is over the limit, and a complete request's normalized form (what cpp-httplib
// reads) parses again to the same request line, keep-alive and body.
void requestParserInput(const std::uint8_t* data, std::size_t size);

// Parses the bytes as a request body (parseJson), and what parses as an order
// (orders::parseNewOrder). Checks: what is taken nests at most kMaxJsonDepth levels, and
// serializing it parses back to the same value.
void jsonBodyInput(const std::uint8_t* data, std::size_t size);

// Reads the bytes after the first as the query string of a list page, as cpp-httplib
// does, then with parsePageQuery; the first byte picks the page's rules (orders, outbox,
// reviews). Checks: a taken page has a limit from 1 to kMaxPageSize (the last one sent, or
// the default) and a status and cursor its rules take; a refusal names every bad
// parameter once; the page read again from its canonical form (every byte
// percent-encoded) is the same.
void queryStringInput(const std::uint8_t* data, std::size_t size);

// Gives the bytes, as the request reader hands them over (inputs it refuses, such as
// a NUL, are skipped), as the value of Authorization, Idempotency-Key and Content-Type.
// Checks: a bearer token is the rest of the value after the scheme (in any case) and
// round-trips; a taken Idempotency-Key is the value itself, 1 to 255 characters of UTF-8
// (isValidUtf8 agrees with nlohmann::json's own check); whether a body is taken as JSON
// depends on the media type alone, not its case or parameters.
void headerValuesInput(const std::uint8_t* data, std::size_t size);

// Loads a configuration (loadConfig) from the bytes: the file's text up to the first NUL
// (no file when it is empty), then NAME=value lines of the environment. Checks: no
// exception; a refusal is one "config: " line and never shows a rejected secret; a taken
// configuration is within the documented ranges, and loads the same from the environment
// alone when the file's values are given as OUTPOST_* variables.
void configInput(const std::uint8_t* data, std::size_t size);

// The answer targets: the first two bytes are the HTTP status (big-endian, modulo 1000;
// 0: no answer at all), the third picks the call, the rest is the body; the answer comes
// from a scripted HttpClient. Each checks that nothing throws and that nothing counts as
// done unless a 2xx answer said so.
//
// SNS (the XML of Publish and PublishBatch, 1 to 10 messages) and the XML reader itself:
// one outcome per message; an entry succeeds exactly when it has no error, and its error
// is valid UTF-8 (it becomes the event's lastError, which GET /v1/outbox writes as JSON);
// xmlText is valid UTF-8 and reads back what was escaped into an element.
void snsAnswerInput(const std::uint8_t* data, std::size_t size);
// SQS (the JSON of SendMessage and SendMessageBatch, 1 to 10 messages): as for SNS.
void sqsAnswerInput(const std::uint8_t* data, std::size_t size);
// The product service's availability answer for 0 to 3 products: a success names every
// product asked about; anything else holds no product and says why.
void productAnswerInput(const std::uint8_t* data, std::size_t size);
// The delivery service's answer to initiate, status or cancel: a success carries the
// delivery id (and CANCELLED for a cancel); 404 and only 404 is "no such delivery"; a 2xx
// is never a permanent refusal.
void deliveryAnswerInput(const std::uint8_t* data, std::size_t size);

}  // namespace outpost::fuzz
