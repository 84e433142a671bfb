// What the commands that act on one existing instance (start, stop) share:
// their -v/--debug flags and finding the instance.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "vm/instance_store.hpp"

namespace cli {

// -v/--verbose (counted) and --debug (the same as one -v).
void add_verbosity_flags(CLI::App& command, int& verbosity);

// The instance NAME under home. Throws std::runtime_error with what to do
// when the name is not valid or there is no such instance.
vm::InstancePaths existing_instance(const vm::LimaHome& home, const std::string& name);

}  // namespace cli
