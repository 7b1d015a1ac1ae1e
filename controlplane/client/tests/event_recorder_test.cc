// The event recorder against a berth server in this process: events are
// written off the caller's thread, a repeat is counted on the first event,
// and a different message makes an event of its own.

#include "controlplane/client/event_recorder.h"

#include <gtest/gtest.h>

#include "controlplane/server/tests/test_server.h"

namespace berth::controlplane::client {
namespace {

namespace bj = boost::json;

TEST_F(ServerTest, EventRecorderCountsRepeatsOnTheFirstEvent) {
  ApiClient api(AdminConfig());
  EventRecorder recorder(AdminConfig(), "test-controller");
  ObjectRef pod{"v1", "Pod", "default", "web-0", "uid-1"};
  recorder.Record(pod, "Warning", "FailedScheduling", "0/1 nodes are available.");
  recorder.Record(pod, "Warning", "FailedScheduling", "0/1 nodes are available.");
  recorder.Record(pod, "Warning", "FailedScheduling", "0/1 nodes are available.");
  recorder.Record(pod, "Normal", "Scheduled", "Successfully assigned default/web-0 to n1");
  recorder.Flush();

  Result<ApiResponse> r = api.Do("GET", "/api/v1/namespaces/default/events");
  ASSERT_TRUE(r.ok() && r->status == 200);
  bj::value list = r->Json();
  std::map<std::string, int64_t> counts;
  for (const bj::value& e : list.at("items").as_array()) {
    EXPECT_EQ(e.at("involvedObject").at("uid"), "uid-1");
    EXPECT_EQ(e.at("source").at("component"), "test-controller");
    counts[std::string(e.at("reason").as_string())] = e.at("count").as_int64();
  }
  EXPECT_EQ(counts, (std::map<std::string, int64_t>{{"FailedScheduling", 3}, {"Scheduled", 1}}));
}

}  // namespace
}  // namespace berth::controlplane::client
