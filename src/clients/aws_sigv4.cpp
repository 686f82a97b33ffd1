#include "clients/aws_sigv4.h"

#include <curl/curl.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <memory>

namespace outpost::clients {
namespace {

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

std::string hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0x0f];
  }
  return out;
}

std::string sha256Hex(const std::string& data) {
  Digest digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return hex(digest.data(), digest.size());
}

Digest hmac(const void* key, std::size_t key_size, const std::string& data) {
  Digest digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key, static_cast<int>(key_size),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(), &length);
  return digest;
}

Digest hmac(const Digest& key, const std::string& data) {
  return hmac(key.data(), key.size(), data);
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// SigV4's canonical value: no leading or trailing blanks, inner runs of blanks as one space.
std::string canonicalValue(const std::string& value) {
  std::string out;
  bool blank = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      blank = !out.empty();
      continue;
    }
    if (blank) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

struct UrlParts {
  std::string host;  // as the Host header carries it: with the port unless the scheme's own
  std::string path;
  std::string query;
};

std::optional<std::string> urlPart(CURLU* url, CURLUPart part, unsigned int flags = 0) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, flags) != CURLUE_OK) return std::nullopt;
  std::string out(text);
  curl_free(text);
  return out;
}

std::optional<UrlParts> splitUrl(const std::string& text) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), &curl_url_cleanup);
  if (!url || curl_url_set(url.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  auto host = urlPart(url.get(), CURLUPART_HOST);
  if (!host) return std::nullopt;
  if (const auto port = urlPart(url.get(), CURLUPART_PORT, CURLU_NO_DEFAULT_PORT)) {
    *host += ":" + *port;
  }
  return UrlParts{*host, urlPart(url.get(), CURLUPART_PATH).value_or("/"),
                  urlPart(url.get(), CURLUPART_QUERY).value_or("")};
}

}  // namespace

std::string amzDate(std::int64_t epoch_ms) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[17] = {};
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

std::optional<HeaderPairs> sigV4Headers(const std::string& method, const std::string& url,
                                        const HeaderPairs& headers, const std::string& body,
                                        const AwsSigning& aws, const std::string& amz_date) {
  const auto parts = splitUrl(url);
  if (!parts) return std::nullopt;
  HeaderPairs added;
  std::vector<std::pair<std::string, std::string>> canonical;
  bool has_host = false;
  for (const auto& [name, value] : headers) {
    canonical.emplace_back(lowercase(name), canonicalValue(value));
    has_host = has_host || canonical.back().first == "host";
  }
  if (!has_host) {
    added.emplace_back("Host", parts->host);
    canonical.emplace_back("host", parts->host);
  }
  added.emplace_back("X-Amz-Date", amz_date);
  canonical.emplace_back("x-amz-date", amz_date);
  std::sort(canonical.begin(), canonical.end());

  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : canonical) {
    canonical_headers += name + ":" + value + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + name;
  }
  const std::string canonical_request = method + "\n" + parts->path + "\n" + parts->query + "\n" +
                                        canonical_headers + "\n" + signed_headers + "\n" +
                                        sha256Hex(body);
  const std::string day = amz_date.substr(0, 8);
  const std::string scope = day + "/" + aws.region + "/" + aws.service + "/aws4_request";
  const std::string to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + sha256Hex(canonical_request);
  const std::string secret = "AWS4" + aws.secret_access_key;
  Digest key = hmac(secret.data(), secret.size(), day);
  key = hmac(key, aws.region);
  key = hmac(key, aws.service);
  key = hmac(key, "aws4_request");
  const Digest signature = hmac(key, to_sign);
  added.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + aws.access_key_id + "/" +
                                          scope + ", SignedHeaders=" + signed_headers +
                                          ", Signature=" + hex(signature.data(), signature.size()));
  return added;
}

}  // namespace outpost::clients
