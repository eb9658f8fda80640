#include "tests/support/rgw_conf.h"

#include <sstream>

namespace ferry::testing {

std::string MonitorAddress(std::uint16_t port) {
  return "[v2:127.0.0.1:" + std::to_string(port) + "]";
}

std::string CephConf(const CephConfParams& p) {
  const std::string& d = p.dir;
  std::ostringstream o;
  o << "# Written by ferry's tests (tests/support/rgw_conf.cc): a throwaway cluster.\n"
    << "[global]\n"
    << "fsid = " << p.fsid << "\n"
    << "mon_host = " << MonitorAddress(p.mon_port) << "\n"
    << "public_addr = 127.0.0.1\n"
    << "cluster_addr = 127.0.0.1\n"
    << "ms_bind_msgr1 = false\n"
    << "ms_bind_msgr2 = true\n"
    << "ms_bind_port_min = " << p.osd_port_min << "\n"
    << "ms_bind_port_max = " << p.osd_port_max << "\n"
    << "auth_cluster_required = cephx\n"
    << "auth_service_required = cephx\n"
    << "auth_client_required = cephx\n";
  // Everything the daemons and tools write stays under the directory (the
  // monitor's cluster log would go to /var/log/ceph by default).
  o << "keyring = " << d << "/keyring\n"
    << "run_dir = " << d << "/run\n"
    << "log_file = " << d << "/log/$cluster-$name.log\n"
    << "crash_dir = " << d << "/crash\n"
    << "mon_cluster_log_file = default=" << d << "/log/$cluster.$channel.log cluster=" << d
    << "/log/$cluster.log\n";
  // One OSD: pools of one replica, few placement groups, no autoscaler.
  o << "osd_pool_default_size = 1\n"
    << "osd_pool_default_min_size = 1\n"
    << "osd_pool_default_pg_num = 8\n"
    << "osd_pool_default_pgp_num = 8\n"
    << "osd_pool_default_pg_autoscale_mode = off\n"
    << "osd_crush_chooseleaf_type = 0\n"
    << "mon_allow_pool_size_one = true\n"
    << "mon_warn_on_pool_no_redundancy = false\n"
    // A nearly full disk must not keep a throwaway monitor from starting.
    << "mon_data_avail_warn = 2\n"
    << "mon_data_avail_crit = 1\n";
  o << "[mon]\n"
    << "mon_data = " << d << "/mon/$cluster-$id\n"
    << "paxos_propose_interval = 0.05\n"  // commits every 50 ms: a fast start
    << "err_to_stderr = false\n";         // errors are in the log, tests' stderr stays clean
  o << "[osd]\n"
    << "osd_data = " << d << "/osd/$cluster-$id\n"
    << "osd_objectstore = bluestore\n"
    << "bluestore_block_create = true\n"
    << "bluestore_block_size = " << (20ull << 30) << "\n"  // a sparse file
    << "bluestore_fsck_on_mkfs = false\n"
    << "bluestore_fsck_on_mount = false\n"
    // Small and fixed memory: no cache autotuning towards a 4 GiB target,
    // RocksDB write buffers of 16 MiB instead of 256.
    << "bluestore_cache_autotune = false\n"
    << "bluestore_cache_size = " << (64u << 20) << "\n"
    << "osd_memory_target = " << (512u << 20) << "\n"
    << "bluestore_rocksdb_options = compression=kNoCompression,max_write_buffer_number=2,"
       "min_write_buffer_number_to_merge=1,recycle_log_file_num=2,write_buffer_size=16777216,"
       "writable_file_max_buffer_size=0,compaction_readahead_size=2097152,"
       "max_background_compactions=1,max_total_wal_size=67108864\n"
    // Start-up speed: every op shard opens the block device once, and each
    // close waits out one aio poll (250 ms by default): about 2 s saved.
    << "osd_op_num_shards = 1\n"
    << "osd_op_num_threads_per_shard = 2\n"
    << "bdev_aio_poll_ms = 20\n"
    // TERM ends the OSD at once instead of telling a monitor that may
    // already be gone (a 5 s wait).
    << "osd_fast_shutdown = true\n"
    << "osd_fast_shutdown_notify_mon = false\n"
    << "err_to_stderr = false\n";
  o << "[client.rgw]\n"
    << "rgw_data = " << d << "/rgw\n"
    << "rgw_frontends = beast endpoint=127.0.0.1:" << p.s3_port << "\n"
    << "rgw_dns_name = localhost\n"   // virtual-hosted style: BUCKET.localhost:PORT
    << "rgw_thread_pool_size = 32\n"  // 512 by default
    << "rgw_multipart_min_part_size = " << p.min_part_size << "\n"
    << "debug_rgw = 1\n";  // one line per request in the log
  if (p.echo_rgw_log) {
    o << "log_to_stderr = true\n"
      << "err_to_stderr = true\n";
  } else {
    o << "err_to_stderr = false\n";
  }
  if (!p.kms_key_id.empty()) {
    // SSE-KMS (and SSE-C) over plain HTTP with one fixed key; these cannot
    // change once radosgw runs.
    o << "rgw_crypt_s3_kms_backend = testing\n"
      << "rgw_crypt_s3_kms_encryption_keys = " << p.kms_key_id << "=" << p.kms_key_base64 << "\n"
      << "rgw_crypt_require_ssl = false\n";
  }
  return o.str();
}

}  // namespace ferry::testing
