// Runs client coroutines for the tests: an io_context on two threads (so the
// client's locking and strands are exercised), and helpers that wait for a
// result with a hard bound so a broken client fails a test instead of
// hanging the suite.
#pragma once

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>
#include <vector>

#include "protocols/http/client.h"

namespace ferry::http::testing {

class ClientRig {
 public:
  ClientRig() : work_(io_.get_executor()) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~ClientRig() {
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  boost::asio::any_io_executor executor() { return io_.get_executor(); }

  std::shared_ptr<Client> MakeClient(const std::string& url, ClientOptions options = {}) {
    auto parsed = Url::Parse(url);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    auto client = Client::Create(executor(), *parsed, std::move(options));
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? *client : nullptr;
  }

  template <typename T>
  std::future<T> Start(io::Task<T> task) {
    return boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future);
  }

  // Waits for `f`; aborts the test binary if it takes longer than `bound`.
  template <typename T>
  static T Wait(std::future<T>& f, std::chrono::seconds bound = std::chrono::seconds(60)) {
    if (f.wait_for(bound) != std::future_status::ready) {
      ADD_FAILURE() << "client call did not finish within " << bound.count() << " s";
      std::abort();
    }
    return f.get();
  }

  template <typename T>
  T Run(io::Task<T> task, std::chrono::seconds bound = std::chrono::seconds(60)) {
    auto f = Start(std::move(task));
    return Wait(f, bound);
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

inline Request MakeRequest(boost::beast::http::verb method, std::string target,
                           io::BodySource* body = nullptr) {
  Request r;
  r.method = method;
  r.target = std::move(target);
  r.body = body;
  r.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  r.progress_timeout = std::chrono::seconds(10);
  return r;
}

}  // namespace ferry::http::testing
