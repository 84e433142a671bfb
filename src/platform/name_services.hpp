// How host names and users are looked up: once, at program start.
//
// A fully static Linux limactl (cmake -DLIMACTL_STATIC=ON) carries its own
// copy of glibc. Its built-in name services are "files" (/etc/passwd,
// /etc/hosts) and "dns" (/etc/resolv.conf); any other module that
// /etc/nsswitch.conf names (systemd, sss, ldap, mdns, myhostname, ...) would
// be dlopen()ed as a shared library built against the machine's shared glibc,
// which a static program cannot host safely: Debian 12's "passwd: files
// systemd" crashes a static getpwuid() for a uid missing from /etc/passwd.
// So the static build asks glibc for the built-in modules only, like Go's
// static binaries; a user known only to LDAP/sssd then falls back to
// $USER/$HOME (platform/user.hpp). Everywhere else this does nothing.
#pragma once

namespace platform {

// Call before any thread starts and before the first lookup.
void configure_name_services();

}  // namespace platform
