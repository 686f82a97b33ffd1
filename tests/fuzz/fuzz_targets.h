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

}  // namespace outpost::fuzz
