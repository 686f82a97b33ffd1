#include "clients/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <functional>
#include <stdexcept>

#include "clients/aws_sigv4.h"

namespace outpost::clients {
namespace {

void globalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  });
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

struct BodySink {
  std::string* body;
  std::size_t limit;
  bool overflowed = false;
};

std::size_t writeBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const std::size_t n = size * count;
  if (sink->body->size() + n > sink->limit) {
    sink->overflowed = true;
    return 0;  // makes curl abort the transfer with CURLE_WRITE_ERROR
  }
  sink->body->append(data, n);
  return n;
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
  bool add(const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next == nullptr) return false;
    list = next;
    return true;
  }
};

// Returns the handle to the pool (or closes it) however send() leaves.
class Lease {
 public:
  Lease(void* handle, std::function<void(void*)> release)
      : handle_(handle), release_(std::move(release)) {}
  ~Lease() {
    if (handle_ != nullptr) release_(handle_);
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  CURL* get() const { return handle_; }

 private:
  CURL* handle_;
  std::function<void(void*)> release_;
};

HttpResponse transportFailure(std::string error, bool timed_out = false) {
  HttpResponse response;
  response.call_class = CallClass::kRetriable;
  response.error = std::move(error);
  response.timed_out = timed_out;
  return response;
}

// CURLOPT_HEADERFUNCTION: keeps the Date header of the last answer (after a 100 Continue,
// the final one's). Every call of the node passes here, the product check on the order
// path too: any other header line costs one comparison and no allocation.
std::size_t readHeader(char* data, std::size_t size, std::size_t count, void* user) {
  const std::size_t n = size * count;
  constexpr std::string_view kName = "date:";
  if (n < kName.size() || !equalsIgnoreCase(std::string_view(data, kName.size()), kName)) return n;
  std::string_view value(data + kName.size(), n - kName.size());
  const auto start = value.find_first_not_of(" \t");
  const auto end = value.find_last_not_of(" \t\r\n");
  *static_cast<std::string*>(user) =
      start == std::string_view::npos ? "" : std::string(value.substr(start, end - start + 1));
  return n;
}

// Signs at request.aws_sigv4->signing_time (see clients/aws_sigv4.h): every header the
// request carries is signed, the session token's included.
bool addOwnSignature(const HttpRequest& request, HeaderList& headers) {
  const AwsSigning& aws = *request.aws_sigv4;
  auto carried = request.headers;
  if (!aws.session_token.empty()) carried.emplace_back("X-Amz-Security-Token", aws.session_token);
  const auto signature =
      sigV4Headers(request.method, request.url, carried, request.body, aws, aws.signing_time);
  if (!signature) return false;
  if (!aws.session_token.empty()) headers.add("X-Amz-Security-Token: " + aws.session_token);
  for (const auto& [name, value] : *signature) headers.add(name + ": " + value);
  return true;
}

// CURLOPT_XFERINFOFUNCTION: a non-zero return aborts the transfer.
int abortWhenCancelled(void* cancelled, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return (*static_cast<const std::function<bool()>*>(cancelled))() ? 1 : 0;
}

std::string detail(const char* errbuf, CURLcode code) {
  return errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(code));
}

}  // namespace

const char* toString(CallClass call_class) {
  switch (call_class) {
    case CallClass::kSuccess:
      return "success";
    case CallClass::kRetriable:
      return "retriable";
    case CallClass::kPermanent:
      return "permanent";
  }
  return "unknown";
}

std::optional<std::int64_t> parseHttpDate(const std::string& date) {
  if (date.empty()) return std::nullopt;
  const time_t seconds = curl_getdate(date.c_str(), nullptr);
  if (seconds == -1) return std::nullopt;
  return static_cast<std::int64_t>(seconds) * 1000;
}

CallClass classifyStatus(int status) {
  if (status >= 200 && status <= 299) return CallClass::kSuccess;
  if (status < 100 || status > 599) return CallClass::kRetriable;  // no (valid) HTTP answer
  if (status >= 500 || status == 429 || status == 408) return CallClass::kRetriable;
  // Only the service itself refuses: a 1xx or 3xx (redirects are never followed) comes from
  // something in front of it, a captive portal or a proxy, and is no answer (SPEC §6).
  if (status < 400) return CallClass::kRetriable;
  return CallClass::kPermanent;
}

CurlHttpClient::CurlHttpClient(CurlHttpClientOptions options) : options_(std::move(options)) {
  globalInitOnce();
}

CurlHttpClient::~CurlHttpClient() {
  for (void* handle : idle_) curl_easy_cleanup(handle);
}

void* CurlHttpClient::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      void* handle = idle_.back();
      idle_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void CurlHttpClient::release(void* handle) {
  // Forgets every option (and pointers into the finished call) but keeps the handle's
  // live connections, DNS cache and session cache.
  curl_easy_reset(handle);
  {
    std::lock_guard lock(mutex_);
    if (idle_.size() < options_.max_idle_handles) {
      idle_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(handle);
}

HttpResponse CurlHttpClient::send(const HttpRequest& request) {
  Lease lease(acquire(), [this](void* handle) { release(handle); });
  CURL* curl = lease.get();
  if (curl == nullptr) return transportFailure("could not create a curl handle");

  const long timeout_ms = static_cast<long>(std::max<std::int64_t>(request.timeout_ms, 1));
  const long connect_timeout_ms =
      static_cast<long>(std::max<std::int64_t>(request.connect_timeout_ms, 1));

  HttpResponse response;
  BodySink sink{&response.body, options_.max_body_bytes};
  char errbuf[CURL_ERROR_SIZE] = {};

  HeaderList headers;
  bool has_content_type = false;
  for (const auto& [name, value] : request.headers) {
    if (equalsIgnoreCase(name, "Content-Type")) has_content_type = true;
    // "Name;" is curl's way to send a header with an empty value.
    if (!headers.add(value.empty() ? name + ";" : name + ": " + value)) {
      return transportFailure("out of memory building request headers");
    }
  }
  const bool send_body = !request.body.empty() || request.method == "POST" ||
                         request.method == "PUT" || request.method == "PATCH";
  // (A removed header would be signed by libcurl 7.88's SigV4 too, see "Expect:" below.)
  if (send_body && !has_content_type && !(request.aws_sigv4 && request.body.empty())) {
    // Never curl's default (form-urlencoded) for a body.
    headers.add(request.body.empty() ? "Content-Type:" : "Content-Type: application/json");
  }
  // No 100-continue round trip for larger bodies. Not with SigV4: libcurl 7.88 signs the
  // empty "Expect:" it then removes, and AWS would reject the signature.
  if (!request.aws_sigv4) headers.add("Expect:");

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  if (request.ca_file) curl_easy_setopt(curl, CURLOPT_CAINFO, request.ca_file->c_str());
  if (!request.verify_host) curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  std::string sigv4_provider;
  if (request.aws_sigv4 && !request.aws_sigv4->signing_time.empty()) {
    if (!addOwnSignature(request, headers)) return transportFailure("cannot sign: bad URL");
  } else if (request.aws_sigv4) {
    const AwsSigning& aws = *request.aws_sigv4;
    if (!aws.session_token.empty()) headers.add("X-Amz-Security-Token: " + aws.session_token);
    sigv4_provider = "aws:amz:" + aws.region + ":" + aws.service;
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4_provider.c_str());
    curl_easy_setopt(curl, CURLOPT_USERNAME, aws.access_key_id.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, aws.secret_access_key.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &writeBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &readHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.date);
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options_.max_body_bytes));

  if (request.method == "GET" && request.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    if (send_body) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
    }
    if (request.method != "POST") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }

  if (request.cancelled) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &abortWhenCancelled);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &request.cancelled);
  }

  const CURLcode code = curl_easy_perform(curl);

  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);

  if (code == CURLE_OK) {
    response.call_class = classifyStatus(response.status);
    if (response.call_class != CallClass::kSuccess) {
      response.error = "HTTP " + std::to_string(response.status);
    }
    return response;
  }

  response.body.clear();
  response.call_class = CallClass::kRetriable;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: {
      response.timed_out = true;
      curl_off_t pretransfer_us = 0;
      curl_easy_getinfo(curl, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
      response.error = pretransfer_us > 0
                           ? "timed out after " + std::to_string(timeout_ms) + " ms"
                           : "connect timed out after " +
                                 std::to_string(std::min(timeout_ms, connect_timeout_ms)) + " ms";
      break;
    }
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
      response.error = os_errno == ECONNREFUSED ? std::string("connection refused")
                                                : "could not connect: " + detail(errbuf, code);
      break;
    }
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      response.error = "could not resolve host: " + detail(errbuf, code);
      break;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      response.error = "connection error: " + detail(errbuf, code);
      break;
    case CURLE_GOT_NOTHING:
      response.error = "empty reply from server";
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      response.cancelled = true;
      response.error = "cancelled: the node is stopping";
      break;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
      if (sink.overflowed || code == CURLE_FILESIZE_EXCEEDED) {
        response.error =
            "response body larger than " + std::to_string(options_.max_body_bytes) + " bytes";
      } else {
        response.error = detail(errbuf, code);
      }
      break;
    default:
      // Includes a malformed or unsupported URL: a configuration error, kept retriable
      // so that work waits for the fix instead of failing for good.
      response.error = std::string(curl_easy_strerror(code)) +
                       (errbuf[0] != '\0' ? std::string(": ") + errbuf : std::string());
      break;
  }
  return response;
}

}  // namespace outpost::clients
