# Cross-compiles for 64-bit Windows with Debian's mingw-w64 (posix threads
# flavour: std::thread and std::mutex need winpthreads).
#
#   cmake -S . -B build-windows \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake \
#     -DLIMACTL_WINDOWS_DEPS="/path/to/botan;/path/to/yaml-cpp;..."
#
# LIMACTL_WINDOWS_DEPS lists install prefixes (each with include/ and lib/)
# of the third-party libraries built for Windows; scripts/build-windows
# builds them into a cache outside the repository and passes them here.
# Nothing from the build machine's /usr/include or /usr/lib is searched.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(LIMACTL_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${LIMACTL_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${LIMACTL_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${LIMACTL_MINGW_TRIPLE}-windres)
set(CMAKE_AR ${LIMACTL_MINGW_TRIPLE}-gcc-ar-posix CACHE FILEPATH "")
set(CMAKE_RANLIB ${LIMACTL_MINGW_TRIPLE}-gcc-ranlib-posix CACHE FILEPATH "")

# try_compile() projects re-read this file without the cache: take the list
# from the environment there, and hand it on explicitly.
if(NOT LIMACTL_WINDOWS_DEPS AND DEFINED ENV{LIMACTL_WINDOWS_DEPS})
  set(LIMACTL_WINDOWS_DEPS "$ENV{LIMACTL_WINDOWS_DEPS}")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES LIMACTL_WINDOWS_DEPS)

# The mingw sysroot (C runtime, Win32 import libraries, libz-mingw-w64-dev)
# and our own prefixes; never the host's /usr.
set(CMAKE_FIND_ROOT_PATH /usr/${LIMACTL_MINGW_TRIPLE} ${LIMACTL_WINDOWS_DEPS})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
