// The bridge's HTTP server (Boost.Beast). The io thread accepts, reads and
// answers; deliveries are handled one after another on a worker thread, so
// that a slow Gitea or CI engine never holds GET /health, while two
// deliveries for one commit still cannot both start a build. Connections are
// few and short-lived: a client that sends nothing cannot keep a slot from
// the next one, nor make the accept loop spin when descriptors run out.
#include <sys/resource.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <iostream>
#include <list>
#include <memory>
#include <thread>

#include "forge/bridge.hpp"

namespace ccci {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Gitea sends a delivery at once; a client slower than this is not Gitea.
constexpr auto kRequestDeadline = std::chrono::seconds(10);
constexpr auto kWriteDeadline = std::chrono::seconds(20);
constexpr std::uint64_t kBodyLimit = std::uint64_t{4} * 1024 * 1024;  // Gitea's payloads are a few kB
// Open connections at most. Gitea sends one delivery at a time per webhook;
// the rest are health checks, so a few dozen leave room for both.
constexpr std::size_t kMaxConnections = 64;
// Deliveries read and waiting for the worker (or in its hands) at most; the
// slots beyond them are for requests still being read, which can always be
// closed to make room, so GET /health gets one however the rest are used.
constexpr std::size_t kMaxWaitingDeliveries = 16;
// Descriptors kept for what the worker opens (Gitea and engine calls, the
// state file) and what the process holds anyway.
constexpr rlim_t kReservedDescriptors = 32;
// Accepting again at once after an error that has not gone away (no
// descriptor left and none to free) would only fail again at once.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(250);

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

// The connection cap, lowered when the process may open fewer descriptors
// than the cap plus the reserve (a systemd LimitNOFILE, a ulimit).
std::size_t connection_cap() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return kMaxConnections;
  if (limit.rlim_cur <= kReservedDescriptors + 2) return 2;
  return std::min<std::size_t>(kMaxConnections, limit.rlim_cur - kReservedDescriptors);
}

void log_line(const std::string& line) {
  // One write, so that lines of the io and worker threads never interleave.
  std::cerr << line + "\n" << std::flush;
}

class Connection;

// What the io thread keeps about all connections; touched only on it.
class Server {
 public:
  Server(asio::io_context& io, tcp::acceptor& acceptor, Bridge& bridge, asio::io_context& worker)
      : acceptor_(acceptor), backoff_(io), bridge_(bridge), worker_(worker), cap_(connection_cap()) {}

  void accept_next();
  // Closes the connection that has waited longest for its request; false
  // when every open connection is past reading.
  bool close_oldest_reader();

  Bridge& bridge() { return bridge_; }
  asio::io_context& worker() { return worker_; }
  std::list<std::weak_ptr<Connection>>& readers() { return readers_; }
  std::size_t open = 0;                // connections accepted and not closed
  std::size_t waiting_deliveries = 0;  // posted to the worker and not answered

 private:
  void on_accept_error(const boost::system::error_code& error);

  tcp::acceptor& acceptor_;
  asio::steady_timer backoff_;
  bool backing_off_ = false;
  Bridge& bridge_;
  asio::io_context& worker_;
  std::size_t cap_;
  std::list<std::weak_ptr<Connection>> readers_;  // oldest first
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Server& server) : stream_(std::move(socket)), server_(server) {
    parser_.body_limit(kBodyLimit);
  }

  void start() {
    server_.readers().push_back(weak_from_this());
    reader_entry_ = std::prev(server_.readers().end());
    reading_ = true;
    stream_.expires_after(kRequestDeadline);
    http::async_read(
        stream_, buffer_, parser_,
        [self = shared_from_this()](beast::error_code error, std::size_t) { self->on_read(error); });
  }

  // Called by the server, which has already taken it off the readers' list.
  void close_reader() {
    reading_ = false;
    close();
  }

 private:
  void on_read(beast::error_code error) {
    stop_reading();
    if (closed_) return;
    if (error == http::error::body_limit) return answer({413, "refused: the body is over 4 MiB"}, 11);
    if (error) return close();  // gone, timed out, closed for room, or not HTTP: nothing to answer
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
    const unsigned version = request.version();
    if (auto direct = Bridge::answer_directly(delivery)) {
      if (delivery.path == "/hook") log_line(log_text(delivery, *direct));
      return answer(*direct, version);
    }
    if (server_.waiting_deliveries >= kMaxWaitingDeliveries) {
      const BridgeAnswer busy{503, "busy: " + std::to_string(kMaxWaitingDeliveries) +
                                       " deliveries are waiting already; redeliver it later"};
      log_line(log_text(delivery, busy));
      return answer(busy, version);
    }
    ++server_.waiting_deliveries;
    stream_.expires_never();  // the worker's Gitea and engine calls have their own timeouts
    asio::post(server_.worker(), [self = shared_from_this(), home = stream_.get_executor(),
                                  delivery = std::move(delivery), version] {
      BridgeAnswer answered = self->server_.bridge().handle(delivery);
      log_line(log_text(delivery, answered));
      asio::post(home, [self, answered = std::move(answered), version] {
        --self->server_.waiting_deliveries;
        self->answer(answered, version);
      });
    });
  }

  static std::string log_text(const WebhookDelivery& delivery, const BridgeAnswer& answered) {
    auto id = delivery.headers.find("x-gitea-delivery");
    if (id == delivery.headers.end()) id = delivery.headers.find("x-forgejo-delivery");
    return "cc-ci bridge: " +
           (id == delivery.headers.end() ? "delivery" : "delivery " + id->second.substr(0, 100)) + ": " +
           std::to_string(answered.status) + " " + answered.text;
  }

  void answer(const BridgeAnswer& answered, unsigned version) {
    if (closed_) return;
    response_ = http::response<http::string_body>(static_cast<http::status>(answered.status), version);
    response_.set(http::field::server, "cc-ci-bridge");
    response_.set(http::field::content_type, "text/plain; charset=utf-8");
    response_.keep_alive(false);
    response_.body() = answered.text + "\n";
    response_.prepare_payload();
    stream_.expires_after(kWriteDeadline);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code, std::size_t) { self->close(); });
  }

  void stop_reading() {
    if (!reading_) return;
    reading_ = false;
    server_.readers().erase(reader_entry_);
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    stop_reading();
    --server_.open;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();  // the descriptor is free now, not when the last handler lets go
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> response_;
  Server& server_;
  std::list<std::weak_ptr<Connection>>::iterator reader_entry_;
  bool reading_ = false;
  bool closed_ = false;
};

bool Server::close_oldest_reader() {
  while (!readers_.empty()) {
    const std::shared_ptr<Connection> oldest = readers_.front().lock();
    readers_.pop_front();
    if (oldest) {
      oldest->close_reader();
      return true;
    }
  }
  return false;
}

void Server::accept_next() {
  acceptor_.async_accept([this](beast::error_code error, tcp::socket socket) {
    if (!acceptor_.is_open()) return;
    if (error) return on_accept_error(error);
    backing_off_ = false;
    // Full: make room by closing the connection that has waited longest for
    // its request (a client that sends nothing cannot hold a slot); when
    // every slot is a delivery being handled or answered, turn this one away.
    if (open >= cap_ && !close_oldest_reader()) {
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      ++open;
      std::make_shared<Connection>(std::move(socket), *this)->start();
    }
    accept_next();
  });
}

void Server::on_accept_error(const boost::system::error_code& error) {
  // Out of descriptors, the connection stays in the kernel's queue and the
  // next accept fails the same way at once: free one, or wait a little.
  const bool out_of_descriptors = error == asio::error::no_descriptors ||
                                  error == asio::error::no_buffer_space || error == asio::error::no_memory ||
                                  error == boost::system::errc::too_many_files_open_in_system;
  if (out_of_descriptors && close_oldest_reader()) return accept_next();
  if (!backing_off_)
    log_line("cc-ci bridge: accepting a connection failed: " + error.message() + "; retrying");
  backing_off_ = true;
  backoff_.expires_after(kAcceptBackoff);
  backoff_.async_wait([this](beast::error_code cancelled) {
    if (!cancelled) accept_next();
  });
}

}  // namespace

void serve_bridge(const std::string& listen, Bridge& bridge,
                  const std::function<void(const std::string&)>& on_listening) {
  const tcp::endpoint endpoint = parse_listen(listen);
  asio::io_context io(1);
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

  // The worker: one thread, so deliveries are handled one after another.
  asio::io_context worker(1);
  auto keep_working = asio::make_work_guard(worker);
  std::thread worker_thread([&worker] { worker.run(); });
  Server server(io, acceptor, bridge, worker);

  on_listening(address + ":" + std::to_string(bound.port()));
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](beast::error_code, int) { io.stop(); });
  server.accept_next();
  try {
    io.run();
  } catch (...) {
    worker.stop();
    worker_thread.join();
    throw;
  }
  // A delivery in the worker's hands finishes (its calls have timeouts); the
  // ones still queued are dropped unanswered, and Gitea shows them failed.
  keep_working.reset();
  worker.stop();
  worker_thread.join();
}

}  // namespace ccci
