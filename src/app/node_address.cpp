#include "app/node_address.h"

namespace outpost::app {

NodeAddress nodeAddress(const Config& config) {
  std::string host = config.listen_host;
  const bool wildcard = host.empty() || host == "0.0.0.0" || host == "::";
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  NodeAddress address;
  address.shown = host + ":" + std::to_string(config.listen_port);
  address.base_url = (config.usesTls() ? "https://" : "http://") + address.shown;
  if (config.usesTls()) address.ca_file = config.tls.cert_file;
  address.verify_host = !(wildcard || config.listensOnLoopback());
  return address;
}

}  // namespace outpost::app
