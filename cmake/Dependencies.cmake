# Every dependency comes from Debian 12 packages (scripts/bootstrap installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS headers system)
find_package(OpenSSL 3 REQUIRED)
find_package(pugixml REQUIRED CONFIG)
find_package(nlohmann_json REQUIRED CONFIG)
find_package(spdlog REQUIRED CONFIG)
find_package(yaml-cpp REQUIRED CONFIG)
find_package(CLI11 REQUIRED CONFIG)
find_package(RocksDB REQUIRED CONFIG)
find_package(PkgConfig REQUIRED)
pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
if(FERRY_BUILD_TESTS)
  find_package(GTest REQUIRED CONFIG)
endif()
if(FERRY_BUILD_BENCH)
  find_package(benchmark REQUIRED CONFIG)
endif()

# Asio: coroutines, io_uring for files (the file backend), no deprecated APIs.
add_library(ferry_asio INTERFACE)
target_link_libraries(ferry_asio INTERFACE Boost::headers Boost::system
                      OpenSSL::SSL OpenSSL::Crypto PkgConfig::URING Threads::Threads)
target_compile_definitions(ferry_asio INTERFACE
  BOOST_ASIO_HAS_IO_URING
  BOOST_ASIO_NO_DEPRECATED
  BOOST_BEAST_USE_STD_STRING_VIEW)
