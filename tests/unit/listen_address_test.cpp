// Specification of the listen option shared by every plugin that serves a
// socket (signals/support/listen_address.hpp, asio_acceptor.hpp).
#include <gtest/gtest.h>

#include <signals/support/asio_acceptor.hpp>
#include <signals/support/listen_address.hpp>

namespace {

using signals::support::ListenAddress;
using signals::support::OpenAcceptor;
using signals::support::ParseListenAddress;

TEST(ListenAddressTest, ParsesHostAndPortIncludingBracketedIpv6AndPortZero) {
  ListenAddress a;
  EXPECT_EQ(ParseListenAddress("127.0.0.1:8080", &a), "");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 8080);
  EXPECT_EQ(ParseListenAddress("[::1]:9464", &a), "");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 9464);
  EXPECT_EQ(ParseListenAddress("0.0.0.0:0", &a), "");
  EXPECT_EQ(a.port, 0);
  EXPECT_EQ(ParseListenAddress("127.0.0.1:65535", &a), "");
  EXPECT_EQ(a.port, 65535);
}

TEST(ListenAddressTest, RefusesAPortThatIsNotOnlyDigitsOrTooLarge) {
  ListenAddress a;
  EXPECT_EQ(ParseListenAddress("127.0.0.1:8080abc", &a), "listen: '8080abc' is not a port");
  EXPECT_EQ(ParseListenAddress("127.0.0.1:", &a), "listen: '' is not a port");
  EXPECT_EQ(ParseListenAddress("127.0.0.1:65536", &a), "listen: '65536' is not a port");
  EXPECT_EQ(ParseListenAddress("127.0.0.1:-1", &a), "listen: '-1' is not a port");
  EXPECT_EQ(ParseListenAddress("127.0.0.1: 80", &a), "listen: ' 80' is not a port");
  EXPECT_EQ(ParseListenAddress("127.0.0.1:000080", &a), "listen: '000080' is not a port");
  EXPECT_EQ(ParseListenAddress("localhost", &a), "listen must be host:port, got 'localhost'");
}

TEST(ListenAddressTest, OpenAcceptorBindsAnEphemeralPortAndNamesWhatIsWrong) {
  boost::asio::io_context io;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
  ASSERT_EQ(OpenAcceptor(io, "127.0.0.1:0", &acceptor), "");
  ASSERT_TRUE(acceptor);
  EXPECT_NE(acceptor->local_endpoint().port(), 0);
  std::unique_ptr<boost::asio::ip::tcp::acceptor> other;
  EXPECT_EQ(OpenAcceptor(io, "localhost:0", &other), "listen: 'localhost' is not an IP address");
  EXPECT_EQ(OpenAcceptor(io, "127.0.0.1:8080abc", &other), "listen: '8080abc' is not a port");
  const std::string taken = "127.0.0.1:" + std::to_string(acceptor->local_endpoint().port());
  EXPECT_NE(OpenAcceptor(io, taken, &other).find("cannot listen on " + taken + ": "), std::string::npos);
  EXPECT_FALSE(other);
}

}  // namespace
