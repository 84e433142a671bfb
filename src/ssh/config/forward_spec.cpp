#include "ssh/config/forward_spec.hpp"

#include <vector>

namespace ssh::config {
namespace {

Error bad(std::string_view text, std::string why) {
  return {DisconnectReason::ByApplication,
          "bad forwarding specification \"" + std::string(text) + "\": " + std::move(why)};
}

// Splits on ':' outside brackets; a bracketed field loses its brackets.
Result<std::vector<std::string>> split_fields(std::string_view text) {
  std::vector<std::string> fields;
  std::size_t i = 0;
  for (;;) {
    std::string field;
    if (i < text.size() && text[i] == '[') {
      const auto close = text.find(']', i);
      if (close == std::string_view::npos) return bad(text, "'[' without ']'");
      field = std::string(text.substr(i + 1, close - i - 1));
      i = close + 1;
      if (i < text.size() && text[i] != ':') return bad(text, "']' not followed by ':'");
    } else {
      const auto colon = text.find(':', i);
      const auto end = colon == std::string_view::npos ? text.size() : colon;
      field = std::string(text.substr(i, end - i));
      if (field.find_first_of("[]") != std::string::npos) {
        return bad(text, "brackets only around a whole address");
      }
      i = end;
    }
    fields.push_back(std::move(field));
    if (i >= text.size()) break;
    ++i;  // the ':'
    if (i == text.size()) return bad(text, "ends with ':'");
  }
  return fields;
}

bool is_socket_path(const std::string& field) {
  return field.find('/') != std::string::npos;
}

bool is_number(const std::string& field) {
  if (field.empty() || field.size() > 5) return false;
  for (char c : field) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Result<std::uint16_t> parse_port(std::string_view text, const std::string& field, bool zero_ok) {
  if (!is_number(field) || std::stoul(field) > 65535) {
    return bad(text, "\"" + field + "\" is not a port number");
  }
  const auto port = static_cast<std::uint16_t>(std::stoul(field));
  if (port == 0 && !zero_ok) return bad(text, "port 0 cannot be connected to");
  return port;
}

Result<ForwardEndpoint> listener(std::string_view text, const std::optional<std::string>& bind,
                                 const std::string& port) {
  ForwardEndpoint endpoint;
  if (bind) endpoint.host = *bind == "*" ? std::string() : *bind;
  auto parsed = parse_port(text, port, true);
  if (!parsed) return parsed.take_error();
  endpoint.port = *parsed;
  return endpoint;
}

Result<ForwardEndpoint> target(std::string_view text, const std::string& host,
                               const std::string& port) {
  if (host.empty()) return bad(text, "no host to connect to");
  ForwardEndpoint endpoint;
  endpoint.host = host;
  auto parsed = parse_port(text, port, false);
  if (!parsed) return parsed.take_error();
  endpoint.port = *parsed;
  return endpoint;
}

ForwardEndpoint socket(const std::string& path) {
  ForwardEndpoint endpoint;
  endpoint.socket_path = path;
  return endpoint;
}

const char* flag(ForwardKind kind) {
  switch (kind) {
    case ForwardKind::Local:
      return "-L";
    case ForwardKind::Remote:
      return "-R";
    case ForwardKind::Dynamic:
      return "-D";
  }
  return "?";
}

std::string host_text(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

std::string ForwardEndpoint::to_string() const {
  if (is_socket()) return socket_path;
  if (!host) return std::to_string(port);
  return (host->empty() ? std::string("*") : host_text(*host)) + ":" + std::to_string(port);
}

std::string ForwardSpec::to_string() const {
  std::string text = std::string(flag(kind)) + " " + listen.to_string();
  if (kind != ForwardKind::Dynamic) text += ":" + connect.to_string();
  return text;
}

Result<ForwardSpec> parse_forward(ForwardKind kind, std::string_view text) {
  auto split = split_fields(text);
  if (!split) return split.take_error();
  const auto& f = *split;
  ForwardSpec spec;
  spec.kind = kind;

  if (kind == ForwardKind::Dynamic) {
    if (f.size() > 2) return bad(text, "want [bind_address:]port");
    if (f.size() == 1 && is_socket_path(f[0])) {
      return bad(text, "dynamic forwarding on a Unix-domain socket is not supported");
    }
    auto listen = f.size() == 2 ? listener(text, f[0], f[1]) : listener(text, std::nullopt, f[0]);
    if (!listen) return listen.take_error();
    spec.listen = std::move(*listen);
    return spec;
  }

  // The listening side: [bind:]port or a socket path; the rest is where to
  // connect: host:hostport or a socket path.
  std::size_t connect_at = 0;
  if (is_socket_path(f[0])) {
    spec.listen = socket(f[0]);
    connect_at = 1;
  } else {
    // "bind:port:..." when the field after the first is a port and the
    // remainder still names a target; otherwise "port:...".
    const std::size_t remaining_after_two = f.size() >= 2 ? f.size() - 2 : 0;
    const bool has_bind =
        f.size() >= 2 && is_number(f[1]) &&
        (remaining_after_two == 2 || (remaining_after_two == 1 && is_socket_path(f[2])));
    auto listen = has_bind ? listener(text, f[0], f[1]) : listener(text, std::nullopt, f[0]);
    if (!listen) return listen.take_error();
    spec.listen = std::move(*listen);
    connect_at = has_bind ? 2 : 1;
  }

  const std::size_t rest = f.size() - connect_at;
  if (rest == 0) {
    if (kind == ForwardKind::Remote) {
      return bad(text, "remote dynamic forwarding (-R [bind_address:]port) is not supported");
    }
    return bad(text, "nothing to connect to");
  }
  if (rest == 1 && is_socket_path(f[connect_at])) {
    spec.connect = socket(f[connect_at]);
  } else if (rest == 2) {
    auto connect = target(text, f[connect_at], f[connect_at + 1]);
    if (!connect) return connect.take_error();
    spec.connect = std::move(*connect);
  } else {
    return bad(text,
               "want [bind_address:]port:host:hostport, with a Unix-domain socket path (a name "
               "with '/') for either side if need be");
  }
  return spec;
}

Result<ForwardSpec> parse_forward_config(ForwardKind kind, std::string_view listen,
                                         std::string_view connect) {
  if (kind == ForwardKind::Dynamic) {
    if (!connect.empty()) return bad(listen, "DynamicForward takes one argument");
    return parse_forward(kind, listen);
  }
  if (connect.empty()) return bad(listen, "want two arguments: the listening and the target side");
  return parse_forward(kind, std::string(listen) + ":" + std::string(connect));
}

}  // namespace ssh::config
