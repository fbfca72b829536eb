// The bridge's HTTP server (Boost.Beast): one connection at a time, each with
// a deadline, so a client that stalls cannot hold the bridge.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <iostream>
#include <memory>

#include "bridge.hpp"

namespace ccci {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kConnectionDeadline = std::chrono::seconds(20);
constexpr std::uint64_t kBodyLimit = std::uint64_t{4} * 1024 * 1024;  // Gitea's payloads are a few kB

tcp::endpoint parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw std::runtime_error("--listen " + listen + ": expected HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = listen.substr(colon + 1);
  unsigned short port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port_text.empty())
    throw std::runtime_error("--listen " + listen + ": \"" + port_text + "\" is not a port");
  boost::system::error_code bad;
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, bad);
  if (bad) throw std::runtime_error("--listen " + listen + ": \"" + host + "\" is not an IP address");
  return {address, port};
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Bridge& bridge) : stream_(std::move(socket)), bridge_(bridge) {
    parser_.body_limit(kBodyLimit);
  }

  void start() {
    stream_.expires_after(kConnectionDeadline);
    http::async_read(
        stream_, buffer_, parser_,
        [self = shared_from_this()](beast::error_code error, std::size_t) { self->on_read(error); });
  }

 private:
  void on_read(beast::error_code error) {
    if (error == http::error::body_limit) return answer({413, "refused: the body is over 4 MiB"}, 11);
    if (error) return close();  // gone, timed out or not HTTP: nothing to answer
    const auto& request = parser_.get();
    WebhookDelivery delivery{.method = std::string(request.method_string()),
                             .path = std::string(request.target()),
                             .body = request.body()};
    if (const auto query = delivery.path.find('?'); query != std::string::npos) delivery.path.resize(query);
    for (const auto& field : request) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      delivery.headers.emplace(std::move(name), std::string(field.value()));
    }
    const BridgeAnswer answered = bridge_.handle(delivery);
    if (delivery.path == "/hook") {
      const auto id = delivery.headers.find("x-gitea-delivery");
      std::cerr << "cc-ci bridge: " << (id == delivery.headers.end() ? "delivery" : "delivery " + id->second)
                << ": " << answered.status << " " << answered.text << std::endl;
    }
    answer(answered, request.version());
  }

  void answer(const BridgeAnswer& answered, unsigned version) {
    response_ = http::response<http::string_body>(static_cast<http::status>(answered.status), version);
    response_.set(http::field::server, "cc-ci-bridge");
    response_.set(http::field::content_type, "text/plain; charset=utf-8");
    response_.keep_alive(false);
    response_.body() = answered.text + "\n";
    response_.prepare_payload();
    stream_.expires_after(kConnectionDeadline);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code, std::size_t) { self->close(); });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> response_;
  Bridge& bridge_;
};

void accept_next(tcp::acceptor& acceptor, Bridge& bridge) {
  acceptor.async_accept([&acceptor, &bridge](beast::error_code error, tcp::socket socket) {
    if (!error) std::make_shared<Connection>(std::move(socket), bridge)->start();
    if (acceptor.is_open()) accept_next(acceptor, bridge);
  });
}

}  // namespace

void serve_bridge(const std::string& listen, Bridge& bridge,
                  const std::function<void(const std::string&)>& on_listening) {
  const tcp::endpoint endpoint = parse_listen(listen);
  asio::io_context io;  // one thread: deliveries are handled one after another
  tcp::acceptor acceptor(io);
  try {
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
  } catch (const boost::system::system_error& error) {
    throw std::runtime_error("--listen " + listen + ": " + error.code().message());
  }
  const tcp::endpoint bound = acceptor.local_endpoint();
  const std::string address =
      bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
  on_listening(address + ":" + std::to_string(bound.port()));
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](beast::error_code, int) { io.stop(); });
  accept_next(acceptor, bridge);
  io.run();
}

}  // namespace ccci
