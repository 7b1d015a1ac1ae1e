#include "agent/server/tests/tls_forwarder.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/testing/testkit.h"

namespace berth::agent::kubelet::testing {
namespace {

template <class T, class F>
T* FromPem(const std::string& pem, F read) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  T* out = read(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return out;
}

}  // namespace

TlsForwarder::TlsForwarder(uint16_t target_port, const pki::Credential& client)
    : target_port_(target_port) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  X509* cert = FromPem<X509>(client.cert_pem, PEM_read_bio_X509);
  EVP_PKEY* key = FromPem<EVP_PKEY>(client.key_pem, PEM_read_bio_PrivateKey);
  SSL_CTX_use_certificate(ctx_, cert);
  SSL_CTX_use_PrivateKey(ctx_, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);  // the server's name is not under test
  Result<UniqueFd> l = berth::testing::ListenLoopback(&port_);
  if (l.ok()) listener_ = std::move(*l);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) == 0) {
    wake_read_.reset(p[0]);
    wake_write_.reset(p[1]);
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TlsForwarder::~TlsForwarder() {
  stopping_ = true;
  (void)::write(wake_write_.get(), "x", 1);
  acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_)
      ::shutdown(fd, SHUT_RDWR);
  }
  for (std::thread& t : threads_)
    t.join();
  SSL_CTX_free(ctx_);
}

void TlsForwarder::AcceptLoop() {
  while (!stopping_) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) <= 0 || fds[1].revents != 0) return;
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    open_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void TlsForwarder::Serve(int client_fd) {
  UniqueFd client(client_fd);
  Result<UniqueFd> target = berth::testing::ConnectLoopback(target_port_);
  if (!target.ok()) return;
  {
    std::lock_guard lock(mu_);
    open_fds_.push_back(target->get());
  }
  SSL* ssl = SSL_new(ctx_);
  SSL_set_fd(ssl, target->get());
  if (SSL_connect(ssl) == 1) {
    char buf[16384];
    for (;;) {
      bool from_tls = SSL_pending(ssl) > 0;
      bool from_client = false;
      if (!from_tls) {
        pollfd fds[2] = {{client.get(), POLLIN, 0}, {target->get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) <= 0) break;
        from_client = fds[0].revents != 0;
        from_tls = fds[1].revents != 0;
      }
      if (from_client) {
        ssize_t n = ::recv(client.get(), buf, sizeof buf, 0);
        if (n <= 0 || SSL_write(ssl, buf, static_cast<int>(n)) <= 0) break;
      }
      if (from_tls) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) {
          if (SSL_get_error(ssl, n) == SSL_ERROR_WANT_READ) continue;
          break;
        }
        if (!berth::testing::SendAll(client.get(), std::string_view(buf, static_cast<size_t>(n))))
          break;
      }
    }
  }
  SSL_free(ssl);
  std::lock_guard lock(mu_);
  std::erase(open_fds_, client_fd);
  std::erase(open_fds_, target->get());
}

BurstTlsClient::BurstTlsClient(uint16_t port, const pki::Credential& client) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  X509* cert = FromPem<X509>(client.cert_pem, PEM_read_bio_X509);
  EVP_PKEY* key = FromPem<EVP_PKEY>(client.key_pem, PEM_read_bio_PrivateKey);
  SSL_CTX_use_certificate(ctx_, cert);
  SSL_CTX_use_PrivateKey(ctx_, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  Result<UniqueFd> fd = berth::testing::ConnectLoopback(port);
  if (!fd.ok()) return;
  fd_ = std::move(*fd);
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_.get());
  connected_ = SSL_connect(ssl_) == 1;
}

BurstTlsClient::~BurstTlsClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  SSL_CTX_free(ctx_);
}

bool BurstTlsClient::SendRecords(const std::vector<std::string>& pieces) {
  // Records go to memory first, then to the socket in one piece.
  BIO* memory = BIO_new(BIO_s_mem());
  BIO* socket_bio = SSL_get_wbio(ssl_);
  BIO_up_ref(socket_bio);
  SSL_set0_wbio(ssl_, memory);
  bool ok = true;
  for (const std::string& p : pieces)
    ok = ok && SSL_write(ssl_, p.data(), static_cast<int>(p.size())) > 0;
  char* data = nullptr;
  long n = BIO_get_mem_data(memory, &data);  // NOLINT(google-runtime-int): OpenSSL's type
  ok = ok && berth::testing::SendAll(fd_.get(), std::string_view(data, static_cast<size_t>(n)));
  SSL_set0_wbio(ssl_, socket_bio);
  return ok;
}

std::string BurstTlsClient::ReadUntil(const std::function<bool(const std::string&)>& done,
                                      int timeout_millis) {
  std::string out;
  char buf[16384];
  while (!done(out)) {
    if (SSL_has_pending(ssl_) == 0) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, timeout_millis) <= 0) break;
    }
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace berth::agent::kubelet::testing
