#pragma once
// Versions and the build fingerprint a plugin and its host must share.

#include "strata/sdk/release.hpp"

/// Major ABI version: a host refuses plugins built against another major.
#define STRATA_SDK_ABI_MAJOR 1
/// Minor ABI version: a host accepts plugins built against its own or an older minor.
#define STRATA_SDK_ABI_MINOR 12
/// Revision of the records that cross the boundary by value (User, Message,
/// KeyRecord, …). Before the first release their layout may still change
/// within ABI 1 (revision 2: the seed's exact columns); it is part of the
/// fingerprint, so a plugin built against another revision is refused at load
/// instead of misreading the records. After a release, such a change is a new major.
#define STRATA_SDK_RECORDS_REVISION 2
/// Human-readable SDK release: Strata's (release.hpp, generated from CMake's project version).
#define STRATA_SDK_VERSION STRATA_VERSION

#define STRATA_SDK_STR_(x) #x
#define STRATA_SDK_STR(x) STRATA_SDK_STR_(x)

#if defined(__clang__)
#define STRATA_SDK_COMPILER_ "clang-" STRATA_SDK_STR(__clang_major__)
#elif defined(__GNUC__)
#define STRATA_SDK_COMPILER_ "gcc-" STRATA_SDK_STR(__GNUC__)
#else
#define STRATA_SDK_COMPILER_ "unknown-compiler"
#endif

#if defined(_GLIBCXX_USE_CXX11_ABI)
#define STRATA_SDK_STDLIB_ "libstdc++-cxx11abi-" STRATA_SDK_STR(_GLIBCXX_USE_CXX11_ABI)
#elif defined(_LIBCPP_VERSION)
#define STRATA_SDK_STDLIB_ "libc++"
#else
#define STRATA_SDK_STDLIB_ "unknown-stdlib"
#endif

// Debug-mode containers change the layout of every std type crossing the boundary.
#if defined(_GLIBCXX_DEBUG)
#define STRATA_SDK_DEBUG_ ";glibcxx-debug"
#else
#define STRATA_SDK_DEBUG_ ""
#endif

/// What must match between host and plugin beyond the ABI version: the SDK
/// passes std::string, std::vector and std::expected across the boundary, so both need one compiler
/// and major version (C++23's std::expected is not ABI-stable across GCC majors yet) and stdlib ABI.
#define STRATA_SDK_FINGERPRINT \
  STRATA_SDK_COMPILER_ ";" STRATA_SDK_STDLIB_ STRATA_SDK_DEBUG_ ";sdk-abi-" STRATA_SDK_STR(STRATA_SDK_ABI_MAJOR) \
  ";records-" STRATA_SDK_STR(STRATA_SDK_RECORDS_REVISION)

namespace strata::sdk {
/// The fingerprint of the code including this header (host or plugin).
inline constexpr const char* build_fingerprint = STRATA_SDK_FINGERPRINT;
}  // namespace strata::sdk
