#include "cli/app.hpp"
#include "platform/name_services.hpp"

int main(int argc, char** argv) {
  platform::configure_name_services();
  return cli::run_limactl(argc, argv);
}
