// Where a command on the box reaches the running node: its `listen` address, with a
// wildcard address (0.0.0.0, ::) reached on loopback. Used by `outpost drain` and by
// `outpost doctor`'s listen check.
#pragma once

#include <optional>
#include <string>

#include "outpost/config.h"

namespace outpost::app {

struct NodeAddress {
  std::string shown;                   // "127.0.0.1:8080", "[::1]:8080"
  std::string base_url;                // http:// or, with TLS, https:// and `shown`
  std::optional<std::string> ca_file;  // TLS: the node's own certificate
  // False on loopback: the certificate names the box's LAN address, not loopback.
  bool verify_host = true;
};

NodeAddress nodeAddress(const Config& config);

}  // namespace outpost::app
