// The ceph.conf of a throwaway Ceph RGW cluster (rgw.h): one monitor, one
// bluestore OSD, radosgw as client.rgw, everything they write under one
// directory, memory kept small and start-up fast. A pure function, so what
// each setting is for is said in one place (rgw_conf.cc).
#pragma once

#include <cstdint>
#include <string>

namespace ferry::testing {

struct CephConfParams {
  std::string dir;   // holds keyring, run/, log/, crash/, mon/, osd/, rgw/
  std::string fsid;  // a UUID
  std::uint16_t mon_port = 0;
  std::uint16_t s3_port = 0;
  std::uint16_t osd_port_min = 0;  // where the OSD binds its messenger
  std::uint16_t osd_port_max = 0;
  std::uint64_t min_part_size = 5ull << 20;
  bool echo_rgw_log = false;   // radosgw also logs to stderr
  std::string kms_key_id;      // "" = no SSE-KMS testing key
  std::string kms_key_base64;  // 32 bytes, base64
};

// "[v2:127.0.0.1:PORT]": the monitor's address (msgr2 only).
std::string MonitorAddress(std::uint16_t port);

std::string CephConf(const CephConfParams& p);

}  // namespace ferry::testing
