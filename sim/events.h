// S3 event notifications to a webhook: after each ObjectCreated:* and
// ObjectRemoved:Delete the simulator POSTs an AWS-format event
// ({"Records":[{eventVersion 2.1, eventSource aws:s3, s3.bucket, s3.object
// {key URL-encoded as AWS does, size, eTag, sequencer}}]}), asynchronously.
//
// Bounded: events wait in a queue of `queue_limit`; when it is full new ones
// are dropped and counted (stats "events": sent/failed/dropped/retried). Each
// POST has a 5 s deadline and is retried up to 3 times with backoff. Plain
// HTTP only. With a token, every POST carries "X-Ferry-Token: <token>".
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "protocols/base/body.h"
#include "protocols/base/status.h"
#include "sim/services.h"

namespace ferry::sim {

// The JSON document for one event (exposed for tests).
std::string EventJson(const ObjectEvent& e, std::string_view region, std::uint64_t sequence);
// AWS's encoding of keys in events: form encoding, '/' kept, ' ' as '+'.
std::string EventKeyEncode(std::string_view key);

class EventNotifier final : public EventSink {
 public:
  // `url` is "http://host:port/path".
  static Result<std::unique_ptr<EventNotifier>> Create(boost::asio::io_context& ioc,
                                                       Services& svc, const std::string& url,
                                                       std::string token, std::size_t queue_limit);
  EventNotifier(boost::asio::io_context& ioc, Services& svc, std::string host, std::string port,
                std::string path, std::string token, std::size_t queue_limit);

  void Publish(ObjectEvent e) override;
  void Start();  // spawns the sender on the io_context
  void Stop();

 private:
  io::Task<void> Run();
  io::Task<bool> PostOnce(const std::string& body);

  boost::asio::io_context& ioc_;
  Services& svc_;
  const std::string host_, port_, path_, token_;
  const std::size_t limit_;
  boost::asio::steady_timer wake_;  // cancelled to wake the sender

  std::mutex mu_;
  std::deque<std::string> queue_;  // GUARDED_BY(mu_): ready JSON bodies
  std::uint64_t sequence_ = 0;     // GUARDED_BY(mu_)
  bool stopped_ = false;           // GUARDED_BY(mu_)
};

}  // namespace ferry::sim
