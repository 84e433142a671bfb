# Sourced by scripts/build, scripts/build-windows, scripts/package,
# scripts/fuzz and scripts/test: a compiler cache (ccache) shared by all of
# them and kept between runs, so the static package build reuses the
# objects of the normal build (only their link differs) and a fresh clone
# rebuilds quickly.
#
# compiler_cache_setup (in the calling shell, not in a subshell: it exports
# ccache's settings) sets the array cache_args to the CMake arguments, empty
# when ccache is missing or LIMACTL_CCACHE=0.
#   LIMACTL_CCACHE_DIR  the cache (default /var/cache/limactl-ccache when
#                       writable, else ~/.cache/limactl-ccache)
# Hits are shared across build directories and clone locations: paths under
# the repository are hashed relative to it (CCACHE_BASEDIR) and the working
# directory is not hashed (CCACHE_NOHASHDIR). The price: debug info of a
# cached object names the directory it was first compiled in.

compiler_cache_setup() {
  cache_args=()
  [[ ${LIMACTL_CCACHE:-1} != 0 ]] || return 0
  command -v ccache >/dev/null || return 0
  local dir=${LIMACTL_CCACHE_DIR:-}
  if [[ -z $dir ]]; then
    if mkdir -p /var/cache/limactl-ccache 2>/dev/null && [[ -w /var/cache/limactl-ccache ]]; then
      dir=/var/cache/limactl-ccache
    else
      dir=${XDG_CACHE_HOME:-$HOME/.cache}/limactl-ccache
    fi
  fi
  export CCACHE_DIR=$dir CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
  export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
  cache_args=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
}
