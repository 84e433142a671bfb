#include "platform/name_services.hpp"

#if defined(LIMACTL_STATIC_GLIBC)
#include <nss.h>
#endif

namespace platform {

void configure_name_services() {
#if defined(LIMACTL_STATIC_GLIBC)
  // Each names only modules compiled into glibc itself; a failure here
  // (out of memory) leaves glibc's default, so there is nothing to report.
  __nss_configure_lookup("passwd", "files");
  __nss_configure_lookup("group", "files");
  __nss_configure_lookup("hosts", "files dns");
#endif
}

}  // namespace platform
