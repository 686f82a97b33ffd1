// AWS Signature Version 4 computed by outpost, for a request signed at a time other than
// the local clock's (SPEC §11 clock skew). libcurl 7.88 signs with an X-Amz-Date the
// caller sets, but then sends that header twice (curl issue #11738, fixed in 8.3.0), and
// AWS reads a repeated header as one value joined by commas, which the signature does not
// cover. So when the node signs with a corrected time it signs here, what libcurl would
// (the same canonical request: Host, every header the request carries, X-Amz-Date), and
// sends each header once. Pure functions; never logs the secret.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "clients/http_client.h"

namespace outpost::clients {

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

// Milliseconds since the epoch as SigV4 writes a time: "20261207T120000Z" (UTC).
std::string amzDate(std::int64_t epoch_ms);

// The headers that sign `headers` + `body` for `method` `url` as at `amz_date`: Host
// (unless `headers` has one), X-Amz-Date and Authorization, to send beside `headers`.
// nullopt when the URL cannot be read.
std::optional<HeaderPairs> sigV4Headers(const std::string& method, const std::string& url,
                                        const HeaderPairs& headers, const std::string& body,
                                        const AwsSigning& aws, const std::string& amz_date);

}  // namespace outpost::clients
